"""Balances of the past over the memory store, which keeps history as it applies plans:
`at` equals the balance seen then, `effective_at` and both equal sums over the history."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from ledger.domain.errors import ReportTooLarge, ValidationError
from ledger.domain.model import Account, Balance, Side, Totals
from ledger.planning.history import HistoryRecord
from ledger.service import Ledger
from ledger.store.memory import MemoryStore

start = datetime(2026, 3, 30, 22, 0, tzinfo=UTC)
step = timedelta(minutes=37)


class SteppingClock:
    """Each reading is 37 minutes after the previous, so operations span days and a month."""

    def __init__(self) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += step
        return self.now


def amounts(balance: Balance) -> tuple[int, ...]:
    return (balance.posted, balance.pending_out, balance.available, balance.held)


def history_of(store: MemoryStore, account_id: str) -> list[HistoryRecord]:
    return [
        record
        for (owner, _), records in store._history.items()
        if owner == account_id
        for record in records
    ]


def totals_where(records: list[HistoryRecord], keep: Callable[[HistoryRecord], bool]) -> Totals:
    return sum((record.deltas for record in records if keep(record)), Totals())


@pytest.fixture
def book() -> tuple[Ledger, MemoryStore, SteppingClock]:
    store = MemoryStore()
    clock = SteppingClock()
    return Ledger(store, clock=clock), store, clock


def test_balances_of_the_past_on_both_axes(book: tuple[Ledger, MemoryStore, SteppingClock]) -> None:
    # GIVEN a ledger of a sharded world, an account with deposits (one backdated by a month),
    # a transfer, a hold voided and a hold confirmed, each seen as it was then
    ledger, store, clock = book
    books = ledger.create_ledger("Past", owner_id=f"owner-{secrets.token_hex(4)}", world_shards=4)
    alice = ledger.create_account(books.id, "alice", "liability", "USD").id
    bob = ledger.create_account(books.id, "bob", "liability", "USD").id
    seen: list[tuple[datetime, tuple[int, ...]]] = []

    def look() -> None:
        seen.append((clock.now, amounts(ledger.get_balance(alice))))

    ledger.deposit(alice, "100.00")
    look()
    ledger.deposit(alice, "40.00", effective_at=start - timedelta(days=35))
    look()
    ledger.transfer(alice, bob, "15.00")
    look()
    held = ledger.hold(alice, "20.00")
    look()
    ledger.void_entry(held.id)
    look()
    confirmed = ledger.hold(alice, "5.00")
    look()
    ledger.confirm_hold(confirmed.id)
    look()
    ledger.deposit(alice, "7.00", effective_at=clock.now - timedelta(hours=3))
    look()

    # WHEN its balance is asked as recorded at each moment seen and between them
    # THEN it is what was seen then, and zero before the account existed
    for moment, expected in seen:
        assert amounts(ledger.get_balance(alice, at=moment)) == expected
        assert amounts(ledger.get_balance(alice, at=moment + step / 2)) == expected
    before = ledger.get_balance(alice, at=start - timedelta(days=400))
    assert (before.posted, before.version, before.at) == (0, 0, start - timedelta(days=400))

    # WHEN asked effective at sampled times, alone and as recorded at sampled times
    # THEN each equals the sum of the history deltas it counts, for alice and the world
    world_id = next(
        account_id for account_id, _ in store._history if account_id not in (alice, bob)
    )
    for account_id in (alice, world_id):
        records = history_of(store, account_id)
        account = ledger.get_account(account_id)
        samples = [start - timedelta(days=40) + timedelta(hours=5 * count) for count in range(220)]
        for effective in samples[::7]:
            got = ledger.get_balance(account_id, effective_at=effective)
            want = totals_where(records, lambda record: record.effective_at <= effective)  # noqa: B023
            assert got.posted == want_posted(account, want)
            assert got.effective_at == effective
            for recorded in samples[::31]:
                both = ledger.get_balance(account_id, at=recorded, effective_at=effective)
                want_both = totals_where(
                    records,
                    lambda record: (
                        record.effective_at <= effective  # noqa: B023
                        and record.created_at <= recorded  # noqa: B023
                    ),
                )
                assert both.posted == want_posted(account, want_both)


def want_posted(account: Account, totals: Totals) -> int:
    if account.normal_balance is Side.CREDIT:
        return totals.posted_credits - totals.posted_debits
    return totals.posted_debits - totals.posted_credits


def test_a_naive_time_is_refused_naming_its_parameter(
    book: tuple[Ledger, MemoryStore, SteppingClock],
) -> None:
    # GIVEN an account
    ledger, _, _ = book
    books = ledger.create_ledger("Naive")
    alice = ledger.create_account(books.id, "alice", "liability", "USD").id
    # WHEN its balance is asked at a time without a zone THEN the parameter is named
    with pytest.raises(ValidationError) as refused:
        ledger.get_balance(alice, effective_at=datetime(2026, 1, 1))
    assert refused.value.field == "effective_at"


def test_too_many_records_of_one_day_are_refused(
    book: tuple[Ledger, MemoryStore, SteppingClock], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an account with three deposits in one day and a bound of two records per read
    ledger, _, clock = book
    clock.now = datetime(2026, 4, 1, tzinfo=UTC)
    books = ledger.create_ledger("Busy")
    alice = ledger.create_account(books.id, "alice", "liability", "USD").id
    for _ in range(3):
        ledger.deposit(alice, "1.00")
    monkeypatch.setattr("ledger.domain.limits.history_records_per_read_max", 2)
    # WHEN its balance effective now is asked THEN it is refused, never approximated
    with pytest.raises(ReportTooLarge):
        ledger.get_balance(alice, effective_at=clock.now)
