"""Pure planning: commands become write plans, with every rule that needs no read checked."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from unit_builders import (
    ETH,
    EUR,
    JPY,
    USD,
    a_ledger_id,
    an_account_id,
    an_entry_id,
    created,
    later,
)

from ledger.domain import limits
from ledger.domain.errors import (
    CurrencyMismatch,
    LedgerMismatch,
    TypeMismatch,
    UnbalancedEntry,
    ValidationError,
)
from ledger.domain.ids import AccountRef, parse_account_id, world_account_id
from ledger.domain.model import (
    AccountStatus,
    AccountType,
    EntryKind,
    EntryStatus,
    Line,
    Overdraft,
    OverdraftMode,
    Side,
    Totals,
)
from ledger.domain.money import Currency
from ledger.planning.accounts import plan_account, plan_ledger, world_account
from ledger.planning.commands import LineDraft, NewAccount, NewEntry, check_currency
from ledger.planning.entries import plan_entry
from ledger.planning.hashing import request_hash
from ledger.planning.steps import (
    ApplyDelta,
    Claim,
    ClaimUnique,
    EnsureWorld,
    PutNew,
    RequireLedger,
    RequireParent,
)

# --- request hashes ------------------------------------------------------------------------


def test_request_hash_ignores_key_order_and_sees_every_value() -> None:
    # GIVEN one payload written in two key orders, and one with a changed value
    first = {"a": 1, "b": ["x", 2], "when": created}
    reordered = {"when": created, "b": ["x", 2], "a": 1}
    changed = {"a": 1, "b": ["x", 3], "when": created}
    # WHEN hashing them
    # THEN order does not matter, values do, and the digest is sha256 hex
    assert request_hash(first) == request_hash(reordered)
    assert request_hash(first) != request_hash(changed)
    assert len(request_hash(first)) == 64
    assert request_hash({"when": created}) != request_hash({"when": later})


# --- ledgers -------------------------------------------------------------------------------


def test_plan_ledger_puts_one_new_ledger() -> None:
    # GIVEN a ledger request
    ledger_id = a_ledger_id()
    # WHEN planning it
    record, plan = plan_ledger(
        ledger_id=ledger_id, name="Books", owner_id="org-1", metadata={"k": "v"}, now=created
    )
    # THEN the plan is exactly one PutNew of a ledger with no currencies
    assert plan.steps == (PutNew(record),)
    assert (record.id, record.name, record.owner_id) == (ledger_id, "Books", "org-1")
    assert (record.metadata, record.currencies, record.created_at) == ({"k": "v"}, {}, created)
    assert record.replayed is False


def test_ledger_request_hash_covers_the_request_not_the_id_or_time() -> None:
    # GIVEN the same ledger request planned twice with other ids and times, and a changed one
    def planned(name: str, owner: str | None, metadata: dict[str, str]) -> str:
        record, _ = plan_ledger(
            ledger_id=a_ledger_id(),
            name=name,
            owner_id=owner,
            metadata=metadata,
            now=datetime.now(UTC),
        )
        return record.request_hash

    # WHEN comparing their hashes
    # THEN only the request's meaning counts
    assert planned("Books", "o", {}) == planned("Books", "o", {})
    assert planned("Books", "o", {}) != planned("Books2", "o", {})
    assert planned("Books", "o", {}) != planned("Books", None, {})
    assert planned("Books", "o", {}) != planned("Books", "o", {"k": "v"})


# --- world accounts ------------------------------------------------------------------------


def test_world_account_is_an_active_system_equity_account_without_a_floor() -> None:
    # GIVEN a ledger
    ledger_id = a_ledger_id()
    # WHEN building its ETH world account
    world = world_account(ledger_id, ETH, created)
    # THEN it has the deterministic id and is credit-normal equity with overdraft allow
    assert world.id == world_account_id(ledger_id, ETH)
    assert (world.ledger_id, world.currency) == (ledger_id, ETH)
    assert world.type is AccountType.EQUITY
    assert world.normal_balance is Side.CREDIT
    assert world.overdraft.mode is OverdraftMode.ALLOW
    assert world.status is AccountStatus.ACTIVE
    assert world.system is True
    assert (world.totals, world.headroom, world.version) == (Totals(), 0, 0)
    assert (world.created_at, world.updated_at) == (created, created)


# --- accounts ------------------------------------------------------------------------------


def _new_account(
    *,
    ledger_id: str | None = None,
    account_type: AccountType = AccountType.ASSET,
    currency: Currency = USD,
    registered: bool = False,
    code: str | None = None,
    parent: AccountRef | None = None,
    overdraft: Overdraft | None = None,
    key_digest: str | None = None,
) -> NewAccount:
    ledger = ledger_id or a_ledger_id()
    return NewAccount(
        account_id=an_account_id(ledger, currency, account_type.normal_balance),
        ledger_id=ledger,
        name="Wallet",
        type=account_type,
        currency=currency,
        registered_currency=registered,
        code=code,
        parent=parent,
        owner_id="user-1",
        overdraft=overdraft or Overdraft(),
        metadata={"tier": "gold"},
        key_digest=key_digest,
    )


def test_plan_account_puts_the_account_checks_the_ledger_and_ensures_world() -> None:
    # GIVEN a plain account request
    command = _new_account()
    # WHEN planning it
    account, plan = plan_account(command, created)
    # THEN the plan creates the account, requires the ledger and upserts the world account
    assert plan.steps == (
        PutNew(account),
        RequireLedger(command.ledger_id, None),
        EnsureWorld(world_account(command.ledger_id, USD, created)),
    )
    # AND the account is active, empty, and as requested
    assert (account.id, account.ledger_id, account.name) == (
        command.account_id,
        command.ledger_id,
        "Wallet",
    )
    assert (account.type, account.currency, account.status) == (
        AccountType.ASSET,
        USD,
        AccountStatus.ACTIVE,
    )
    assert (account.owner_id, account.metadata, account.code, account.parent_id) == (
        "user-1",
        {"tier": "gold"},
        None,
        None,
    )
    assert (account.totals, account.version, account.system) == (Totals(), 0, False)
    assert (account.created_at, account.updated_at) == (created, created)


@pytest.mark.parametrize(
    ("overdraft", "headroom"),
    [
        (Overdraft(), 0),
        (Overdraft(OverdraftMode.LIMIT, 250_00), 250_00),
        (Overdraft(OverdraftMode.ALLOW), 0),
    ],
)
def test_a_new_account_starts_with_its_credit_line_as_headroom(
    overdraft: Overdraft, headroom: int
) -> None:
    # GIVEN an account request with an overdraft policy
    command = _new_account(overdraft=overdraft)
    # WHEN planning it
    account, _ = plan_account(command, created)
    # THEN its headroom is the credit line (spendable of an empty account)
    assert account.overdraft == overdraft
    assert account.headroom == headroom == account.balance().spendable


def test_plan_account_requires_a_registered_currency_with_its_scale() -> None:
    # GIVEN a request in a ledger-registered currency
    points = Currency("POINTS", 3)
    command = _new_account(currency=points, registered=True)
    # WHEN planning it
    _, plan = plan_account(command, created)
    # THEN the ledger check names the currency and scale
    assert RequireLedger(command.ledger_id, points) in plan.steps


def test_plan_account_claims_its_code() -> None:
    # GIVEN a request with a code
    command = _new_account(code="1000.cash")
    # WHEN planning it
    account, plan = plan_account(command, created)
    # THEN the plan claims the code for the account
    assert account.code == "1000.cash"
    assert ClaimUnique(Claim(command.ledger_id, "code", "1000.cash", account.id)) in plan.steps


@pytest.mark.parametrize(
    ("child_type", "parent_type"),
    [
        (AccountType.ASSET, AccountType.ASSET),
        (AccountType.LIABILITY, AccountType.LIABILITY),
        (AccountType.ASSET, AccountType.EXPENSE),  # same side; the stored type decides later
    ],
)
def test_plan_account_requires_its_parent(
    child_type: AccountType, parent_type: AccountType
) -> None:
    # GIVEN a request whose parent is in the same ledger with the same normal side
    ledger_id = a_ledger_id()
    parent = parse_account_id(an_account_id(ledger_id, USD, parent_type.normal_balance))
    command = _new_account(ledger_id=ledger_id, account_type=child_type, parent=parent)
    # WHEN planning it
    account, plan = plan_account(command, created)
    # THEN the plan requires the stored parent to be of the child's ledger and type
    assert account.parent_id == parent.id
    assert plan.steps[-1] == RequireParent(parent.id, ledger_id, child_type)


def test_plan_account_with_code_and_parent_has_five_operations() -> None:
    # GIVEN a request with both a code and a parent
    ledger_id = a_ledger_id()
    parent = parse_account_id(an_account_id(ledger_id, USD, Side.DEBIT))
    command = _new_account(ledger_id=ledger_id, code="c", parent=parent)
    # WHEN planning it
    _, plan = plan_account(command, created)
    # THEN put, ledger, world, code and parent are all there, in that order
    assert [type(operation) for operation in plan.steps] == [
        PutNew,
        RequireLedger,
        EnsureWorld,
        ClaimUnique,
        RequireParent,
    ]


def test_plan_account_refuses_a_parent_of_another_ledger() -> None:
    # GIVEN a parent id from another ledger
    parent = parse_account_id(an_account_id(a_ledger_id(), USD, Side.DEBIT))
    command = _new_account(parent=parent)
    # WHEN planning
    with pytest.raises(LedgerMismatch) as raised:
        plan_account(command, created)
    # THEN the error names the parent_id field
    assert raised.value.details == {"account_id": parent.id, "field": "parent_id"}


def test_plan_account_refuses_a_world_account_as_parent() -> None:
    # GIVEN the ledger's world account as parent of an equity account
    ledger_id = a_ledger_id()
    parent = parse_account_id(world_account_id(ledger_id, USD))
    command = _new_account(ledger_id=ledger_id, account_type=AccountType.EQUITY, parent=parent)
    # WHEN planning
    with pytest.raises(ValidationError) as raised:
        plan_account(command, created)
    # THEN the parent_id is invalid
    assert raised.value.field == "parent_id"


def test_plan_account_refuses_a_parent_of_the_other_normal_side() -> None:
    # GIVEN a credit-normal parent for an asset
    ledger_id = a_ledger_id()
    parent = parse_account_id(an_account_id(ledger_id, USD, Side.CREDIT))
    command = _new_account(ledger_id=ledger_id, account_type=AccountType.ASSET, parent=parent)
    # WHEN planning
    with pytest.raises(TypeMismatch) as raised:
        plan_account(command, created)
    # THEN the error names the parent_id field
    assert raised.value.details == {"field": "parent_id"}


def test_account_request_hash_covers_the_request_not_the_id() -> None:
    # GIVEN one request under two account ids, and variations of it
    command = _new_account(overdraft=Overdraft(OverdraftMode.LIMIT, 5))
    other_id = replace(command, account_id=an_account_id(command.ledger_id))

    # WHEN planning them
    def hash_of(variant: NewAccount) -> str:
        return plan_account(variant, created)[0].request_hash

    # THEN the id does not count, every field of the request does
    assert hash_of(command) == hash_of(other_id)
    variations = [
        replace(command, name="Other"),
        replace(command, type=AccountType.EXPENSE),
        replace(command, currency=Currency("USD", 3)),
        replace(command, code="c1"),
        replace(command, owner_id=None),
        replace(command, overdraft=Overdraft(OverdraftMode.LIMIT, 6)),
        replace(command, overdraft=Overdraft(OverdraftMode.FORBID)),
        replace(command, metadata={}),
    ]
    hashes = {hash_of(variant) for variant in variations}
    assert hash_of(command) not in hashes
    assert len(hashes) == len(variations)


# --- entries -------------------------------------------------------------------------------


def _ref(ledger_id: str, currency: Currency = USD, side: Side = Side.DEBIT) -> AccountRef:
    return parse_account_id(an_account_id(ledger_id, currency, side))


def _new_entry(ledger_id: str, lines: list[LineDraft], **changes: Any) -> NewEntry:
    command = NewEntry(
        entry_id=an_entry_id(ledger_id),
        ledger_id=ledger_id,
        kind=EntryKind.TRANSFER,
        lines=lines,
        description="rent",
        reference="inv-7",
        metadata={"k": "v"},
        effective_at=None,
    )
    return replace(command, **changes)


def test_plan_entry_puts_the_entry_and_one_delta_per_line() -> None:
    # GIVEN a transfer of 10.50 from a debit-normal asset to a credit-normal liability
    ledger_id = a_ledger_id()
    asset, liability = _ref(ledger_id, side=Side.DEBIT), _ref(ledger_id, side=Side.CREDIT)
    lines = [LineDraft(asset, Side.CREDIT, 1050), LineDraft(liability, Side.DEBIT, 1050)]
    command = _new_entry(ledger_id, lines)
    # WHEN planning it
    entry, plan = plan_entry(command, created)
    # THEN the entry is posted with its lines in order, effective now
    assert entry.lines == (
        Line(asset.id, Side.CREDIT, 1050, "USD"),
        Line(liability.id, Side.DEBIT, 1050, "USD"),
    )
    assert (entry.id, entry.ledger_id, entry.kind) == (
        command.entry_id,
        ledger_id,
        EntryKind.TRANSFER,
    )
    assert (entry.status, entry.effective_at, entry.created_at) == (
        EntryStatus.POSTED,
        created,
        created,
    )
    assert (entry.description, entry.reference, entry.metadata) == ("rent", "inv-7", {"k": "v"})
    # AND both accounts lose 10.50 of headroom: each line is against its normal side
    assert plan.steps == (
        PutNew(entry),
        ApplyDelta(
            account_id=asset.id,
            ledger_id=ledger_id,
            currency="USD",
            entry_id=entry.id,
            at=created,
            totals=Totals(posted_credits=1050),
            headroom=-1050,
            outflow=1050,
            entry_kind=EntryKind.TRANSFER,
            effective_at=created,
        ),
        ApplyDelta(
            account_id=liability.id,
            ledger_id=ledger_id,
            currency="USD",
            entry_id=entry.id,
            at=created,
            totals=Totals(posted_debits=1050),
            headroom=-1050,
            outflow=1050,
            entry_kind=EntryKind.TRANSFER,
            effective_at=created,
        ),
    )


@pytest.mark.parametrize("normal", [Side.DEBIT, Side.CREDIT])
def test_a_line_on_the_normal_side_is_an_inflow(normal: Side) -> None:
    # GIVEN an account and a counterparty of the same normal side
    ledger_id = a_ledger_id()
    account, counterparty = _ref(ledger_id, side=normal), _ref(ledger_id, side=normal)
    lines = [LineDraft(account, normal, 7), LineDraft(counterparty, normal.opposite, 7)]
    # WHEN planning the entry
    _, plan = plan_entry(_new_entry(ledger_id, lines), created)
    inflow, outflow = plan.steps[1], plan.steps[2]
    assert isinstance(inflow, ApplyDelta)
    assert isinstance(outflow, ApplyDelta)
    # THEN the normal-side line raises headroom and needs none; the other lowers and needs it
    assert (inflow.headroom, inflow.outflow) == (7, 0)
    assert (outflow.headroom, outflow.outflow) == (-7, 7)
    debit_delta, credit_delta = (inflow, outflow) if normal is Side.DEBIT else (outflow, inflow)
    assert debit_delta.totals == Totals(posted_debits=7)
    assert credit_delta.totals == Totals(posted_credits=7)


def test_plan_entry_keeps_a_given_effective_time() -> None:
    # GIVEN an entry effective a week ago
    ledger_id = a_ledger_id()
    past = created - timedelta(days=7)
    lines = [LineDraft(_ref(ledger_id), Side.DEBIT, 1), LineDraft(_ref(ledger_id), Side.CREDIT, 1)]
    # WHEN planning it
    entry, _ = plan_entry(_new_entry(ledger_id, lines, effective_at=past), created)
    # THEN it is effective then and created now
    assert (entry.effective_at, entry.created_at) == (past, created)


def test_plan_entry_balances_each_currency_on_its_own() -> None:
    # GIVEN a conversion: USD and EUR each balanced through their world accounts
    ledger_id = a_ledger_id()
    usd_world = parse_account_id(world_account_id(ledger_id, USD))
    eur_world = parse_account_id(world_account_id(ledger_id, EUR))
    lines = [
        LineDraft(_ref(ledger_id, USD), Side.CREDIT, 1000),
        LineDraft(usd_world, Side.DEBIT, 1000),
        LineDraft(eur_world, Side.CREDIT, 900),
        LineDraft(_ref(ledger_id, EUR), Side.DEBIT, 900),
    ]
    # WHEN planning it
    entry, plan = plan_entry(_new_entry(ledger_id, lines, kind=EntryKind.ENTRY), created)
    # THEN it is accepted, each line in its account's currency
    assert [line.currency for line in entry.lines] == ["USD", "USD", "EUR", "EUR"]
    assert len(plan.steps) == 5


def test_plan_entry_refuses_money_balanced_only_across_currencies() -> None:
    # GIVEN 10.00 USD debited against 10.00 EUR credited
    ledger_id = a_ledger_id()
    lines = [
        LineDraft(_ref(ledger_id, USD), Side.DEBIT, 1000),
        LineDraft(_ref(ledger_id, EUR), Side.CREDIT, 1000),
    ]
    # WHEN planning
    with pytest.raises(UnbalancedEntry) as raised:
        plan_entry(_new_entry(ledger_id, lines), created)
    # THEN the first unbalanced currency (by code) is named with formatted totals
    assert raised.value.details == {"currency": "EUR", "debits": "0.00", "credits": "10.00"}


def test_plan_entry_refuses_unbalanced_amounts() -> None:
    # GIVEN JPY lines of 5 debited and 3 + 1 credited
    ledger_id = a_ledger_id()
    lines = [
        LineDraft(_ref(ledger_id, JPY), Side.DEBIT, 5),
        LineDraft(_ref(ledger_id, JPY), Side.CREDIT, 3),
        LineDraft(_ref(ledger_id, JPY), Side.CREDIT, 1),
    ]
    # WHEN planning
    with pytest.raises(UnbalancedEntry) as raised:
        plan_entry(_new_entry(ledger_id, lines), created)
    # THEN the error carries the totals per side
    assert raised.value.code == "unbalanced_entry"
    assert raised.value.details == {"currency": "JPY", "debits": "5", "credits": "4"}


def test_plan_entry_tells_currencies_of_one_code_and_two_scales_apart() -> None:
    # GIVEN a USD (scale 2) debit against a USD scale-3 credit of the same minor units
    ledger_id = a_ledger_id()
    lines = [
        LineDraft(_ref(ledger_id, USD), Side.DEBIT, 100),
        LineDraft(_ref(ledger_id, Currency("USD", 3)), Side.CREDIT, 100),
    ]
    # WHEN planning
    # THEN it is unbalanced: minor units of different scales are different money
    with pytest.raises(UnbalancedEntry):
        plan_entry(_new_entry(ledger_id, lines), created)


@pytest.mark.parametrize("count", [0, 1, limits.lines_per_entry_max + 1])
def test_plan_entry_bounds_the_number_of_lines(count: int) -> None:
    # GIVEN too few or too many lines (balanced where possible)
    ledger_id = a_ledger_id()
    lines = [
        LineDraft(_ref(ledger_id), Side.DEBIT if index % 2 else Side.CREDIT, 1)
        for index in range(count)
    ]
    # WHEN planning
    with pytest.raises(ValidationError) as raised:
        plan_entry(_new_entry(ledger_id, lines), created)
    # THEN the lines field is invalid
    assert raised.value.field == "lines"


def test_plan_entry_accepts_the_most_lines() -> None:
    # GIVEN the largest balanced entry: one credit against many debits
    ledger_id = a_ledger_id()
    debits = limits.lines_per_entry_max - 1
    lines = [LineDraft(_ref(ledger_id), Side.CREDIT, debits)]
    lines += [LineDraft(_ref(ledger_id), Side.DEBIT, 1) for _ in range(debits)]
    # WHEN planning it
    entry, plan = plan_entry(_new_entry(ledger_id, lines), created)
    # THEN every line has its delta, and the transaction fits DynamoDB's 100 items
    assert len(entry.lines) == limits.lines_per_entry_max
    assert len(plan.steps) == limits.lines_per_entry_max + 1 <= 100


def test_plan_entry_refuses_an_account_of_another_ledger() -> None:
    # GIVEN a line on an account of another ledger
    ledger_id = a_ledger_id()
    stranger = _ref(a_ledger_id())
    lines = [LineDraft(_ref(ledger_id), Side.DEBIT, 1), LineDraft(stranger, Side.CREDIT, 1)]
    # WHEN planning
    with pytest.raises(LedgerMismatch) as raised:
        plan_entry(_new_entry(ledger_id, lines), created)
    # THEN the error names that line's account field
    assert raised.value.details == {"account_id": stranger.id, "field": "lines[1].account_id"}


def test_plan_entry_refuses_an_account_twice() -> None:
    # GIVEN two lines on the same account (DynamoDB allows one action per item)
    ledger_id = a_ledger_id()
    account = _ref(ledger_id)
    lines = [
        LineDraft(_ref(ledger_id), Side.CREDIT, 2),
        LineDraft(account, Side.DEBIT, 1),
        LineDraft(account, Side.DEBIT, 1),
    ]
    # WHEN planning
    with pytest.raises(ValidationError) as raised:
        plan_entry(_new_entry(ledger_id, lines), created)
    # THEN the second occurrence is named
    assert raised.value.field == "lines[2].account_id"


def test_entry_request_hash_covers_the_request_not_the_id_or_time() -> None:
    # GIVEN one entry request under two entry ids and times, and variations of it
    ledger_id = a_ledger_id()
    debit, credit = _ref(ledger_id), _ref(ledger_id)
    lines = [LineDraft(debit, Side.DEBIT, 5), LineDraft(credit, Side.CREDIT, 5)]
    command = _new_entry(ledger_id, lines)

    def hash_of(variant: NewEntry, now: datetime = created) -> str:
        return plan_entry(variant, now)[0].request_hash

    # WHEN comparing their hashes
    # THEN the id and clock do not count, every field of the request does
    assert hash_of(command) == hash_of(replace(command, entry_id=an_entry_id(ledger_id)), later)
    swapped = [LineDraft(debit, Side.CREDIT, 5), LineDraft(credit, Side.DEBIT, 5)]
    variations = [
        replace(command, kind=EntryKind.DEPOSIT),
        replace(command, lines=swapped),
        replace(
            command, lines=[LineDraft(debit, Side.DEBIT, 6), LineDraft(credit, Side.CREDIT, 6)]
        ),
        replace(command, description=None),
        replace(command, reference="other"),
        replace(command, metadata={}),
        replace(command, effective_at=created),
    ]
    hashes = {hash_of(variant) for variant in variations}
    assert hash_of(command) not in hashes
    assert len(hashes) == len(variations)


# --- currency of a line --------------------------------------------------------------------


def test_check_currency_accepts_no_currency_or_the_account_one() -> None:
    # GIVEN a USD account
    account = _ref(a_ledger_id(), USD)
    # WHEN a line names no currency, USD, or EUR
    refused = []
    for named in (None, "USD", "EUR"):
        try:
            check_currency(named, account, "currency")
        except CurrencyMismatch:
            refused.append(named)
    # THEN only EUR is refused
    assert refused == ["EUR"]


@pytest.mark.parametrize("named", ["EUR", "usd", "USDC"])
def test_check_currency_refuses_another_currency(named: str) -> None:
    # GIVEN a USD account
    account = _ref(a_ledger_id(), USD)
    # WHEN a line names another currency
    with pytest.raises(CurrencyMismatch) as raised:
        check_currency(named, account, "lines[1].currency")
    # THEN the error names the field and the account
    assert raised.value.details == {"field": "lines[1].currency", "account_id": account.id}
