"""The expiry sweep: entries due exactly now are swept; a contended one waits for the next."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ledger.domain.errors import Conflict
from ledger.domain.model import EntryStatus
from ledger.planning.steps import ResolvePending, WritePlan
from ledger.service import Ledger
from ledger.store.memory import MemoryStore

start = datetime(2026, 1, 1, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class ContendedStore(MemoryStore):
    """Refuses, as contended, any write that resolves one chosen entry."""

    def __init__(self) -> None:
        super().__init__()
        self.contended: str | None = None

    def execute(self, plan: WritePlan) -> None:
        for operation in plan.steps:
            if isinstance(operation, ResolvePending) and operation.entry_id == self.contended:
                raise Conflict("contended")
        super().execute(plan)


def _funded_holds(ledger: Ledger, count: int) -> list[str]:
    book = ledger.create_ledger("sweep")
    wallet = ledger.create_account(book.id, "Wallet", "liability", "USD")
    ledger.deposit(wallet.id, "100.00")
    return [ledger.hold(wallet.id, "1.00", expires_in=60).id for _ in range(count)]


def test_an_entry_due_exactly_now_is_swept() -> None:
    # GIVEN a hold and a clock standing exactly at its expiry
    clock = Clock()
    ledger = Ledger(MemoryStore(), clock=clock)
    (hold_id,) = _funded_holds(ledger, 1)
    clock.now = start + timedelta(seconds=60)
    # WHEN the sweeper runs
    expired = ledger.expire_pending()
    # THEN the hold is expired now, not on a later run
    assert expired == 1
    assert ledger.get_entry(hold_id).status is EntryStatus.EXPIRED


def test_a_contended_entry_is_left_for_the_next_sweep() -> None:
    # GIVEN two expired holds, one of which meets contention on every write
    clock = Clock()
    store = ContendedStore()
    ledger = Ledger(store, clock=clock)
    first, second = _funded_holds(ledger, 2)
    store.contended = first
    clock.now = start + timedelta(seconds=61)
    # WHEN the sweeper runs
    expired = ledger.expire_pending()
    # THEN it expires the other hold and leaves the contended one pending
    assert expired == 1
    assert ledger.get_entry(first).status is EntryStatus.PENDING
    assert ledger.get_entry(second).status is EntryStatus.EXPIRED
    # AND once the contention is gone, the next sweep expires it
    store.contended = None
    assert ledger.expire_pending() == 1
    assert ledger.get_entry(first).status is EntryStatus.EXPIRED
