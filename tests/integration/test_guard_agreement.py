"""Each operation states its rule twice: as the condition DynamoDB evaluates and as the
`violation` check that explains a refusal. For every kind of operation and many random
item states, DynamoDB Local's verdict and the check's agree, and a refused condition hands
back an item the check refuses too."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, get_args

import pytest
from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.domain.ids import derived_entry_id, new_account_id, new_entry_id, new_ledger_id
from ledger.domain.model import (
    Account,
    AccountShard,
    AccountStatus,
    AccountType,
    Entry,
    EntryKind,
    EntryStatus,
    LedgerRecord,
    Line,
    Overdraft,
    OverdraftMode,
    Side,
    Totals,
)
from ledger.domain.money import Currency, builtin_currencies
from ledger.planning.accounts import world_account
from ledger.planning.steps import (
    ApplyDelta,
    ChangeOverdraft,
    Claim,
    ClaimUnique,
    EnsureWorld,
    MarkReversed,
    PutNew,
    RegisterCurrency,
    RequireLedger,
    RequireParent,
    ResolvePending,
    SetDetails,
    SetStatus,
    Step,
    Stored,
)
from ledger.store.dynamodb import ensure_table
from ledger.store.dynamodb.codec import decode, encode
from ledger.store.dynamodb.transact import render

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mypy_boto3_dynamodb import DynamoDBClient

usd, eur = builtin_currencies["USD"], builtin_currencies["EUR"]
now = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)
examples_per_kind = 30

Case = tuple[Step, Stored]
Draw = Callable[[st.SearchStrategy[Any]], Any]


def fresh_ledger_id() -> str:
    return new_ledger_id(None, None)


def fresh_account_id(ledger_id: str, currency: Currency = usd) -> str:
    return new_account_id(ledger_id, currency, Side.CREDIT, None)


amounts = st.sampled_from([0, 0, 1, 99, 100, 101, 10**30])
# Headrooms and outflows share their values, so "just enough" and "one short" come up often.
edges = [1, 99, 100, 101, 500]
headrooms = st.sampled_from([-101, -1, 0, *edges])
outflows = st.sampled_from([*edges, 0, 10**30])
# Just short of, at, or just past a bound.
near = st.sampled_from([0, -1, 1])
# Mostly true: a random state should break one rule at a time, not all of them at once.
mostly = st.sampled_from([True, True, True, True, False])
# Around `now` to the microsecond, where "expired" begins.
expiries = st.sampled_from(
    [
        now,
        now,
        now - timedelta(microseconds=1),
        now + timedelta(microseconds=1),
        None,
        now - timedelta(days=1),
        now + timedelta(days=1),
    ]
)


def overdrafts(draw: Draw) -> Overdraft:
    mode = draw(st.sampled_from(OverdraftMode))
    limit = draw(st.sampled_from([0, 100, 5_000])) if mode is OverdraftMode.LIMIT else 0
    return Overdraft(mode, limit)


def an_account(draw: Draw, account_id: str, ledger_id: str, currency: Currency) -> Account:
    """An account item at `account_id`, in a random state, sometimes of another ledger or
    currency than the operation expects."""
    return Account(
        id=account_id,
        ledger_id=ledger_id if draw(mostly) else fresh_ledger_id(),
        name="account",
        type=draw(st.sampled_from(AccountType)),
        currency=currency if draw(mostly) else eur,
        status=AccountStatus.ACTIVE if draw(mostly) else draw(st.sampled_from(AccountStatus)),
        overdraft=overdrafts(draw),
        created_at=now,
        updated_at=now,
        request_hash="0" * 64,
        totals=Totals(
            posted_debits=draw(amounts),
            posted_credits=draw(amounts),
            pending_debits=draw(amounts),
            pending_credits=draw(amounts),
        ),
        headroom=draw(headrooms),
        version=draw(st.integers(min_value=0, max_value=3)),
    )


def a_shard(draw: Draw, account_id: str, index: int, ledger_id: str) -> AccountShard:
    """A shard item of `account_id` in a random state, sometimes of another ledger or
    currency than the operation expects."""
    return AccountShard(
        account_id=account_id,
        index=index,
        ledger_id=ledger_id if draw(mostly) else fresh_ledger_id(),
        currency="USD" if draw(mostly) else "EUR",
        status=AccountStatus.ACTIVE if draw(mostly) else draw(st.sampled_from(AccountStatus)),
        updated_at=now,
        totals=Totals(posted_debits=draw(amounts), pending_credits=draw(amounts)),
        headroom=draw(headrooms),
        version=draw(st.integers(min_value=0, max_value=3)),
    )


def an_item(draw: Draw, account_id: str, shard: int, ledger_id: str) -> Account | AccountShard:
    """The item of one shard of an account: the account's own for shard 0."""
    if shard == 0:
        return an_account(draw, account_id, ledger_id, usd)
    return a_shard(draw, account_id, shard, ledger_id)


