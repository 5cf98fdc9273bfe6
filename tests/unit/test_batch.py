"""Pure planning of atomic batches: drafting every operation type, one merged update per
account, netting, the transaction's item limit, which operation a refusal names; and the
request helpers that turn caller input into planning commands."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from unit_builders import EUR, JPY, USD, a_ledger_id, an_account, an_account_id, created

from ledger.domain import limits
from ledger.domain.errors import (
    AccountInactive,
    Conflict,
    CurrencyMismatch,
    InsufficientFunds,
    LedgerError,
    LedgerMismatch,
    NotFound,
    UnbalancedEntry,
    ValidationError,
)
from ledger.domain.ids import parse_account_id, world_account_id
from ledger.domain.inputs import LineInput
from ledger.domain.model import (
    AccountType,
    EntryKind,
    EntryStatus,
    Line,
    OverdraftMode,
    Side,
    Totals,
)
from ledger.domain.money import Currency
from ledger.planning.batch import BatchPlan, operation_of, plan_batch
from ledger.planning.commands import (
    EntryOptions,
    PendingTerms,
    conversion_drafts,
    entry_command,
    expires_in,
    line_drafts,
    overdraft_policy,
    page_size,
    two_line_drafts,
)
from ledger.planning.steps import ApplyDelta, PutNew

Operation = dict[str, Any]

# --- builders ------------------------------------------------------------------------------


def _wallet(ledger_id: str, currency: Currency = USD) -> str:
    """A credit-normal (liability) account id."""
    return an_account_id(ledger_id, currency, Side.CREDIT)


def _bank(ledger_id: str, currency: Currency = USD) -> str:
    """A debit-normal (asset) account id."""
    return an_account_id(ledger_id, currency, Side.DEBIT)


def _world(ledger_id: str, currency: Currency = USD) -> str:
    return world_account_id(ledger_id, currency)


def _transfer(source: str, target: str, amount: object, **extra: Any) -> Operation:
    return {
        "type": "transfer",
        "from_account_id": source,
        "to_account_id": target,
        "amount": amount,
        **extra,
    }


def _preset(kind: str, account_id: str, amount: object, **extra: Any) -> Operation:
    return {"type": kind, "account_id": account_id, "amount": amount, **extra}


def _plan(operations: list[Any], *, net: bool = False, key: str | None = None) -> BatchPlan:
    return plan_batch(operations, key, net, created)


def _deltas(planned: BatchPlan) -> dict[str, ApplyDelta]:
    """The plan's account updates by account id (failing if one account has two)."""
    deltas = [op for op in planned.plan.steps if isinstance(op, ApplyDelta)]
    by_account = {delta.account_id: delta for delta in deltas}
    assert len(by_account) == len(deltas), "an account has more than one update"
    return by_account


def _effects(planned: BatchPlan) -> dict[str, tuple[int, int]]:
    """Per account, what the plan does to it: (posted debits - credits, pending likewise)."""
    return {
        account_id: (
            delta.totals.posted_debits - delta.totals.posted_credits,
            delta.totals.pending_debits - delta.totals.pending_credits,
        )
        for account_id, delta in _deltas(planned).items()
    }


def _refusal(operations: list[Any], *, net: bool = False) -> LedgerError:
    with pytest.raises(LedgerError) as caught:
        _plan(operations, net=net)
    return caught.value


# --- drafting each operation type ----------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "entry_kind", "inflow"),
    [
        ("deposit", EntryKind.DEPOSIT, True),
        ("refund", EntryKind.REFUND, True),
        ("withdrawal", EntryKind.WITHDRAWAL, False),
        ("spend", EntryKind.SPEND, False),
    ],
)
@pytest.mark.parametrize("normal", [Side.CREDIT, Side.DEBIT])
def test_presets_pair_the_account_with_the_world_or_a_named_counterparty(
    kind: str, entry_kind: EntryKind, inflow: bool, normal: Side
) -> None:
    # GIVEN an account of either normal side and a counterparty of the same currency
    ledger_id = a_ledger_id()
    account = an_account_id(ledger_id, USD, normal)
    counterparty = _bank(ledger_id)
    side = normal if inflow else normal.opposite
    # WHEN the preset runs once against the world and once against the counterparty
    planned = _plan(
        [
            _preset(kind, account, "1.25"),
            _preset(kind, account, "2", counterparty_account_id=counterparty),
        ]
    )
    # THEN both entries are posted, of the preset's kind, with the account's side first
    first, second = planned.entries
    assert (first.kind, second.kind) == (entry_kind, entry_kind)
    assert (first.status, second.status) == (EntryStatus.POSTED, EntryStatus.POSTED)
    assert first.lines == (
        Line(account, side, 125, "USD"),
        Line(_world(ledger_id), side.opposite, 125, "USD"),
    )
    assert second.lines == (
        Line(account, side, 200, "USD"),
        Line(counterparty, side.opposite, 200, "USD"),
    )
    assert (first.ledger_id, second.ledger_id) == (ledger_id, ledger_id)


