"""Atomic batches: every operation type written together, each account guarded once for its
net outflow, refusals that write nothing and name their operation, netting, and replays."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.domain import limits
from ledger.domain.errors import (
    AccountInactive,
    IdempotencyKeyReused,
    InsufficientFunds,
    LedgerError,
    LedgerMismatch,
    NotFound,
    ValidationError,
)
from ledger.domain.model import EntryKind, EntryStatus, Line, Side
from ledger.service import Ledger

from .helpers import (
    NothingWritten,
    all_accounts,
    missing_account_id,
    new_book,
    open_account,
    posted_totals_by_currency,
)

Operation = dict[str, Any]


def _transfer(source: str, target: str, amount: str) -> Operation:
    return {
        "type": "transfer",
        "from_account_id": source,
        "to_account_id": target,
        "amount": amount,
    }


def _preset(kind: str, account_id: str, amount: str, **extra: Any) -> Operation:
    return {"type": kind, "account_id": account_id, "amount": amount, **extra}


def test_a_batch_of_every_operation_type_is_written_as_one(ledger: Ledger, book: str) -> None:
    # GIVEN an empty wallet, a friend, a shop, a bank and a EUR wallet
    wallet, friend = open_account(ledger, book), open_account(ledger, book)
    shop = open_account(ledger, book, type="revenue")
    bank = open_account(ledger, book, type="asset")
    euros = open_account(ledger, book, currency="EUR")
    operations = [
        _preset("deposit", wallet.id, "50.00", counterparty_account_id=bank.id),
        _preset("refund", wallet.id, "5.00"),
        _preset("withdrawal", wallet.id, "10.00"),
        _preset("spend", wallet.id, "7.00", counterparty_account_id=shop.id),
        _transfer(wallet.id, friend.id, "8.00"),
        _preset("hold", wallet.id, "4.00", expires_in=600),
        {
            "type": "escrow",
            "buyer_account_id": wallet.id,
            "seller_account_id": friend.id,
            "amount": "6.00",
        },
        {
            "type": "conversion",
            "from_account_id": wallet.id,
            "to_account_id": euros.id,
            "from_amount": "10.00",
            "to_amount": "9.00",
        },
        {
            "type": "entry",
            "lines": [
                {"account_id": bank.id, "side": "debit", "amount": "2.00"},
                {"account_id": friend.id, "side": "credit", "amount": "2.00", "currency": "USD"},
            ],
            "description": "interest",
            "reference": "int-1",
            "metadata": {"rate": "0.5"},
        },
    ]
    # WHEN they are sent as one batch
    result = ledger.batch(operations)
    # THEN one entry per operation, in order, each of its operation's kind
    kinds = [entry.kind for entry in result.entries]
    assert kinds == [
        EntryKind.DEPOSIT,
        EntryKind.REFUND,
        EntryKind.WITHDRAWAL,
        EntryKind.SPEND,
        EntryKind.TRANSFER,
        EntryKind.HOLD,
        EntryKind.ESCROW,
        EntryKind.CONVERSION,
        EntryKind.ENTRY,
    ]
    pending = {EntryKind.HOLD, EntryKind.ESCROW}
    statuses = [entry.status for entry in result.entries]
    assert statuses == [EntryStatus.PENDING if k in pending else EntryStatus.POSTED for k in kinds]
    assert (result.items_saved, result.replayed) == (0, False)
    raw = result.entries[-1]
    assert (raw.description, raw.reference, raw.metadata) == ("interest", "int-1", {"rate": "0.5"})
    # AND the ledger stores exactly those entries
    stored = ledger.list_entries(book, limit=limits.page_size_max).items
    assert {entry.id: entry for entry in stored} == {entry.id: entry for entry in result.entries}
    # AND every account moved once, by the sum of its operations: the wallet got 55.00,
    # paid out 35.00 and has 10.00 pending in a hold (4.00) and an escrow (6.00)
    balance = ledger.get_balance(wallet.id)
    assert (balance.posted, balance.pending_out, balance.available) == (2000, 1000, 1000)
    assert (balance.held, balance.escrowed, balance.version) == (400, 600, 1)
    others = {account.id: ledger.get_balance(account.id) for account in (friend, shop, bank, euros)}
    assert [(b.posted, b.pending_in, b.version) for b in others.values()] == [
        (1000, 600, 1),
        (700, 0, 1),
        (5200, 0, 1),
        (900, 0, 1),
    ]
    # AND the hold and the escrow it created resolve like any other
    ledger.confirm_hold(result.entries[5].id, "3.00")
    ledger.release_escrow(result.entries[6].id)
    balance = ledger.get_balance(wallet.id)
    assert (balance.posted, balance.pending_out, balance.held, balance.escrowed) == (1100, 0, 0, 0)
    assert ledger.get_balance(friend.id).posted == 1600
    # AND each currency balances on its own
    totals = posted_totals_by_currency(all_accounts(ledger, book, page_size=20))
    assert all(debits == credits for debits, credits in totals.values()), totals


def test_each_account_is_guarded_once_for_its_net_outflow(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a wallet that may not overdraw, holding 10.00
    wallet = open_account(ledger, book)
    ledger.deposit(wallet.id, "10.00")
    # WHEN one batch spends 15.00 and deposits 5.00
    ledger.batch([_preset("spend", wallet.id, "15.00"), _preset("deposit", wallet.id, "5.00")])
    # THEN it is accepted: its net outflow is exactly what the wallet held, in one update
    balance = ledger.get_balance(wallet.id)
    assert (balance.posted, balance.total_in, balance.total_out) == (0, 1500, 1500)
    assert balance.version == 2
    # WHEN the next batch deposits 5.00 and spends 5.01
    operations = [_preset("deposit", wallet.id, "5.00"), _preset("spend", wallet.id, "5.01")]
    with nothing_written(), pytest.raises(InsufficientFunds) as caught:
        ledger.batch(operations)
    # THEN all of it is refused, the deposit too, naming the spend that takes the wallet
    # past its floor, with its own amount and what the wallet could spend before it
    assert caught.value.details == {"account_id": wallet.id, "operation_index": 1}
    assert caught.value.message == (
        f"account {wallet.id} cannot cover 5.01 USD in operation 1: it could spend 5.00 USD"
    )


def test_a_refusal_names_the_operation_from_which_the_account_stays_short(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a wallet holding 10.00
    wallet = open_account(ledger, book)
    ledger.deposit(wallet.id, "10.00")
    # WHEN a batch dips below its floor and recovers, then holds 7.00 and spends 9.00
    operations = [
        _preset("spend", wallet.id, "15.00"),
        _preset("deposit", wallet.id, "10.00"),
        _preset("hold", wallet.id, "7.00"),
        _preset("spend", wallet.id, "9.00"),
    ]
    with nothing_written(), pytest.raises(InsufficientFunds) as caught:
        ledger.batch(operations)
    # THEN the hold is named, from which the wallet stays short, with its own amount and
    # what the wallet could spend before it
    assert caught.value.details == {"account_id": wallet.id, "operation_index": 2}
    assert caught.value.message == (
        f"account {wallet.id} cannot cover 7.00 USD in operation 2: it could spend 5.00 USD"
    )


def test_a_refused_batch_writes_nothing_and_names_its_operation(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a wallet with 10.00, an empty payee, a suspended account, an account in
    # another ledger and an id no account has
    wallet, payee, frozen = (open_account(ledger, book) for _ in range(3))
    foreign = open_account(ledger, new_book(ledger))
    ledger.deposit(wallet.id, "10.00")
    ledger.update_account(frozen.id, status="suspended")
    never = missing_account_id(book)
    good = _preset("deposit", payee.id, "1.00")
    unopened = [missing_account_id(book) for _ in range(70)]
    too_many_items = [_transfer(unopened[2 * i], unopened[2 * i + 1], "1") for i in range(34)]
    conversion = {
        "type": "conversion",
        "from_account_id": wallet.id,
        "to_account_id": payee.id,
        "from_amount": "1",
        "to_amount": "1",
    }
    # (case, operations, error, operation_index, account_id or field)
    cases: list[tuple[str, list[Operation], type[LedgerError], int | None, str | None]] = [
        (
            "more than held",
            [good, good, _preset("spend", wallet.id, "10.01")],
            InsufficientFunds,
            2,
            wallet.id,
        ),
        (
            "suspended",
            [good, _transfer(wallet.id, frozen.id, "1.00"), good],
            AccountInactive,
            1,
            frozen.id,
        ),
        ("never opened", [good, _preset("deposit", never, "1.00")], NotFound, 1, None),
        (
            "moved first by an earlier operation",
            [_transfer(wallet.id, payee.id, "1.00"), _preset("spend", payee.id, "1.01")],
            InsufficientFunds,
            1,
            payee.id,
        ),
        (
            "other ledger",
            [good, good, _transfer(wallet.id, foreign.id, "1.00")],
            LedgerMismatch,
            2,
            foreign.id,
        ),
        ("unknown field", [good, {**good, "memo": "x"}], ValidationError, 1, "memo"),
        ("one-currency conversion", [good, conversion], ValidationError, 1, "to_account_id"),
        ("no operations", [], ValidationError, None, "operations"),
        (
            "too many operations",
            [good] * (limits.batch_operations_max + 1),
            ValidationError,
            None,
            "operations",
        ),
        ("too many items", too_many_items, ValidationError, None, "operations"),
    ]
    for case, operations, error_type, index, detail in cases:
        # WHEN the batch is sent
        with nothing_written(), pytest.raises(error_type) as caught:
            ledger.batch(operations)
        # THEN it is refused with its own code and wrote nothing
        details = caught.value.details
        # AND the refusal names the operation it concerns, and its field or account
        assert details.get("operation_index") == index, case
        if error_type is ValidationError:
            assert details["field"] == detail, case
        elif detail is not None:
            assert details["account_id"] == detail, case
    assert ledger.get_balance(payee.id).version == 0


def test_netting_writes_one_transfer_per_pair_for_the_net_amount(ledger: Ledger, book: str) -> None:
    # GIVEN Alice with 40.00, Bob and Carol
    alice, bob, carol = (open_account(ledger, book) for _ in range(3))
    ledger.deposit(alice.id, "40.00")
    operations = [
        _transfer(alice.id, bob.id, "30.00"),
        _preset("deposit", carol.id, "1.00"),
        _transfer(bob.id, alice.id, "10.00"),
        _transfer(alice.id, bob.id, "5.00"),
        _transfer(carol.id, alice.id, "0.50"),
        _transfer(alice.id, carol.id, "0.50"),
    ]
    # WHEN the batch is sent with netting
    result = ledger.batch(operations, net=True)
    # THEN Alice -> Bob became one transfer of 25.00 in the first one's place, Carol's
    # pair cancelled out, and four entries were saved
    netted, deposit = result.entries
    assert netted.lines == (
        Line(alice.id, Side.DEBIT, 2500, "USD"),
        Line(bob.id, Side.CREDIT, 2500, "USD"),
    )
    assert deposit.kind is EntryKind.DEPOSIT
    assert result.items_saved == 4
    # AND only those two entries were written, and the balances are those of the batch
    stored = ledger.list_entries(book, limit=10).items
    assert len(stored) == 3
    assert {netted.id, deposit.id} <= {entry.id for entry in stored}
    balances = [ledger.get_balance(account.id) for account in (alice, bob, carol)]
    assert [(b.posted, b.version) for b in balances] == [(1500, 2), (2500, 1), (100, 1)]


def test_a_batch_netted_to_nothing_writes_nothing(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN Alice with 5.00 and Bob
    alice, bob = open_account(ledger, book), open_account(ledger, book)
    ledger.deposit(alice.id, "5.00")
    # WHEN a batch of transfers that cancel out is sent with netting
    with nothing_written():
        result = ledger.batch(
            [_transfer(alice.id, bob.id, "5.00"), _transfer(bob.id, alice.id, "5.00")], net=True
        )
    # THEN it succeeds with no entry, both saved
    assert (result.entries, result.items_saved, result.replayed) == ([], 2, False)


def test_a_batch_sent_again_with_its_key_is_replayed(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN Alice with 20.00 and Bob, and a batch sent with a key
    alice, bob = open_account(ledger, book), open_account(ledger, book)
    ledger.deposit(alice.id, "20.00")
    operations = [
        _transfer(alice.id, bob.id, "5.00"),
        _preset("spend", alice.id, "1.00"),
        _preset("hold", bob.id, "2.00"),
    ]
    first = ledger.batch(operations, idempotency_key="payroll-1")
    # WHEN the same batch comes again with the key, and then changed ones do
    with nothing_written():
        again = ledger.batch(operations, idempotency_key="payroll-1")
        with pytest.raises(IdempotencyKeyReused):
            ledger.batch(operations[:2], idempotency_key="payroll-1")
        with pytest.raises(IdempotencyKeyReused):
            ledger.batch(operations, net=True, idempotency_key="payroll-1")
    # THEN the same batch is a replay of the same entries; the changed ones are refused
    assert (first.replayed, again.replayed) == (False, True)
    assert [entry.id for entry in again.entries] == [entry.id for entry in first.entries]
    assert [entry.lines for entry in again.entries] == [entry.lines for entry in first.entries]
    assert again.entries[2].status is EntryStatus.PENDING
    # AND the money moved once
    assert ledger.get_balance(alice.id).posted == 1400
    assert ledger.get_balance(bob.id).available == 300


def test_a_refused_batch_does_not_use_up_its_key(ledger: Ledger, book: str) -> None:
    # GIVEN Alice with 1.00 and Bob
    alice, bob = open_account(ledger, book), open_account(ledger, book)
    ledger.deposit(alice.id, "1.00")
    operations = [_transfer(alice.id, bob.id, "5.00")]
    # WHEN a keyed batch is refused, Alice is funded, and the batch is sent again
    with pytest.raises(InsufficientFunds):
        ledger.batch(operations, idempotency_key="retry-me")
    ledger.deposit(alice.id, "4.00")
    result = ledger.batch(operations, idempotency_key="retry-me")
    # THEN the second attempt is written, not replayed
    assert result.replayed is False
    assert ledger.get_balance(bob.id).posted == 500