def an_entry(draw: Draw, entry_id: str, ledger_id: str) -> Entry:
    """An entry item at `entry_id` in a random state of its life."""
    account_id = fresh_account_id(ledger_id)
    return Entry(
        id=entry_id,
        ledger_id=ledger_id,
        kind=draw(st.sampled_from([EntryKind.HOLD, EntryKind.TRANSFER, EntryKind.POST])),
        status=EntryStatus.PENDING if draw(mostly) else draw(st.sampled_from(EntryStatus)),
        lines=(
            Line(account_id, Side.DEBIT, 100, "USD"),
            Line(fresh_account_id(ledger_id), Side.CREDIT, 100, "USD"),
        ),
        effective_at=now,
        created_at=now,
        request_hash="0" * 64,
        expires_at=draw(expiries),
        posting_entry_id=draw(st.sampled_from([None, derived_entry_id(entry_id, "posting")])),
        reversed_by=draw(st.sampled_from([None, derived_entry_id(entry_id, "reversal")])),
    )


def a_ledger(draw: Draw, ledger_id: str, code: str) -> LedgerRecord:
    """A ledger item with `code` registered at some scale, or not at all."""
    scale = draw(st.sampled_from([None, 0, 2, 6]))
    return LedgerRecord(
        id=ledger_id,
        name="books",
        owner_id=None,
        metadata={},
        currencies={} if scale is None else {code: scale},
        created_at=now,
        request_hash="0" * 64,
    )


def maybe(draw: Draw, state: Stored) -> Stored:
    """The state, or no item at all."""
    return None if draw(st.integers(min_value=0, max_value=5)) == 5 else state


@st.composite
def put_new(draw: Draw) -> Case:
    ledger_id = fresh_ledger_id()
    entry = an_entry(draw, new_entry_id(ledger_id, None), ledger_id)
    ledger = a_ledger(draw, ledger_id, "XAU")
    shard = a_shard(draw, fresh_account_id(ledger_id), 3, ledger_id)
    record = draw(st.sampled_from([entry, ledger, world_account(ledger_id, usd, now), shard]))
    return PutNew(record), maybe(draw, record if draw(st.booleans()) else None)


@st.composite
def claim_unique(draw: Draw) -> Case:
    ledger_id = fresh_ledger_id()
    claim = Claim(ledger_id, draw(st.sampled_from(["code", "key"])), secrets.token_hex(4), "a")
    held = replace(claim, account_id=fresh_account_id(ledger_id))
    return ClaimUnique(claim), maybe(draw, held if draw(st.booleans()) else None)


@st.composite
def ensure_world(draw: Draw) -> Case:
    ledger_id = fresh_ledger_id()
    world = world_account(ledger_id, usd, now)
    return EnsureWorld(world), maybe(draw, an_account(draw, world.id, ledger_id, usd))