def test_transfer_hold_and_escrow_draft_their_lines_and_pending_terms() -> None:
    # GIVEN three credit-normal wallets and an asset account
    ledger_id = a_ledger_id()
    alice, bob, carol = _wallet(ledger_id), _wallet(ledger_id), _wallet(ledger_id)
    shop = _bank(ledger_id)
    # WHEN a batch transfers, holds (to the world and to a shop) and escrows
    planned = _plan(
        [
            _transfer(alice, bob, "3.00"),
            _preset("hold", alice, "1.00", expires_in=60),
            _preset("hold", bob, "0.50", counterparty_account_id=shop),
            {
                "type": "escrow",
                "buyer_account_id": carol,
                "seller_account_id": bob,
                "amount": "2.00",
                "expires_in": 30,
            },
        ]
    )
    transfer, hold, shop_hold, escrow = planned.entries
    # THEN the transfer is posted from the first account to the second
    assert (transfer.kind, transfer.status) == (EntryKind.TRANSFER, EntryStatus.POSTED)
    assert transfer.lines == (
        Line(alice, Side.DEBIT, 300, "USD"),
        Line(bob, Side.CREDIT, 300, "USD"),
    )
    # AND the hold and escrow are pending, expiring after their own lifetimes
    assert (hold.kind, hold.status) == (EntryKind.HOLD, EntryStatus.PENDING)
    assert hold.expires_at == created + timedelta(seconds=60)
    assert hold.lines[1].account_id == _world(ledger_id)
    assert shop_hold.lines[1] == Line(shop, Side.CREDIT, 50, "USD")
    assert shop_hold.expires_at is None
    assert (escrow.kind, escrow.status) == (EntryKind.ESCROW, EntryStatus.PENDING)
    assert escrow.expires_at == created + timedelta(seconds=30)
    assert escrow.lines == (
        Line(carol, Side.DEBIT, 200, "USD"),
        Line(bob, Side.CREDIT, 200, "USD"),
    )
    # AND the payers' pending outflows are counted as held and as escrowed
    deltas = _deltas(planned)
    assert deltas[carol].totals == Totals(pending_debits=200, escrowed=200)
    assert deltas[carol].headroom == -200


@pytest.mark.parametrize(
    ("source_normal", "target_normal"),
    [(Side.CREDIT, Side.CREDIT), (Side.DEBIT, Side.DEBIT), (Side.CREDIT, Side.DEBIT)],
)
def test_conversion_runs_through_both_currencies_world_accounts(
    source_normal: Side, target_normal: Side
) -> None:
    # GIVEN a USD account and a EUR account
    ledger_id = a_ledger_id()
    source = an_account_id(ledger_id, USD, source_normal)
    target = an_account_id(ledger_id, EUR, target_normal)
    # WHEN converting 10.00 USD into 9.20 EUR
    planned = _plan(
        [
            {
                "type": "conversion",
                "from_account_id": source,
                "to_account_id": target,
                "from_amount": "10.00",
                "to_amount": Decimal("9.2"),
            }
        ]
    )
    # THEN four lines: the source gives, USD world takes; EUR world gives, the target gains
    (entry,) = planned.entries
    assert entry.kind is EntryKind.CONVERSION
    outflow, inflow = source_normal.opposite, target_normal
    assert entry.lines == (
        Line(source, outflow, 1000, "USD"),
        Line(_world(ledger_id, USD), outflow.opposite, 1000, "USD"),
        Line(_world(ledger_id, EUR), inflow.opposite, 920, "EUR"),
        Line(target, inflow, 920, "EUR"),
    )
    # AND only the source's update is guarded by its outflow
    deltas = _deltas(planned)
    assert deltas[source].outflow == 1000
    assert deltas[target].outflow == 0
    assert deltas[target].headroom == 920


def test_raw_entry_operation_takes_lines_with_optional_currency() -> None:
    # GIVEN a bank account paying two wallets
    ledger_id = a_ledger_id()
    bank, alice, bob = _bank(ledger_id), _wallet(ledger_id), _wallet(ledger_id)
    lines = [
        {"account_id": bank, "side": "debit", "amount": "5.00", "currency": "USD"},
        {"account_id": alice, "side": "credit", "amount": Decimal("3.5")},
        {"account_id": bob, "side": Side.CREDIT, "amount": "1.50"},
    ]
    # WHEN the batch holds a raw entry
    planned = _plan([{"type": "entry", "lines": lines}])
    # THEN the entry has the lines as given, in minor units
    (entry,) = planned.entries
    assert entry.kind is EntryKind.ENTRY
    assert entry.lines == (
        Line(bank, Side.DEBIT, 500, "USD"),
        Line(alice, Side.CREDIT, 350, "USD"),
        Line(bob, Side.CREDIT, 150, "USD"),
    )


def test_each_operation_keeps_its_own_options() -> None:
    # GIVEN two deposits, one with every option
    ledger_id = a_ledger_id()
    wallet = _wallet(ledger_id)
    business_date = datetime(2025, 12, 31, 20, 0, tzinfo=timezone(timedelta(hours=-5)))
    options = {
        "description": "salary",
        "reference": "pay-12",
        "metadata": {"month": "12"},
        "effective_at": business_date,
    }
    # WHEN planned together
    first, second = _plan(
        [_preset("deposit", wallet, "1", **options), _preset("deposit", wallet, "1")]
    ).entries
    # THEN the options go to their own entry only, the business date in UTC
    assert (first.description, first.reference, first.metadata) == (
        "salary",
        "pay-12",
        {"month": "12"},
    )
    assert first.effective_at == datetime(2026, 1, 1, 1, 0, tzinfo=UTC)
    assert (second.description, second.reference, second.metadata) == (None, None, {})
    assert second.effective_at == created


# --- one merged update per account ---------------------------------------------------------


