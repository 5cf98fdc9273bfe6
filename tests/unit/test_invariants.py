"""The ledger's own invariants: every plan balances per currency, posted and pending, before
a store runs it; an entry's id names its ledger, when planned and when read back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws
from unit_builders import (
    EUR,
    USD,
    a_ledger_id,
    an_account_id,
    an_entry,
    an_entry_id,
    created,
    later,
)

from ledger.domain.errors import LedgerError, MisnamedEntry, NotFound, UnbalancedPlan
from ledger.domain.ids import entry_names_ledger, new_entry_id, parse_account_id
from ledger.domain.model import Entry, EntryKind, EntryStatus, Side, Totals
from ledger.planning.accounts import plan_ledger
from ledger.planning.batch import plan_batch
from ledger.planning.commands import LineDraft, NewEntry
from ledger.planning.entries import plan_entry, plan_reversal
from ledger.planning.invariants import check_balanced, check_entry, checked
from ledger.planning.pending import plan_post, plan_void
from ledger.planning.steps import ApplyDelta, PutNew, Target, WritePlan
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore, ensure_table
from ledger.store.listings import EntriesOf
from ledger.store.memory import MemoryStore

# --- builders ------------------------------------------------------------------------------


def _delta(account_id: str, currency: str, totals: Totals) -> ApplyDelta:
    return ApplyDelta(
        account_id=account_id,
        ledger_id=parse_account_id(account_id).ledger_id,
        currency=currency,
        entry_id=an_entry_id(),
        at=created,
        totals=totals,
        headroom=0,
        outflow=0,
    )


def _entry_command(
    ledger_id: str, amount: int, *, pending: bool = False, entry_id: str | None = None
) -> NewEntry:
    payer = parse_account_id(an_account_id(ledger_id, USD, Side.CREDIT))
    payee = parse_account_id(an_account_id(ledger_id, USD, Side.CREDIT))
    return NewEntry(
        entry_id=entry_id or an_entry_id(ledger_id),
        ledger_id=ledger_id,
        kind=EntryKind.HOLD if pending else EntryKind.TRANSFER,
        lines=[LineDraft(payer, Side.DEBIT, amount), LineDraft(payee, Side.CREDIT, amount)],
        description=None,
        reference=None,
        metadata={},
        effective_at=None,
        pending=pending,
    )


def _misnamed(entry: Entry) -> Entry:
    """The entry as if stored under the id of an entry of another ledger."""
    return replace(entry, id=an_entry_id(a_ledger_id()))


def _unbalanced_plan(ledger_id: str) -> WritePlan:
    """An entry whose one posted debit has no credit."""
    entry = an_entry(ledger_id=ledger_id)
    account_id = entry.lines[0].account_id
    return WritePlan((PutNew(entry), _delta(account_id, "USD", Totals(posted_debits=100))))


@pytest.fixture
def moto_store() -> Iterator[DynamoDBStore]:
    with mock_aws():
        client = boto3.client(
            "dynamodb",
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        ensure_table(client, "ledger-invariants")
        yield DynamoDBStore("ledger-invariants", client=client, sleep=lambda _seconds: None)


# --- every plan the ledger makes balances --------------------------------------------------


def test_every_kind_of_plan_balances_posted_and_pending() -> None:
    # GIVEN a plan of each kind: a posted entry, a pending one, its full and partial posts,
    # its void and expiry, a reversal, a merged batch, and a plan without any delta
    ledger_id = a_ledger_id()
    posted, posting_plan = plan_entry(_entry_command(ledger_id, 500), created)
    pending, pending_plan = plan_entry(_entry_command(ledger_id, 500, pending=True), created)
    wallet, other = (an_account_id(ledger_id, USD, Side.CREDIT) for _ in range(2))
    batch = plan_batch(
        [
            {"type": "transfer", "from_account_id": wallet, "to_account_id": other, "amount": "2"},
            {"type": "hold", "account_id": wallet, "amount": "1"},
            {"type": "deposit", "account_id": other, "amount": "3"},
        ],
        None,
        False,
        created,
    )
    plans = [
        posting_plan,
        pending_plan,
        plan_post(pending, an_entry_id(ledger_id), None, later)[2],
        plan_post(pending, an_entry_id(ledger_id), 300, later)[2],
        plan_void(pending, later)[1],
        plan_void(pending, later, EntryStatus.EXPIRED)[1],
        plan_reversal(posted, an_entry_id(ledger_id), None, later)[1],
        batch.plan,
        plan_ledger(ledger_id=ledger_id, name="n", owner_id=None, metadata={}, now=created)[1],
    ]
    # WHEN checking each
    # THEN every one balances
    for plan in plans:
        check_balanced(plan)


_batch_kinds = ("transfer", "deposit", "withdrawal", "spend", "refund", "hold", "escrow")


@settings(max_examples=40, deadline=None)
@given(
    picks=st.lists(
        st.tuples(
            st.sampled_from(_batch_kinds),
            st.integers(0, 3),
            st.integers(0, 3),
            st.integers(1, 10**6),
        ),
        min_size=1,
        max_size=12,
    ),
    net=st.booleans(),
)
def test_every_batch_plan_balances_after_merging_and_netting(
    picks: list[tuple[str, int, int, int]], net: bool
) -> None:
    # GIVEN any batch of presets among four accounts of either normal side, netted or not
    ledger_id = a_ledger_id()
    accounts = [an_account_id(ledger_id, USD, side) for side in (Side.CREDIT, Side.DEBIT) * 2]
    operations = []
    for kind, first, second, amount in picks:
        payer, payee = accounts[first], accounts[(first + 1 + second % 3) % 4]
        text = f"{amount // 100}.{amount % 100:02d}"
        if kind == "transfer":
            operations.append(
                {"type": kind, "from_account_id": payer, "to_account_id": payee, "amount": text}
            )
        elif kind == "escrow":
            operations.append(
                {
                    "type": kind,
                    "buyer_account_id": payer,
                    "seller_account_id": payee,
                    "amount": text,
                }
            )
        else:
            operations.append({"type": kind, "account_id": payer, "amount": text})
    # WHEN planned
    planned = plan_batch(operations, None, net, created)
    # THEN its one plan balances, posted and pending, whatever merging and netting did
    check_balanced(planned.plan)


# --- unbalanced plans are refused ----------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "debit", "credit"),
    [
        ("posted", Totals(posted_debits=500), Totals(posted_credits=499)),
        ("pending", Totals(pending_debits=500), Totals(pending_credits=501)),
        # Posted on one side and pending on the other: each part balances on its own or not.
        ("posted against pending", Totals(posted_debits=500), Totals(pending_credits=500)),
        ("a one-sided void", Totals(pending_debits=-500), Totals()),
    ],
)
def test_a_plan_whose_debits_and_credits_differ_is_refused(
    name: str, debit: Totals, credit: Totals
) -> None:
    # GIVEN a plan whose deltas do not balance in USD
    ledger_id = a_ledger_id()
    plan = WritePlan(
        (
            _delta(an_account_id(ledger_id), "USD", debit),
            _delta(an_account_id(ledger_id), "USD", credit),
        )
    )
    # WHEN checking it
    with pytest.raises(UnbalancedPlan) as caught:
        check_balanced(plan)
    # THEN it is an internal error naming the currency: the ledger's bug, not the caller's
    assert (caught.value.status, caught.value.code) == (500, "internal_error"), name
    assert caught.value.details == {"currency": "USD"}
    assert isinstance(caught.value, LedgerError)


def test_balance_is_per_currency_not_across_currencies() -> None:
    # GIVEN a plan debiting 5.00 USD and crediting 5.00 EUR: the sums match, the money does not
    ledger_id = a_ledger_id()
    plan = WritePlan(
        (
            _delta(an_account_id(ledger_id, USD), "USD", Totals(posted_debits=500)),
            _delta(an_account_id(ledger_id, EUR), "EUR", Totals(posted_credits=500)),
        )
    )
    # WHEN checking it
    with pytest.raises(UnbalancedPlan) as caught:
        check_balanced(plan)
    # THEN the first currency in order that does not balance is named
    assert caught.value.details == {"currency": "EUR"}


def test_held_and_escrowed_are_parts_of_pending_not_sides_of_it() -> None:
    # GIVEN a balanced pending plan whose payer also reserves the amount as held
    ledger_id = a_ledger_id()
    plan = WritePlan(
        (
            _delta(an_account_id(ledger_id), "USD", Totals(pending_debits=500, held=500)),
            _delta(an_account_id(ledger_id), "USD", Totals(pending_credits=500)),
        )
    )
    # WHEN checking it
    # THEN it balances: held is not a side of the books
    check_balanced(plan)


@pytest.mark.parametrize("kind", ["memory", "moto"])
def test_both_stores_refuse_an_unbalanced_plan_and_write_nothing(
    kind: str, request: pytest.FixtureRequest
) -> None:
    # GIVEN a store, and a plan that puts an entry and moves one side only
    store = MemoryStore() if kind == "memory" else request.getfixturevalue("moto_store")
    ledger_id = a_ledger_id()
    plan = _unbalanced_plan(ledger_id)
    put = plan.steps[0]
    assert isinstance(put, PutNew)
    # WHEN executing it
    with pytest.raises(UnbalancedPlan):
        store.execute(plan)
    # THEN nothing was written: not even the entry
    assert store.get(put.target, Entry) is None


# --- an entry's id names its ledger --------------------------------------------------------


def test_an_entry_whose_id_names_its_ledger_passes() -> None:
    # GIVEN a well-formed entry
    entry = an_entry()
    # WHEN checking it, alone or as any read record
    # THEN it comes back as it was
    assert check_entry(entry) is entry
    assert checked(entry) is entry
    assert entry_names_ledger(entry.id, entry.ledger_id)


@pytest.mark.parametrize("entry_id", ["another ledger", "ent_not-an-id", ""])
def test_an_entry_whose_id_does_not_name_its_ledger_is_an_internal_error(entry_id: str) -> None:
    # GIVEN an entry whose id belongs to another ledger, or is no entry id at all
    entry = an_entry()
    wrong = an_entry_id(a_ledger_id()) if entry_id == "another ledger" else entry_id
    misnamed = replace(entry, id=wrong)
    # WHEN checking it
    with pytest.raises(MisnamedEntry) as caught:
        checked(misnamed)
    # THEN it is an internal error (never not_found: the ledger itself holds it)
    assert (caught.value.status, caught.value.code) == (500, "internal_error")
    assert caught.value.details == {"entry_id": wrong}
    assert not isinstance(caught.value, NotFound)


def test_planning_an_entry_under_another_ledgers_id_is_refused() -> None:
    # GIVEN an entry request in one ledger carrying an id of another
    ledger_id = a_ledger_id()
    command = _entry_command(ledger_id, 100, entry_id=an_entry_id(a_ledger_id()))
    # WHEN planning it
    # THEN it is refused before any plan exists
    with pytest.raises(MisnamedEntry):
        plan_entry(command, created)


def test_posting_voiding_or_reversing_a_misnamed_entry_is_refused() -> None:
    # GIVEN a pending and a posted entry read under ids of another ledger
    ledger_id = a_ledger_id()
    pending, _ = plan_entry(_entry_command(ledger_id, 500, pending=True), created)
    posted, _ = plan_entry(_entry_command(ledger_id, 500), created)
    # WHEN planning to post, void or reverse them
    # THEN each is refused
    with pytest.raises(MisnamedEntry):
        plan_post(_misnamed(pending), an_entry_id(ledger_id), None, later)
    with pytest.raises(MisnamedEntry):
        plan_void(_misnamed(pending), later)
    with pytest.raises(MisnamedEntry):
        plan_reversal(_misnamed(posted), an_entry_id(ledger_id), None, later)
    # AND a posting or reversal entry given another ledger's id is refused too
    with pytest.raises(MisnamedEntry):
        plan_post(pending, an_entry_id(a_ledger_id()), None, later)
    with pytest.raises(MisnamedEntry):
        plan_reversal(posted, an_entry_id(a_ledger_id()), None, later)


@pytest.mark.parametrize("kind", ["memory", "moto"])
def test_a_stored_entry_whose_id_does_not_name_its_ledger_is_never_returned(
    kind: str, request: pytest.FixtureRequest
) -> None:
    # GIVEN a store holding an entry of one ledger under an id of another (a corrupt item)
    store = MemoryStore() if kind == "memory" else request.getfixturevalue("moto_store")
    entry = an_entry()
    misnamed = _misnamed(entry)
    store.execute(WritePlan((PutNew(misnamed),)))
    # WHEN reading it by id or in a listing
    # THEN each read is an internal error, never the entry
    with pytest.raises(MisnamedEntry):
        store.get(Target("entry", misnamed.id), Entry)
    with pytest.raises(MisnamedEntry):
        store.page(EntriesOf(entry.ledger_id, None), 10, None, Entry)
    with pytest.raises(MisnamedEntry):
        Ledger(store).get_entry(misnamed.id)


def test_a_replay_never_returns_a_misnamed_entry() -> None:
    # GIVEN a stored entry that holds the id a deposit's idempotency key gives, but names
    # another ledger
    store = MemoryStore()
    ledger_id = a_ledger_id()
    account_id = an_account_id(ledger_id, USD, Side.CREDIT)
    key = "deposit-1"
    occupant = replace(an_entry(), id=new_entry_id(ledger_id, key))
    store.execute(WritePlan((PutNew(occupant),)))
    # WHEN the deposit comes with that key
    # THEN the would-be replay is an internal error, not the other ledger's entry
    with pytest.raises(MisnamedEntry):
        Ledger(store).deposit(account_id, "1.00", idempotency_key=key)


def test_reads_of_other_records_pass_unchanged() -> None:
    # GIVEN a record that is not an entry
    record, _ = plan_ledger(
        ledger_id=a_ledger_id(), name="n", owner_id=None, metadata={}, now=created
    )
    # WHEN checking it as a read record
    # THEN it passes as it is
    assert checked(record) is record