@st.composite
def require_ledger(draw: Draw) -> Case:
    ledger_id = fresh_ledger_id()
    scale = draw(st.sampled_from([None, 0, 2]))
    currency = None if scale is None else Currency("XAU", scale)
    return RequireLedger(ledger_id, currency), maybe(draw, a_ledger(draw, ledger_id, "XAU"))


@st.composite
def require_parent(draw: Draw) -> Case:
    ledger_id = fresh_ledger_id()
    parent_id = fresh_account_id(ledger_id)
    operation = RequireParent(parent_id, ledger_id, draw(st.sampled_from(AccountType)))
    return operation, maybe(draw, an_account(draw, parent_id, ledger_id, usd))


@st.composite
def apply_delta(draw: Draw) -> Case:
    ledger_id = fresh_ledger_id()
    account_id = fresh_account_id(ledger_id)
    # Mostly one item; else a shard of a sharded account, a `world` shard opened on its write.
    shards = 1 if draw(mostly) else draw(st.sampled_from([2, 8]))
    shard = draw(st.integers(min_value=0, max_value=shards - 1))
    operation = ApplyDelta(
        account_id=account_id,
        ledger_id=ledger_id,
        currency="USD",
        entry_id=new_entry_id(ledger_id, None),
        at=now,
        totals=Totals(posted_debits=draw(amounts), pending_credits=draw(amounts)),
        headroom=draw(headrooms),
        outflow=draw(outflows),
        require_active=draw(st.booleans()),
        shard=shard,
        shards=shards,
        opens_shard=shard > 0 and draw(st.booleans()),
    )
    item = an_item(draw, account_id, shard, ledger_id)
    if draw(mostly):
        item = replace(item, headroom=operation.outflow + draw(near))
    return operation, maybe(draw, item)


@st.composite
def set_status(draw: Draw) -> Case:
    ledger_id = fresh_ledger_id()
    account_id = fresh_account_id(ledger_id)
    target = draw(st.sampled_from([AccountStatus.CLOSED, *AccountStatus]))
    # A shard of a sharded account, sometimes closed at the version it was read at.
    shard = 0 if draw(mostly) else draw(st.sampled_from([0, 1, 5]))
    item = an_item(draw, account_id, shard, ledger_id)
    if draw(mostly):
        # Empty, or one unit away from it on one of the four totals.
        nearly = draw(st.sampled_from([1, 2, 0, 3, 4]))
        totals = [7, 7, 0, 0]
        if nearly:
            totals[nearly - 1] += 1
        item = replace(item, totals=Totals(*totals))
    version = None
    if shard or not draw(mostly):
        version = item.version + draw(st.sampled_from([0, 0, 1]))
    return SetStatus(account_id, target, now, shard, version), maybe(draw, item)


@st.composite
def set_details(draw: Draw) -> Case:
    ledger_id = fresh_ledger_id()
    account_id = fresh_account_id(ledger_id)
    name = draw(st.sampled_from([None, "renamed"]))
    metadata = draw(st.sampled_from([None, {}, {"k": "v"}]))
    operation = SetDetails(account_id, name, metadata, now)
    return operation, maybe(draw, an_account(draw, account_id, ledger_id, usd))


@st.composite
def register_currency(draw: Draw) -> Case:
    ledger_id = fresh_ledger_id()
    operation = RegisterCurrency(ledger_id, Currency("XAU", draw(st.sampled_from([0, 2]))))
    return operation, maybe(draw, a_ledger(draw, ledger_id, "XAU"))


@st.composite
def resolve_pending(draw: Draw) -> Case:
    ledger_id = fresh_ledger_id()
    entry_id = new_entry_id(ledger_id, None)
    status = draw(st.sampled_from([EntryStatus.EXPIRED, EntryStatus.POSTED, EntryStatus.VOIDED]))
    posting = derived_entry_id(entry_id, "posting") if status is EntryStatus.POSTED else None
    operation = ResolvePending(entry_id, status, now, posting)
    return operation, maybe(draw, an_entry(draw, entry_id, ledger_id))