def test_each_account_gets_one_update_summing_all_its_changes() -> None:
    # GIVEN a wallet that is deposited into, spends, transfers and holds in one batch
    ledger_id = a_ledger_id()
    wallet, friend, world = _wallet(ledger_id), _wallet(ledger_id), _world(ledger_id)
    planned = _plan(
        [
            _preset("deposit", wallet, "10.00"),
            _preset("spend", wallet, "3.00"),
            _transfer(wallet, friend, "2.00"),
            _preset("hold", wallet, "1.00"),
        ]
    )
    # THEN the plan puts four entries, then one update per account touched
    operations = planned.plan.steps
    assert [type(op) for op in operations] == [PutNew] * 4 + [ApplyDelta] * 3
    assert [op.record for op in operations[:4] if isinstance(op, PutNew)] == planned.entries
    deltas = _deltas(planned)
    assert set(deltas) == {wallet, world, friend}
    # AND the wallet's update is the sum of its four changes, with net headroom +4.00
    assert deltas[wallet].totals == Totals(
        posted_debits=500, posted_credits=1000, pending_debits=100, held=100
    )
    assert (deltas[wallet].headroom, deltas[wallet].outflow) == (400, 0)
    # AND the world's gives 10.00, takes 3.00 posted and 1.00 pending
    assert deltas[world].totals == Totals(
        posted_debits=1000, posted_credits=300, pending_credits=100
    )
    # AND each update names the last entry that moved its account
    assert deltas[wallet].entry_id == planned.entries[3].id
    assert deltas[friend].entry_id == planned.entries[2].id
    assert deltas[world].entry_id == planned.entries[3].id


@pytest.mark.parametrize(
    ("operations", "headroom", "outflow"),
    [
        ([("spend", "10.00"), ("deposit", "4.00")], -600, 600),
        ([("deposit", "4.00"), ("spend", "10.00")], -600, 600),
        ([("deposit", "10.00"), ("spend", "4.00")], 600, 0),
        ([("spend", "5.00"), ("deposit", "5.00")], 0, 0),
        ([("spend", "5.00"), ("withdrawal", "2.50")], -750, 750),
        ([("spend", "5.00")], -500, 500),
    ],
)
def test_the_merged_guard_covers_the_net_outflow_whatever_the_order(
    operations: list[tuple[str, str]], headroom: int, outflow: int
) -> None:
    # GIVEN a wallet moved by several operations of one batch
    ledger_id = a_ledger_id()
    wallet = _wallet(ledger_id)
    # WHEN planned
    delta = _deltas(_plan([_preset(kind, wallet, amount) for kind, amount in operations]))[wallet]
    # THEN its one update must be covered for the net outflow only
    assert (delta.headroom, delta.outflow) == (headroom, outflow)
    assert delta.require_active


# --- netting -------------------------------------------------------------------------------


def test_netting_replaces_a_pairs_transfers_by_one_of_the_net_amount() -> None:
    # GIVEN transfers both ways between Alice and Bob with the same options, around a
    # deposit to Carol
    ledger_id = a_ledger_id()
    alice, bob, carol = _wallet(ledger_id), _wallet(ledger_id), _wallet(ledger_id)
    options = {"description": "settlement", "reference": "run-7"}
    operations = [
        _transfer(alice, bob, "30.00", **options),
        _preset("deposit", carol, "1.00"),
        _transfer(bob, alice, "10.00", **options),
        _transfer(alice, bob, "5.00", **options, metadata=None),
    ]
    # WHEN planned with netting
    planned = _plan(operations, net=True)
    # THEN one transfer of 25.00 stands in the first transfer's place, with their options
    netted, deposit = planned.entries
    assert netted.lines == (
        Line(alice, Side.DEBIT, 2500, "USD"),
        Line(bob, Side.CREDIT, 2500, "USD"),
    )
    assert (netted.kind, netted.description, netted.reference) == (
        EntryKind.TRANSFER,
        "settlement",
        "run-7",
    )
    assert deposit.kind is EntryKind.DEPOSIT
    # AND two entries were saved, and every account moves exactly as without netting
    assert planned.items_saved == 2
    assert _effects(planned) == _effects(_plan(operations))
    # AND refusals on the pair name the first transfer of the pair
    assert (planned.owners[alice], planned.owners[bob], planned.owners[carol]) == (0, 0, 1)


@pytest.mark.parametrize(
    ("option", "first", "second"),
    [
        ("reference", "inv-1", "inv-2"),
        ("description", "rent", "deposit back"),
        ("metadata", {"order": "1"}, {"order": "2"}),
        ("effective_at", datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC)),
    ],
)
def test_netting_keeps_apart_transfers_whose_options_differ(
    option: str, first: object, second: object
) -> None:
    # GIVEN two transfers between Alice and Bob that differ in one option
    ledger_id = a_ledger_id()
    alice, bob = _wallet(ledger_id), _wallet(ledger_id)
    operations = [
        _transfer(alice, bob, "30.00", **{option: first}),
        _transfer(bob, alice, "10.00", **{option: second}),
    ]
    # WHEN planned with netting
    planned = _plan(operations, net=True)
    # THEN both stay entries of their own, each with its own option, and nothing was saved
    assert [getattr(entry, option) for entry in planned.entries] == [first, second]
    assert [entry.lines[0].amount for entry in planned.entries] == [3000, 1000]
    assert planned.items_saved == 0
    assert _effects(planned) == _effects(_plan(operations))


def test_netting_turns_the_transfer_round_when_the_second_direction_wins() -> None:
    # GIVEN 5.00 from Alice to Bob and 12.00 back
    ledger_id = a_ledger_id()
    alice, bob = _wallet(ledger_id), _wallet(ledger_id)
    operations = [_transfer(alice, bob, "5.00"), _transfer(bob, alice, "12.00")]
    # WHEN netted
    planned = _plan(operations, net=True)
    # THEN one transfer of 7.00 from Bob to Alice remains
    (netted,) = planned.entries
    assert netted.lines == (
        Line(bob, Side.DEBIT, 700, "USD"),
        Line(alice, Side.CREDIT, 700, "USD"),
    )
    assert planned.items_saved == 1
    assert _deltas(planned)[bob].outflow == 700


