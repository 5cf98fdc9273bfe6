"""Reversals on every store: a mirrored entry linked both ways, at most once, with every
guard still applied; entries created pending are voided, not reversed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledger.domain.errors import (
    AccountInactive,
    AlreadyReversed,
    InsufficientFunds,
    LedgerError,
    NotFound,
    NotPending,
    ValidationError,
)
from ledger.domain.ids import new_entry_id
from ledger.domain.model import EntryKind, EntryStatus, Line, Side
from ledger.service import Ledger, LineInput

from .checks import assert_invariants, refused
from .helpers import Backend, NothingWritten, open_account


def _pair(ledger: Ledger, book: str) -> tuple[str, str]:
    """A wallet of 100.00 and an empty payee."""
    wallet, payee = open_account(ledger, book).id, open_account(ledger, book).id
    ledger.deposit(wallet, "100.00")
    return wallet, payee


def test_a_reversal_mirrors_the_entry_and_links_both_ways(
    ledger: Ledger, book: str, backend: Backend
) -> None:
    # GIVEN a transfer of 30.00 with a reference
    wallet, payee = _pair(ledger, book)
    original = ledger.transfer(wallet, payee, "30.00", reference="inv-9", description="rent")
    # WHEN reversing it
    reversal = ledger.reverse_entry(original.id, description="wrong payee")
    # THEN a new posted entry of kind reversal has every side swapped
    assert reversal.id != original.id
    assert (reversal.kind, reversal.status, reversal.replayed) == (
        EntryKind.REVERSAL,
        EntryStatus.POSTED,
        False,
    )
    assert reversal.lines == (
        Line(wallet, Side.CREDIT, 3000, "USD"),
        Line(payee, Side.DEBIT, 3000, "USD"),
    )
    assert (reversal.description, reversal.reference) == ("wrong payee", "inv-9")
    # AND the two are linked both ways, as stored
    assert reversal.reverses == original.id
    assert ledger.get_entry(reversal.id) == reversal
    marked = ledger.get_entry(original.id)
    assert marked.reversed_by == reversal.id
    assert marked.status is EntryStatus.POSTED
    # AND the money is back where it was
    assert ledger.get_balance(wallet).posted == 10000
    assert ledger.get_balance(payee).posted == 0
    assert_invariants(backend, book)


def test_an_entry_is_reversed_at_most_once(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a transfer reversed once
    wallet, payee = _pair(ledger, book)
    original = ledger.transfer(wallet, payee, "30.00")
    first = ledger.reverse_entry(original.id, description="oops")
    # WHEN reversing it again for another reason, or with none
    for description in ("again", None):
        error = refused(
            nothing_written,
            lambda: ledger.reverse_entry(original.id, description=description),  # noqa: B023
            AlreadyReversed,
        )
        # THEN it is already reversed
        assert (error.code, error.status) == ("already_reversed", 409)
        assert error.details["entry_id"] == original.id
    # AND the very same reversal request again is a replay of the first reversal
    with nothing_written():
        replay = ledger.reverse_entry(original.id, description="oops")
    assert (replay.id, replay.replayed, replay.reverses) == (first.id, True, original.id)
    assert ledger.get_balance(payee).posted == 0


def test_reversing_a_spent_deposit_is_refused_until_the_money_is_back(
    ledger: Ledger, book: str, nothing_written: NothingWritten, backend: Backend
) -> None:
    # GIVEN a deposit of 100.00 of which 80.00 were spent
    wallet = open_account(ledger, book).id
    deposit = ledger.deposit(wallet, "100.00")
    ledger.spend(wallet, "80.00")
    # WHEN reversing the deposit
    error = refused(nothing_written, lambda: ledger.reverse_entry(deposit.id), InsufficientFunds)
    # THEN the guard refuses it: the wallet cannot give back money it spent
    assert error.details == {"account_id": wallet}
    assert ledger.get_entry(deposit.id).reversed_by is None
    # AND once the money is back, the reversal goes through
    ledger.deposit(wallet, "80.00")
    reversal = ledger.reverse_entry(deposit.id)
    assert ledger.get_entry(deposit.id).reversed_by == reversal.id
    assert ledger.get_balance(wallet).posted == 0
    assert_invariants(backend, book)


def test_a_reversal_may_draw_on_a_credit_line(
    ledger: Ledger, book: str, nothing_written: NothingWritten, backend: Backend
) -> None:
    # GIVEN a deposit of 5.00 to an account with a 10.00 line, 8.00 of which was spent
    account = open_account(ledger, book, overdraft="limit", credit_limit="10.00").id
    deposit = ledger.deposit(account, "5.00")
    ledger.spend(account, "8.00")
    # WHEN reversing the deposit
    ledger.reverse_entry(deposit.id)
    # THEN it draws 8.00 of the line: the floor is the line, not zero
    balance = ledger.get_balance(account)
    assert (balance.posted, balance.credit_used, balance.spendable) == (-800, 800, 200)
    # AND a reversal that would go past the line is refused
    top_up = ledger.deposit(account, "1.00")
    ledger.spend(account, "3.00")
    refused(nothing_written, lambda: ledger.reverse_entry(top_up.id), InsufficientFunds)
    assert_invariants(backend, book)


def test_entries_created_pending_are_voided_not_reversed(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a pending hold, a voided hold and a confirmed hold
    wallet, _ = _pair(ledger, book)
    pending, voided, confirmed = (ledger.hold(wallet, "1.00") for _ in range(3))
    ledger.release_hold(voided.id)
    posting_id = ledger.confirm_hold(confirmed.id).posting_entry_id
    for entry_id, expected_posting in (
        (pending.id, None),
        (voided.id, None),
        (confirmed.id, posting_id),
    ):
        # WHEN reversing any of them
        error = refused(nothing_written, lambda: ledger.reverse_entry(entry_id), NotPending)  # noqa: B023
        # THEN it is refused, pointing at the posting entry where there is one
        assert error.details == {"entry_id": entry_id, "posting_entry_id": expected_posting}


def test_the_posting_entry_of_a_confirmed_hold_can_be_reversed(
    ledger: Ledger, book: str, backend: Backend
) -> None:
    # GIVEN a hold of 30.00 confirmed for 20.00
    wallet, _ = _pair(ledger, book)
    hold = ledger.hold(wallet, "30.00")
    posting_id = ledger.confirm_hold(hold.id, "20.00").posting_entry_id
    assert posting_id is not None
    # WHEN reversing its posting entry
    reversal = ledger.reverse_entry(posting_id)
    # THEN the 20.00 come back, and the posting entry is marked
    assert reversal.reverses == posting_id
    assert ledger.get_entry(posting_id).reversed_by == reversal.id
    balance = ledger.get_balance(wallet)
    assert (balance.posted, balance.held, balance.available) == (10000, 0, 10000)
    assert_invariants(backend, book)


def test_a_multi_currency_entry_is_reversed_line_by_line(
    ledger: Ledger, book: str, backend: Backend
) -> None:
    # GIVEN an entry moving USD and EUR between a bank and two wallets
    bank = open_account(ledger, book, type="asset").id
    euro_bank = open_account(ledger, book, type="asset", currency="EUR").id
    wallet, euro_wallet = (
        open_account(ledger, book).id,
        open_account(ledger, book, currency="EUR").id,
    )
    original = ledger.create_entry(
        book,
        [
            LineInput(bank, "debit", "12.00"),
            LineInput(wallet, "credit", "12.00"),
            LineInput(euro_bank, "debit", "7.50"),
            LineInput(euro_wallet, "credit", "7.50"),
        ],
    )
    # WHEN reversing it
    reversal = ledger.reverse_entry(original.id)
    # THEN each line is mirrored in its own currency, and every account is back at zero
    assert [
        (line.account_id, line.side, line.amount, line.currency) for line in reversal.lines
    ] == [
        (line.account_id, line.side.opposite, line.amount, line.currency) for line in original.lines
    ]
    for account in (bank, euro_bank, wallet, euro_wallet):
        assert ledger.get_balance(account).posted == 0
    assert_invariants(backend, book)


def test_reversal_refusals_write_nothing(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a transfer to a payee that is then suspended, and ids naming no entry
    wallet, payee = _pair(ledger, book)
    transfer = ledger.transfer(wallet, payee, "10.00")
    ledger.update_account(payee, status="suspended")
    missing = new_entry_id(book, None)
    refusals: list[tuple[Callable[[], Any], type[LedgerError], dict[str, Any]]] = [
        (lambda: ledger.reverse_entry(transfer.id), AccountInactive, {"account_id": payee}),
        (lambda: ledger.reverse_entry(missing), NotFound, {"resource": "entry", "id": missing}),
        (lambda: ledger.reverse_entry("ent_x"), NotFound, {"resource": "entry", "id": "ent_x"}),
        (
            lambda: ledger.reverse_entry(transfer.id, description="x" * 1001),
            ValidationError,
            {"field": "description"},
        ),
    ]
    for attempt, error_type, details in refusals:
        # WHEN reversing
        error = refused(nothing_written, attempt, error_type)
        # THEN each is refused with its code and details
        assert error.details == details
    assert ledger.get_entry(transfer.id).reversed_by is None