@st.composite
def mark_reversed(draw: Draw) -> Case:
    ledger_id = fresh_ledger_id()
    entry_id = new_entry_id(ledger_id, None)
    operation = MarkReversed(entry_id, derived_entry_id(entry_id, "reversal"))
    return operation, maybe(draw, an_entry(draw, entry_id, ledger_id))


@st.composite
def change_overdraft(draw: Draw) -> Case:
    ledger_id = fresh_ledger_id()
    account_id = fresh_account_id(ledger_id)
    previous = overdrafts(draw)
    operation = ChangeOverdraft(account_id, previous, overdrafts(draw), now)
    account = an_account(draw, account_id, ledger_id, usd)
    if draw(mostly):
        account = replace(account, overdraft=previous)
    needed = operation.headroom_needed
    if needed is not None and draw(mostly):
        account = replace(account, headroom=needed + draw(near))
    return operation, maybe(draw, account)


cases_by_kind: dict[type[Step], st.SearchStrategy[Case]] = {
    PutNew: put_new(),
    ClaimUnique: claim_unique(),
    EnsureWorld: ensure_world(),
    RequireLedger: require_ledger(),
    RequireParent: require_parent(),
    ApplyDelta: apply_delta(),
    SetStatus: set_status(),
    SetDetails: set_details(),
    RegisterCurrency: register_currency(),
    ResolvePending: resolve_pending(),
    MarkReversed: mark_reversed(),
    ChangeOverdraft: change_overdraft(),
}


def test_every_kind_of_operation_is_covered() -> None:
    # GIVEN the operations a plan can hold
    # WHEN comparing them with the kinds this test draws
    # THEN none is left out
    assert set(cases_by_kind) == set(get_args(Step))


@pytest.fixture(scope="module")
def table_name(dynamodb_client: DynamoDBClient) -> Iterator[str]:
    """One table for every example: each draws its own fresh item keys."""
    name = f"ledger-test-{secrets.token_hex(6)}"
    ensure_table(dynamodb_client, name)
    yield name
    dynamodb_client.delete_table(TableName=name)


def dynamodb_verdict(
    client: DynamoDBClient, table_name: str, operation: Step
) -> tuple[bool, dict[str, Any] | None]:
    """Whether DynamoDB refuses the operation's action alone, and the item it hands back."""
    try:
        client.transact_write_items(TransactItems=[render(operation, table_name)])
    except ClientError as error:
        response: Any = error.response
    else:
        return False, None
    [reason] = response["CancellationReasons"]
    assert (response["Error"]["Code"], reason["Code"]) == (
        "TransactionCanceledException",
        "ConditionalCheckFailed",
    )
    return True, reason.get("Item")


@pytest.mark.parametrize("kind", list(cases_by_kind), ids=lambda kind: kind.__name__)
@settings(
    max_examples=examples_per_kind,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_condition_and_violation_agree(
    dynamodb_client: DynamoDBClient, table_name: str, kind: type[Step], data: st.DataObject
) -> None:
    # GIVEN an operation of this kind and the item it targets in a random state (or none)
    operation, state = data.draw(cases_by_kind[kind])
    if state is not None:
        dynamodb_client.put_item(TableName=table_name, Item=encode(state))
    # WHEN DynamoDB Local evaluates its condition, and the check reads the same state
    refused, returned = dynamodb_verdict(dynamodb_client, table_name, operation)
    violation = operation.violation(state)
    # THEN both refuse or both let it pass
    assert refused is (violation is not None), (operation, state, violation)
    # AND a refusal of an existing item returns it as it was, which the check refuses too
    if refused and state is not None:
        assert returned is not None
        assert decode(returned) == state
        assert operation.violation(decode(returned)) is not None