def test_transfers_that_cancel_out_leave_no_entry_and_no_update() -> None:
    # GIVEN a pair whose transfers cancel out, and a deposit
    ledger_id = a_ledger_id()
    alice, bob, carol = _wallet(ledger_id), _wallet(ledger_id), _wallet(ledger_id)
    operations = [
        _transfer(alice, bob, "10.00"),
        _preset("deposit", carol, "1.00"),
        _transfer(bob, alice, "4.00"),
        _transfer(bob, alice, "6.00"),
    ]
    # WHEN netted
    planned = _plan(operations, net=True)
    # THEN only the deposit is written; Alice and Bob are not touched at all
    assert [entry.kind for entry in planned.entries] == [EntryKind.DEPOSIT]
    assert set(_deltas(planned)) == {carol, _world(ledger_id)}
    assert planned.items_saved == 3
    assert alice not in planned.owners


def test_without_the_net_flag_every_transfer_is_its_own_entry() -> None:
    # GIVEN transfers both ways
    ledger_id = a_ledger_id()
    alice, bob = _wallet(ledger_id), _wallet(ledger_id)
    operations = [_transfer(alice, bob, "5.00"), _transfer(bob, alice, "5.00")]
    # WHEN planned without netting
    planned = _plan(operations)
    # THEN both entries remain and nothing was saved
    assert len(planned.entries) == 2
    assert planned.items_saved == 0


def test_netting_leaves_presets_between_the_same_accounts_alone() -> None:
    # GIVEN a transfer and a spend between the same two accounts
    ledger_id = a_ledger_id()
    alice, bob = _wallet(ledger_id), _wallet(ledger_id)
    operations = [
        _transfer(alice, bob, "5.00"),
        _preset("spend", bob, "5.00", counterparty_account_id=alice),
    ]
    # WHEN netted
    planned = _plan(operations, net=True)
    # THEN only transfers are netted: both entries remain
    assert [entry.kind for entry in planned.entries] == [EntryKind.TRANSFER, EntryKind.SPEND]
    assert planned.items_saved == 0


@pytest.mark.parametrize(
    ("first_normal", "second_normal"),
    [
        (Side.CREDIT, Side.CREDIT),
        (Side.DEBIT, Side.DEBIT),
        (Side.CREDIT, Side.DEBIT),
        (Side.DEBIT, Side.CREDIT),
    ],
    ids=["liability-liability", "asset-asset", "liability-asset", "asset-liability"],
)
@pytest.mark.parametrize(
    "amounts",
    [("30.00", "10.00", "5.00"), ("10.00", "10.00", "0.01")],
    ids=["first-way-wins", "nearly-cancel"],
)
def test_netting_never_changes_what_any_account_ends_with(
    first_normal: Side, second_normal: Side, amounts: tuple[str, str, str]
) -> None:
    # GIVEN transfers both ways between two accounts of any pair of normal sides
    ledger_id = a_ledger_id()
    first = an_account_id(ledger_id, USD, first_normal)
    second = an_account_id(ledger_id, USD, second_normal)
    there, back, again = amounts
    operations = [
        _transfer(first, second, there),
        _transfer(second, first, back),
        _transfer(first, second, again),
    ]
    # WHEN planned with and without netting
    netted, plain = _plan(operations, net=True), _plan(operations)
    # THEN each account's posted movement is the same either way
    assert _effects(netted) == _effects(plain)


def test_netting_a_sum_beyond_the_largest_amount_still_names_an_operation() -> None:
    # GIVEN two transfers of the largest amount the ledger accepts, the same way
    ledger_id = a_ledger_id()
    alice, bob = _wallet(ledger_id), _wallet(ledger_id)
    largest = "10000000000000000000000000000.00"
    assert Decimal(largest) * 100 == limits.amount_minor_max
    operations = [_transfer(alice, bob, largest), _transfer(alice, bob, largest)]
    # WHEN netted: either the batch plans with both amounts moved, or its refusal names
    # the operation it concerns, like every other planning refusal
    outcome: BatchPlan | LedgerError
    try:
        outcome = _plan(operations, net=True)
    except LedgerError as error:
        outcome = error
    if isinstance(outcome, LedgerError):
        assert "operation_index" in outcome.details, outcome.details
    else:
        assert _effects(outcome) == _effects(_plan(operations))


# --- limits --------------------------------------------------------------------------------


def _full_entry(accounts: list[str]) -> Operation:
    """A raw entry over every account: all but the last pay 0.01 into the last."""
    *payers, payee = accounts
    lines = [{"account_id": payer, "side": "debit", "amount": "0.01"} for payer in payers]
    total = f"0.{len(payers):02d}" if len(payers) < 100 else "1.00"
    lines.append({"account_id": payee, "side": "credit", "amount": total})
    return {"type": "entry", "lines": lines}


def test_a_batch_may_fill_one_transaction_exactly_but_not_overflow_it() -> None:
    # GIVEN one raw entry over the most accounts a line list holds: 1 entry + 98 accounts
    ledger_id = a_ledger_id()
    accounts = [_wallet(ledger_id) for _ in range(limits.lines_per_entry_max)]
    full = _full_entry(accounts)
    # WHEN one more transfer between two of those accounts joins it: 100 items
    planned = _plan([full, _transfer(accounts[0], accounts[1], "0.01")])
    # THEN it plans, as exactly the transaction limit of items
    assert len(planned.plan.steps) == limits.transaction_items_max
    # AND a transfer to an account not yet in the batch (101 items) is refused
    error = _refusal([full, _transfer(accounts[0], _wallet(ledger_id), "0.01")])
    assert isinstance(error, ValidationError)
    assert error.field == "operations"
    assert "operation_index" not in error.details


@pytest.mark.parametrize("count", [0, limits.batch_operations_max + 1])
def test_the_number_of_operations_is_bounded(count: int) -> None:
    # GIVEN no operations, or one more than a batch takes
    wallet = _wallet(a_ledger_id())
    # WHEN planned
    error = _refusal([_preset("deposit", wallet, "1")] * count)
    # THEN the batch is refused as a whole
    assert isinstance(error, ValidationError)
    assert error.field == "operations"


