"""Account statements over the memory store, which keeps history as it applies plans:
running balances equal sums over the history, pages join into the one-page statement,
and a cursor opens only for the statement it was given for."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest

from ledger.domain.errors import NotFound, ValidationError
from ledger.domain.model import Account, Side, Totals
from ledger.domain.results import Statement, StatementBalance, StatementLine
from ledger.planning.history import HistoryRecord
from ledger.service import Ledger
from ledger.store.history import Basis
from ledger.store.memory import MemoryStore

start = datetime(2026, 3, 30, 22, 0, tzinfo=UTC)
step = timedelta(minutes=37)


class SteppingClock:
    """Each reading is 37 minutes after the previous."""

    def __init__(self) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += step
        return self.now


Book = tuple[Ledger, MemoryStore, SteppingClock, str, str]


@pytest.fixture
def book() -> Book:
    """alice: two deposits, a transfer to bob, a hold confirmed, a deposit backdated by a
    month, and a hold still pending."""
    store = MemoryStore()
    clock = SteppingClock()
    ledger = Ledger(store, clock=clock)
    books = ledger.create_ledger("Statements", owner_id=f"owner-{secrets.token_hex(4)}")
    alice = ledger.create_account(books.id, "alice", "liability", "USD").id
    bob = ledger.create_account(books.id, "bob", "liability", "USD").id
    ledger.deposit(alice, "100.00", description="salary", reference="pay-1")
    ledger.deposit(alice, "40.00")
    ledger.transfer(alice, bob, "15.00", description="rent")
    held = ledger.hold(alice, "20.00")
    ledger.confirm_hold(held.id)
    ledger.deposit(alice, "7.00", effective_at=start - timedelta(days=30))
    ledger.hold(alice, "3.00")
    return ledger, store, clock, alice, bob


def history_of(store: MemoryStore, account_id: str) -> list[HistoryRecord]:
    return [
        record
        for (owner, _), records in store._history.items()
        if owner == account_id
        for record in records
    ]


def shown(account: Account, totals: Totals) -> StatementBalance:
    posted = totals.posted_credits - totals.posted_debits
    pending_out = totals.pending_debits
    assert account.normal_balance is Side.CREDIT
    return StatementBalance(posted, posted - pending_out)


def moment_of(record: HistoryRecord, basis: Basis) -> datetime:
    return record.created_at if basis == "recorded" else record.effective_at


def all_pages(ledger: Ledger, account_id: str, limit: int, **bounds: object) -> list[Statement]:
    pages = [ledger.statement(account_id, limit=limit, **bounds)]  # type: ignore[arg-type]
    while pages[-1].next_cursor is not None:
        cursor = pages[-1].next_cursor
        pages.append(ledger.statement(account_id, limit=limit, cursor=cursor, **bounds))  # type: ignore[arg-type]
    return pages


@pytest.mark.parametrize("basis", ["recorded", "effective"])
def test_running_balances_equal_sums_over_the_history(book: Book, basis: Basis) -> None:
    # GIVEN alice's book
    ledger, store, _, alice, _ = book
    account = ledger.get_account(alice)
    records = history_of(store, alice)
    # WHEN her whole statement is read on one page
    statement = ledger.statement(alice, basis=basis, limit=100)
    # THEN its lines are her entries' changes in the basis's order, each balance after
    # equal to the sum of every record up to it, the closing one equal to all of them
    ordered = sorted(records, key=lambda record: (moment_of(record, basis), record.version))
    with_entries = [record for record in ordered if record.entry_ids]
    assert [line.version for line in statement.lines] == [r.version for r in with_entries]
    for line in statement.lines:
        counted = [r for r in ordered if ordered.index(r) <= _index(ordered, line)]
        assert line.balance_after == shown(account, sum((r.deltas for r in counted), Totals()))
    assert statement.opening == StatementBalance(0, 0)
    assert statement.closing == shown(account, sum((r.deltas for r in records), Totals()))
    assert statement.next_cursor is None
    if basis == "effective":
        assert statement.lines[0].amount == 700
        assert statement.lines[0].effective_at < statement.lines[1].effective_at
    else:
        assert statement.lines[-2].amount == 700


def _index(ordered: list[HistoryRecord], line: StatementLine) -> int:
    return next(i for i, record in enumerate(ordered) if record.version == line.version)


def test_lines_show_their_entries(book: Book) -> None:
    # GIVEN alice's book WHEN her statement is read THEN each line names its entry's side,
    # amount, words and kind, as alice's lines of it say
    ledger, _, _, alice, _ = book
    lines = ledger.statement(alice).lines
    salary = lines[0]
    assert (salary.side, salary.amount, salary.description, salary.reference) == (
        Side.CREDIT,
        10000,
        "salary",
        "pay-1",
    )
    rent = lines[2]
    assert (rent.side, rent.amount, rent.description, rent.kind) == (
        Side.DEBIT,
        1500,
        "rent",
        "transfer",
    )
    assert rent.balance_after == StatementBalance(12500, 12500)
    held, confirmed = lines[3], lines[4]
    assert held.balance_after == StatementBalance(12500, 10500)
    assert confirmed.balance_after == StatementBalance(10500, 10500)
    assert confirmed.entry_id != held.entry_id


@pytest.mark.parametrize("basis", ["recorded", "effective"])
@pytest.mark.parametrize("size", [1, 2, 3])
def test_pages_join_into_the_one_page_statement(book: Book, basis: Basis, size: int) -> None:
    # GIVEN alice's book
    ledger, _, _, alice, _ = book
    whole = ledger.statement(alice, basis=basis, limit=100)
    # WHEN it is read in pages of `size`
    pages = all_pages(ledger, alice, size, basis=basis)
    # THEN the pages hold the same lines with the same running balances, and each page
    # the same opening and closing
    assert [line for page in pages for line in page.lines] == whole.lines
    assert len(pages) == -(-len(whole.lines) // size)
    assert {(page.opening, page.closing) for page in pages} == {(whole.opening, whole.closing)}


@pytest.mark.parametrize("basis", ["recorded", "effective"])
def test_bounds_give_the_balance_before_each(book: Book, basis: Basis) -> None:
    # GIVEN alice's whole statement
    ledger, _, _, alice, _ = book
    whole = ledger.statement(alice, basis=basis, limit=100)
    moments = [
        line.created_at if basis == "recorded" else line.effective_at for line in whole.lines
    ]
    # WHEN the statement from the second line's moment to the fifth's is read in pages of 2
    pages = all_pages(ledger, alice, 2, basis=basis, start=moments[1], end=moments[4])
    # THEN it holds the second to the fourth lines, opens at the first's balance after and
    # closes at the fourth's
    assert [line for page in pages for line in page.lines] == whole.lines[1:4]
    assert pages[0].opening == whole.lines[0].balance_after
    assert pages[0].closing == whole.lines[3].balance_after


def test_a_forged_or_moved_cursor_is_refused(book: Book) -> None:
    # GIVEN a first page of alice's statement
    ledger, _, _, alice, bob = book
    cursor = ledger.statement(alice, limit=2).next_cursor
    assert cursor is not None
    forged = cursor[:-2] + ("AA" if cursor[-2:] != "AA" else "BB")
    # WHEN the cursor is altered, or used for another basis, account or caller
    # THEN each is refused naming the cursor
    attempts: list[dict[str, object]] = [
        {"cursor": forged},
        {"cursor": cursor, "basis": "effective"},
        {"cursor": cursor, "account_id": bob},
        {"cursor": cursor, "caller": "someone"},
        {"cursor": cursor, "start": start},
    ]
    for attempt in attempts:
        arguments = {"account_id": alice, "limit": 2, **attempt}
        with pytest.raises(ValidationError) as refused:
            ledger.statement(**arguments)  # type: ignore[arg-type]
        assert refused.value.field == "cursor"


def test_bad_parameters_are_refused_naming_them(book: Book) -> None:
    # GIVEN alice's book WHEN a statement is asked with a bad basis, a naive time, an end
    # not after its start, or a bad limit THEN the parameter is named
    ledger, _, _, alice, _ = book
    naive = datetime(2026, 4, 1)
    cases: list[tuple[str, dict[str, object]]] = [
        ("basis", {"basis": "booked"}),
        ("from", {"start": naive}),
        ("to", {"end": naive}),
        ("to", {"start": start, "end": start}),
        ("limit", {"limit": 0}),
    ]
    for field, arguments in cases:
        with pytest.raises(ValidationError) as refused:
            ledger.statement(alice, **arguments)  # type: ignore[arg-type]
        assert refused.value.field == field
    with pytest.raises(NotFound):
        ledger.statement(alice[:-6] + "aaaaaa")


@pytest.mark.parametrize("basis", ["recorded", "effective"])
def test_a_sharded_account_s_items_are_merged_in_time_order(basis: Basis) -> None:
    # GIVEN a world of four shards that several deposits, one backdated, moved
    store = MemoryStore()
    ledger = Ledger(store, clock=SteppingClock())
    books = ledger.create_ledger("Sharded", world_shards=4)
    alice = ledger.create_account(books.id, "alice", "liability", "USD").id
    for count in range(1, 9):
        backdated = start - timedelta(days=count) if count % 3 == 0 else None
        ledger.deposit(alice, f"{count}.00", effective_at=backdated)
    world = next(owner for owner, shard in store._history if shard > 0)
    records = history_of(store, world)
    assert len({record.shard for record in records}) > 1
    # WHEN its statement is read on one page and in pages of 2
    whole = ledger.statement(world, basis=basis, limit=100)
    pages = all_pages(ledger, world, 2, basis=basis)
    # THEN the lines are in time order across shards, each balance after the sum of the
    # records up to it, and the pages hold the same lines
    moments = [
        line.created_at if basis == "recorded" else line.effective_at for line in whole.lines
    ]
    assert moments == sorted(moments)
    assert len(whole.lines) == len([record for record in records if record.entry_ids])
    normal = ledger.get_account(world).normal_balance
    posted = 0
    for line in whole.lines:
        posted += line.amount if line.side is normal else -line.amount
        assert line.balance_after.posted == posted
    assert whole.closing.posted == posted
    assert [line for page in pages for line in page.lines] == whole.lines