def test_the_most_operations_plan_as_one_transaction() -> None:
    # GIVEN the most deposits a batch takes, all into one wallet
    ledger_id = a_ledger_id()
    wallet = _wallet(ledger_id)
    operations = [_preset("deposit", wallet, "0.01")] * limits.batch_operations_max
    # WHEN planned
    planned = _plan(operations)
    # THEN every deposit is an entry, and the wallet and the world take one update each
    assert len(planned.entries) == limits.batch_operations_max
    assert _deltas(planned)[wallet].totals == Totals(posted_credits=limits.batch_operations_max)
    assert len(planned.plan.steps) == limits.batch_operations_max + 2


# --- planning refusals name their operation ------------------------------------------------


def _bad_operations(ledger_id: str) -> list[tuple[str, Any, type[LedgerError], str | None]]:
    """(case, operation, error, field) for operations refused while planning."""
    wallet, bank = _wallet(ledger_id), _bank(ledger_id)
    euro = _wallet(ledger_id, EUR)
    foreign = _wallet(a_ledger_id())

    def line(account_id: str, side: str, amount: str = "1.00", **extra: Any) -> dict[str, Any]:
        return {"account_id": account_id, "side": side, "amount": amount, **extra}

    return [
        ("not-an-object", ["deposit"], ValidationError, "operations"),
        ("no-type", {"account_id": wallet, "amount": "1"}, ValidationError, "type"),
        ("unknown-type", _preset("payout", wallet, "1"), ValidationError, "type"),
        ("unknown-field", _preset("deposit", wallet, "1", memo="x"), ValidationError, "memo"),
        (
            "field-of-another-type",
            _transfer(wallet, bank, "1", expires_in=5),
            ValidationError,
            "expires_in",
        ),
        (
            "key-per-operation",
            _preset("spend", wallet, "1", idempotency_key="k"),
            ValidationError,
            "idempotency_key",
        ),
        ("no-account", {"type": "deposit", "amount": "1"}, ValidationError, "account_id"),
        (
            "account-not-text",
            {"type": "deposit", "account_id": 42, "amount": "1"},
            ValidationError,
            "account_id",
        ),
        ("malformed-account", _preset("deposit", "acc_nope", "1"), NotFound, None),
        ("no-amount", {"type": "spend", "account_id": wallet}, ValidationError, "amount"),
        ("float-amount", _preset("spend", wallet, 1.5), ValidationError, "amount"),
        ("zero-amount", _preset("spend", wallet, "0.00"), ValidationError, "amount"),
        ("too-many-decimals", _preset("spend", wallet, "1.001"), ValidationError, "amount"),
        ("no-from", {"type": "transfer", "amount": "1"}, ValidationError, "from_account_id"),
        ("currency-mismatch", _transfer(wallet, euro, "1"), CurrencyMismatch, None),
        ("other-ledger", _transfer(wallet, foreign, "1"), LedgerMismatch, None),
        ("same-account", _transfer(wallet, wallet, "1"), ValidationError, "lines[1].account_id"),
        (
            "no-buyer",
            {"type": "escrow", "seller_account_id": wallet, "amount": "1"},
            ValidationError,
            "buyer_account_id",
        ),
        (
            "expires-in-zero",
            _preset("hold", wallet, "1", expires_in=0),
            ValidationError,
            "expires_in",
        ),
        (
            "expires-in-bool",
            _preset("hold", wallet, "1", expires_in=True),
            ValidationError,
            "expires_in",
        ),
        (
            "same-currency-conversion",
            {
                "type": "conversion",
                "from_account_id": wallet,
                "to_account_id": bank,
                "from_amount": "1",
                "to_amount": "1",
            },
            ValidationError,
            "to_account_id",
        ),
        (
            "conversion-without-to-amount",
            {
                "type": "conversion",
                "from_account_id": wallet,
                "to_account_id": euro,
                "from_amount": "1",
            },
            ValidationError,
            "to_amount",
        ),
        (
            "conversion-bad-from-amount",
            {
                "type": "conversion",
                "from_account_id": wallet,
                "to_account_id": euro,
                "from_amount": "1.005",
                "to_amount": "1",
            },
            ValidationError,
            "from_amount",
        ),
        ("lines-not-a-list", {"type": "entry", "lines": "x"}, ValidationError, "lines"),
        ("line-not-an-object", {"type": "entry", "lines": [7, 8]}, ValidationError, "lines"),
        (
            "line-without-side",
            {"type": "entry", "lines": [{"account_id": wallet, "amount": "1"}] * 2},
            ValidationError,
            "lines[0].side",
        ),
        (
            "line-of-another-currency",
            {
                "type": "entry",
                "lines": [line(wallet, "debit", currency="EUR"), line(bank, "debit")],
            },
            CurrencyMismatch,
            "lines[0].currency",
        ),
        ("one-line", {"type": "entry", "lines": [line(wallet, "debit")]}, ValidationError, "lines"),
        (
            "unbalanced",
            {"type": "entry", "lines": [line(wallet, "debit"), line(bank, "debit")]},
            UnbalancedEntry,
            None,
        ),
        (
            "description-not-text",
            _preset("deposit", wallet, "1", description=5),
            ValidationError,
            "description",
        ),
        (
            "blank-reference",
            _preset("deposit", wallet, "1", reference=" "),
            ValidationError,
            "reference",
        ),
        (
            "metadata-not-text",
            _preset("deposit", wallet, "1", metadata={"n": 1}),
            ValidationError,
            "metadata.n",
        ),
        (
            "naive-effective-at",
            _preset("deposit", wallet, "1", effective_at=datetime(2026, 1, 1)),
            ValidationError,
            "effective_at",
        ),
    ]


_bad_cases = [case for case, *_ in _bad_operations(a_ledger_id())]


@pytest.mark.parametrize("case", _bad_cases)
@pytest.mark.parametrize("position", [0, 2])
def test_a_planning_refusal_names_the_operation_being_read(case: str, position: int) -> None:
    # GIVEN a batch of valid deposits with one bad operation at `position`
    ledger_id = a_ledger_id()
    (operation, error_type, field) = next(
        (operation, error, field)
        for name, operation, error, field in _bad_operations(ledger_id)
        if name == case
    )
    good = _preset("deposit", _wallet(ledger_id), "1.00")
    operations = [good, good, good]
    operations[position] = operation
    # WHEN planned
    error = _refusal(operations)
    # THEN the refusal is the one the bad operation earns, naming it
    assert isinstance(error, error_type), error
    assert error.details["operation_index"] == position
    if field is not None:
        assert error.details["field"] == field


def test_an_entry_without_lines_is_refused_as_its_operation() -> None:
    # GIVEN a batch whose first operation is a raw entry with an empty line list
    operations = [{"type": "entry", "lines": []}]
    # WHEN planned
    # THEN it is a validation error naming that operation (not a crash)
    with pytest.raises(ValidationError) as caught:
        _plan(operations)
    assert caught.value.details["operation_index"] == 0
    assert caught.value.field == "lines"


@pytest.mark.parametrize(
    ("operation_type", "payer_field", "payee_field"),
    [
        ("transfer", "from_account_id", "to_account_id"),
        ("escrow", "buyer_account_id", "seller_account_id"),
    ],
)
def test_a_transfer_or_escrow_needs_its_payee(
    operation_type: str, payer_field: str, payee_field: str
) -> None:
    # GIVEN a transfer (or escrow) naming only the payer
    wallet = _wallet(a_ledger_id())
    operation = {"type": operation_type, payer_field: wallet, "amount": "1.00"}
    # WHEN planned
    error = _refusal([operation])
    # THEN the missing payee is refused rather than replaced by the world account
    assert isinstance(error, ValidationError)
    assert (error.field, error.details["operation_index"]) == (payee_field, 0)


def test_an_entry_operation_ledger_id_must_be_the_ledger_of_its_lines() -> None:
    # GIVEN a raw entry naming another ledger than its accounts'
    ledger_id = a_ledger_id()
    lines = [
        {"account_id": _bank(ledger_id), "side": "debit", "amount": "1"},
        {"account_id": _wallet(ledger_id), "side": "credit", "amount": "1"},
    ]
    operation = {"type": "entry", "ledger_id": a_ledger_id(), "lines": lines}
    # WHEN planned
    # THEN the ledger is not silently ignored: the lines do not belong to it (or, if an
    # entry operation takes no ledger_id, the field is unknown)
    error = _refusal([operation])
    assert isinstance(error, LedgerMismatch | ValidationError), error
    assert error.details["operation_index"] == 0


def test_an_entry_line_with_an_unknown_field_is_refused() -> None:
    # GIVEN a raw entry whose line misspells `currency`
    ledger_id = a_ledger_id()
    lines = [
        {"account_id": _bank(ledger_id), "side": "debit", "amount": "1", "curency": "EUR"},
        {"account_id": _wallet(ledger_id), "side": "credit", "amount": "1"},
    ]
    # WHEN planned
    # THEN the unknown field is refused, as it is on an operation
    error = _refusal([{"type": "entry", "lines": lines}])
    assert isinstance(error, ValidationError)
    assert error.details["operation_index"] == 0


# --- write refusals name the first operation moving the refused account --------------------


def test_operation_of_names_the_first_operation_that_moves_the_account() -> None:
    # GIVEN a batch: deposit to A, transfer B -> C, spend from C
    ledger_id = a_ledger_id()
    a, b, c = _wallet(ledger_id), _wallet(ledger_id), _wallet(ledger_id)
    planned = _plan([_preset("deposit", a, "1"), _transfer(b, c, "1"), _preset("spend", c, "1")])
    # THEN each account maps to the first operation that moves it
    assert planned.owners == {a: 0, _world(ledger_id): 0, b: 1, c: 1}
    # AND a refusal naming an account (as account_id, or as a missing item's id) gets it
    funds = operation_of(InsufficientFunds("no", {"account_id": c}), planned.owners)
    assert funds.details == {"account_id": c, "operation_index": 1}
    missing = operation_of(NotFound("account", b), planned.owners)
    assert missing.details["operation_index"] == 1
    inactive = operation_of(AccountInactive("x", {"account_id": a}), planned.owners)
    assert inactive.details["operation_index"] == 0
    # AND a refusal about no account of the batch, or about none at all, is left as it is
    stranger = operation_of(
        AccountInactive("x", {"account_id": _wallet(ledger_id)}), planned.owners
    )
    assert "operation_index" not in stranger.details
    contention = operation_of(Conflict("busy"), planned.owners)
    assert contention.details == {}


def test_a_refusal_that_names_its_own_operation_keeps_it() -> None:
    # GIVEN a batch whose account is first moved by operation 0
    ledger_id = a_ledger_id()
    a = _wallet(ledger_id)
    planned = _plan([_preset("deposit", a, "1"), _preset("spend", a, "5")])
    # WHEN a refusal already names operation 1 (the one its guard blames)
    refusal = InsufficientFunds("no", {"account_id": a, "operation_index": 1})
    # THEN attributing it leaves that operation
    assert operation_of(refusal, planned.owners).details["operation_index"] == 1


# --- insufficient funds blame the operation that breaks the floor --------------------------


def _floor_refusal(planned: BatchPlan, account_id: str, headroom: int) -> InsufficientFunds:
    """The merged delta's refusal of `account_id` holding `headroom` before the batch."""
    account = replace(
        an_account(ledger_id=parse_account_id(account_id).ledger_id),
        id=account_id,
        type=AccountType.LIABILITY,
        headroom=headroom,
    )
    violation = _deltas(planned)[account_id].violation(account)
    assert isinstance(violation, InsufficientFunds)
    return violation


@pytest.mark.parametrize(
    ("amounts", "held", "index", "amount", "could_spend"),
    [
        # One spend too many: it is named, with its own amount.
        (["-3.00", "-4.00", "-5.00"], 1000, 2, "5.00", "3.00"),
        # Short from the first operation to the end: the first is named.
        (["-15.00", "3.00"], 1000, 0, "15.00", "10.00"),
        # A dip the next operation makes good breaks nothing; the final dip's start is named.
        (["-15.00", "10.00", "-7.00", "-9.00"], 1000, 2, "7.00", "5.00"),
        # An account short before the batch could spend nothing.
        (["-1.00"], -100, 0, "1.00", "0.00"),
    ],
)
def test_insufficient_funds_name_the_operation_from_which_the_account_stays_short(
    amounts: list[str], held: int, index: int, amount: str, could_spend: str
) -> None:
    # GIVEN a batch of spends (negative) and deposits on one wallet
    ledger_id = a_ledger_id()
    wallet = _wallet(ledger_id)
    operations = [
        _preset("spend" if text.startswith("-") else "deposit", wallet, text.lstrip("-"))
        for text in amounts
    ]
    planned = _plan(operations)
    # WHEN the wallet's merged guard refuses, given what it held before the batch
    refusal = _floor_refusal(planned, wallet, held)
    # THEN it names the operation, that operation's amount and what the wallet could spend
    assert refusal.details == {"account_id": wallet, "operation_index": index}
    assert refusal.message == (
        f"account {wallet} cannot cover {amount} USD in operation {index}: "
        f"it could spend {could_spend} USD"
    )


def test_a_hold_in_a_batch_is_blamed_for_its_pending_outflow() -> None:
    # GIVEN a batch spending 8.00 and holding 3.00 from a wallet of 10.00
    ledger_id = a_ledger_id()
    wallet = _wallet(ledger_id)
    planned = _plan([_preset("spend", wallet, "8.00"), _preset("hold", wallet, "3.00")])
    # WHEN the merged guard refuses
    refusal = _floor_refusal(planned, wallet, 1000)
    # THEN the hold is named: it reserves 3.00 of the 2.00 left
    assert refusal.details["operation_index"] == 1
    assert refusal.message.endswith("cannot cover 3.00 USD in operation 1: it could spend 2.00 USD")


# --- idempotency ---------------------------------------------------------------------------


def test_a_key_derives_every_entry_id_and_ties_each_entry_to_its_batch() -> None:
    # GIVEN a batch of two transfers
    ledger_id = a_ledger_id()
    alice, bob = _wallet(ledger_id), _wallet(ledger_id)
    operations = [_transfer(alice, bob, "1.00"), _transfer(bob, alice, "2.00")]
    # WHEN planned twice with a key, once with another key, and once without
    first = _plan(operations, key="batch-1")
    again = _plan(operations, key="batch-1")
    other_key = _plan(operations, key="batch-2")
    keyless = [_plan(operations) for _ in range(2)]
    # THEN the same key gives the same, distinct, ids and the same hashes
    ids = [entry.id for entry in first.entries]
    assert len(set(ids)) == 2
    assert [entry.id for entry in again.entries] == ids
    assert [e.request_hash for e in again.entries] == [e.request_hash for e in first.entries]
    # AND another key, or none, gives other ids
    assert not set(ids) & {entry.id for entry in other_key.entries}
    assert keyless[0].entries[0].id != keyless[1].entries[0].id
    # AND a changed batch (another amount, or netting) changes the hash of every entry
    changed = _plan([operations[0], _transfer(bob, alice, "2.01")], key="batch-1")
    netted = _plan(operations, key="batch-1", net=True)
    assert changed.entries[0].id == ids[0]
    assert changed.entries[0].request_hash != first.entries[0].request_hash
    assert netted.entries[0].id == ids[0]
    assert netted.entries[0].request_hash != first.entries[0].request_hash


def test_the_same_batch_with_amounts_spelled_otherwise_has_the_same_hashes() -> None:
    # GIVEN a keyed batch, and the same batch with its amounts written another way (as a
    # single keyed request may be resent: "10" for "10.00" is a replay, not a new request)
    ledger_id = a_ledger_id()
    wallet, friend = _wallet(ledger_id), _wallet(ledger_id)
    spelled = [_preset("deposit", wallet, "10.00"), _transfer(wallet, friend, "2.50")]
    respelled = [_preset("deposit", wallet, "10"), _transfer(wallet, friend, Decimal("2.5"))]
    # WHEN both are planned with one key
    first, second = _plan(spelled, key="k"), _plan(respelled, key="k")
    # THEN the entries are identical, hashes included, so the second is a replay
    assert [e.request_hash for e in second.entries] == [e.request_hash for e in first.entries]


# --- request helpers -----------------------------------------------------------------------


def test_line_drafts_check_each_line_and_name_its_fields() -> None:
    # GIVEN a bank and a wallet
    ledger_id = a_ledger_id()
    bank, wallet = _bank(ledger_id), _wallet(ledger_id)
    # WHEN lines are drafted
    drafts = line_drafts(
        [LineInput(bank, "debit", "1.50", "USD"), LineInput(wallet, "credit", "1.5")]
    )
    # THEN amounts are minor units on the given sides
    assert [(d.account.id, d.side, d.amount) for d in drafts] == [
        (bank, Side.DEBIT, 150),
        (wallet, Side.CREDIT, 150),
    ]
    # AND each bad field is named with its line's index
    with pytest.raises(CurrencyMismatch) as mismatch:
        line_drafts([LineInput(bank, "debit", "1"), LineInput(wallet, "credit", "1", "JPY")])
    assert mismatch.value.details == {"field": "lines[1].currency", "account_id": wallet}
    with pytest.raises(ValidationError) as side:
        line_drafts([LineInput(bank, "left", "1")])
    assert side.value.field == "lines[0].side"
    with pytest.raises(ValidationError) as amount:
        line_drafts([LineInput(bank, "debit", "1"), LineInput(wallet, "credit", "-1")])
    assert amount.value.field == "lines[1].amount"


def test_two_line_drafts_refuse_a_counterparty_of_another_currency() -> None:
    # GIVEN a USD wallet and a JPY counterparty
    ledger_id = a_ledger_id()
    wallet, yen = _wallet(ledger_id), _bank(ledger_id, JPY)
    # WHEN drafted as a preset
    with pytest.raises(CurrencyMismatch) as caught:
        two_line_drafts(wallet, yen, "1", inflow=True)
    # THEN the counterparty is named
    assert caught.value.details == {"account_id": yen}


def test_conversion_drafts_bound_each_amount_by_its_own_currency() -> None:
    # GIVEN a USD wallet and a JPY wallet (scale 0)
    ledger_id = a_ledger_id()
    dollars, yen = _wallet(ledger_id), _wallet(ledger_id, JPY)
    # WHEN converting 10.00 USD into 1500 JPY
    drafts = conversion_drafts(dollars, yen, "10.00", "1500")
    # THEN each amount is in its own currency's minor units
    assert [draft.amount for draft in drafts] == [1000, 1000, 1500, 1500]
    # AND JPY takes no decimals, while the same currency on both sides is no conversion
    with pytest.raises(ValidationError) as decimals:
        conversion_drafts(dollars, yen, "10.00", "1500.5")
    assert decimals.value.field == "to_amount"
    with pytest.raises(ValidationError) as same:
        conversion_drafts(dollars, _bank(ledger_id), "1", "1")
    assert same.value.field == "to_account_id"


def test_entry_command_is_pending_only_with_pending_terms() -> None:
    # GIVEN the lines of a transfer
    ledger_id = a_ledger_id()
    lines = two_line_drafts(_wallet(ledger_id), _wallet(ledger_id), "1", inflow=False)
    options: EntryOptions = {"description": "d", "reference": "r", "metadata": {"k": "v"}}
    # WHEN commands are made without terms, with terms and no expiry, and with an expiry
    posted = entry_command("e1", ledger_id, EntryKind.TRANSFER, lines, options, pending=None)
    open_ended = entry_command(
        "e2", ledger_id, EntryKind.HOLD, lines, {}, pending=PendingTerms(None)
    )
    expiring = entry_command(
        "e3", ledger_id, EntryKind.HOLD, lines, {}, pending=PendingTerms(90), batch_hash="h"
    )
    # THEN only the last two are pending, and only the last expires
    assert (posted.pending, posted.expires_in, posted.batch_hash) == (False, None, None)
    assert (posted.description, posted.reference, posted.metadata) == ("d", "r", {"k": "v"})
    assert (open_ended.pending, open_ended.expires_in) == (True, None)
    assert (expiring.pending, expiring.expires_in, expiring.batch_hash) == (True, 90, "h")


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        (None, None),
        (1, 1),
        (limits.expires_in_s_max, limits.expires_in_s_max),
        (0, ValidationError),
        (limits.expires_in_s_max + 1, ValidationError),
        (True, ValidationError),
        (1.5, ValidationError),
        ("60", ValidationError),
    ],
)
def test_expires_in_is_a_bounded_whole_number_of_seconds(value: object, accepted: object) -> None:
    # WHEN a lifetime is checked
    # THEN it passes through or is refused as expires_in
    if accepted is ValidationError:
        with pytest.raises(ValidationError) as caught:
            expires_in(value)
        assert caught.value.field == "expires_in"
    else:
        assert expires_in(value) == accepted


def test_overdraft_policy_pairs_a_credit_limit_with_mode_limit_only() -> None:
    # WHEN policies are built
    # THEN forbid and allow take no limit, and limit needs one, in minor units
    assert overdraft_policy(USD, "forbid", None).mode is OverdraftMode.FORBID
    assert overdraft_policy(USD, OverdraftMode.ALLOW, None).credit_limit == 0
    limited = overdraft_policy(USD, "limit", "10.00")
    assert (limited.mode, limited.credit_limit) == (OverdraftMode.LIMIT, 1000)
    refusals = [
        (("limit", None), "credit_limit"),
        (("forbid", "1.00"), "credit_limit"),
        (("maybe", None), "overdraft"),
        (("limit", "1.001"), "credit_limit"),
    ]
    for (mode, credit_limit), field in refusals:
        with pytest.raises(ValidationError) as caught:
            overdraft_policy(USD, mode, credit_limit)
        assert caught.value.field == field, (mode, credit_limit)


@pytest.mark.parametrize(
    ("limit", "valid"),
    [
        (1, True),
        (limits.page_size_max, True),
        (0, False),
        (limits.page_size_max + 1, False),
        (True, False),
        ("10", False),
    ],
)
def test_page_size_is_a_whole_number_within_the_page_maximum(limit: Any, valid: bool) -> None:
    # WHEN a page size is checked
    # THEN it passes through or is refused as limit
    if valid:
        assert page_size(limit) == limit
    else:
        with pytest.raises(ValidationError) as caught:
            page_size(limit)
        assert caught.value.field == "limit"
