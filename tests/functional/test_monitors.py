"""Monitors through the library, on each store: evaluated at creation, re-evaluated if the
account moves meanwhile, bounded, listed and removed; the memory store keeps their states."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.domain import limits
from ledger.domain.errors import (
    Conflict,
    IdempotencyKeyReused,
    MonitorsNotKept,
    NotFound,
    TooManyMonitors,
    ValidationError,
)
from ledger.domain.model import Account, AccountShard
from ledger.domain.monitors import Monitor, MonitorState
from ledger.service import Ledger
from ledger.store.memory import MemoryStore
from ledger.store.monitors import AccountMoved

from .conftest import TickingClock
from .helpers import Backend, NothingWritten, new_book


def wallet(ledger: Ledger, book: str, amount: str = "20.00") -> str:
    account_id = ledger.create_account(book, "wallet", "liability", "USD").id
    ledger.deposit(account_id, amount)
    return account_id


def test_a_monitor_is_created_listed_and_removed(ledger: Ledger, book: str) -> None:
    # GIVEN a wallet of 20.00 with two monitors
    account_id = wallet(ledger, book)
    low = ledger.create_monitor(account_id, "available", "lt", "50", description="low")
    high = ledger.create_monitor(account_id, "posted", "gt", "50")
    # WHEN they are listed one at a time, and one is removed
    first = ledger.list_monitors(account_id, limit=1)
    second = ledger.list_monitors(account_id, limit=1, cursor=first.next_cursor)
    removed = ledger.delete_monitor(account_id, low.id)
    # THEN each came once, evaluated at the balance's version, and the removed one is gone
    assert [monitor.id for monitor in first.items + second.items] == [low.id, high.id]
    assert second.next_cursor is None
    assert (low.state, high.state, low.evaluated_version) == (
        MonitorState.TRIGGERED,
        MonitorState.OK,
        1,
    )
    assert removed == low
    assert [monitor.id for monitor in ledger.list_monitors(account_id).items] == [high.id]
    with pytest.raises(NotFound):
        ledger.delete_monitor(account_id, low.id)
    with pytest.raises(NotFound):
        ledger.get_monitor(account_id, "mon_nonsense")


def test_a_cursor_of_another_account_is_refused(ledger: Ledger, book: str) -> None:
    # GIVEN a page cursor of one account's monitors
    first, second = wallet(ledger, book), wallet(ledger, book)
    for account_id in (first, second):
        for value in ("1", "2"):
            ledger.create_monitor(account_id, "held", "gt", value)
    cursor = ledger.list_monitors(first, limit=1).next_cursor
    # WHEN it is used for another account's THEN it is refused
    with pytest.raises(ValidationError) as refused:
        ledger.list_monitors(second, limit=1, cursor=cursor)
    assert refused.value.field == "cursor"


def test_keys_replay_and_refuse_like_every_creation(ledger: Ledger, book: str) -> None:
    # GIVEN a monitor created with a key
    account_id = wallet(ledger, book)
    made = ledger.create_monitor(account_id, "available", "lt", "5", idempotency_key="k")
    # WHEN the key comes again with the same request, and with another
    again = ledger.create_monitor(account_id, "available", "lt", "5.00", idempotency_key="k")
    # THEN the first is replayed, the other refused
    assert (again.id, again.replayed) == (made.id, True)
    with pytest.raises(IdempotencyKeyReused):
        ledger.create_monitor(account_id, "available", "lt", "6", idempotency_key="k")


def test_the_monitors_of_an_account_are_bounded(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN an account with as many monitors as it may hold
    account_id = wallet(ledger, book)
    for value in range(limits.monitors_per_account_max):
        ledger.create_monitor(account_id, "posted", "gt", str(value))
    # WHEN one more is asked for THEN it is refused and nothing is written
    with nothing_written(), pytest.raises(TooManyMonitors):
        ledger.create_monitor(account_id, "posted", "gt", "99")


def test_an_unknown_account_has_no_monitors(ledger: Ledger, book: str) -> None:
    # GIVEN a well-formed id of no account
    stranger = wallet(ledger, book)[:-4] + "zzzz"
    # WHEN its monitors are asked for or made THEN it is not found
    with pytest.raises(NotFound):
        ledger.list_monitors(stranger)
    with pytest.raises(NotFound):
        ledger.create_monitor(stranger, "posted", "gt", "1")


class Moving:
    """A store whose account moves right after its first `moves` reads of it."""

    def __init__(self, store: Any, mover: Ledger, account_id: str, moves: int) -> None:
        self._store = store
        self._mover = mover
        self._account_id = account_id
        self._moves = moves

    def items(self, account_id: str, shards: int) -> list[Account | AccountShard]:
        found = self._store.items(account_id, shards)
        if self._moves:
            self._moves -= 1
            self._mover.deposit(self._account_id, "1.00")
        items: list[Account | AccountShard] = found
        return items

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def test_a_monitor_is_evaluated_again_when_its_account_moves_meanwhile(
    backend: Backend, ledger: Ledger, book: str
) -> None:
    # GIVEN a wallet of 20.00 that a deposit moves right after the monitor's first read
    account_id = wallet(ledger, book)
    moving = Moving(backend.store, ledger, account_id, moves=1)
    watcher = Ledger(moving, clock=TickingClock())
    # WHEN a monitor is created
    monitor = watcher.create_monitor(account_id, "posted", "gte", "21.00")
    # THEN it was evaluated at the balance after the deposit
    assert (monitor.state, monitor.evaluated_version) == (MonitorState.TRIGGERED, 2)


def test_an_account_that_keeps_moving_is_a_conflict(
    backend: Backend, ledger: Ledger, book: str
) -> None:
    # GIVEN a wallet that moves after every read
    account_id = wallet(ledger, book)
    moving = Moving(backend.store, ledger, account_id, moves=limits.monitor_create_attempts_max)
    watcher = Ledger(moving, clock=TickingClock())
    # WHEN a monitor is created THEN it is a conflict, and nothing was added
    with pytest.raises(Conflict):
        watcher.create_monitor(account_id, "posted", "gte", "1.00")
    assert ledger.list_monitors(account_id).items == []


def test_a_store_without_monitors_says_so() -> None:
    # GIVEN a store that keeps everything but monitors
    class Plain:
        def __getattr__(self, name: str) -> Any:
            if "monitor" in name:
                raise AttributeError(name)
            return getattr(MemoryStore(), name)

    ledger = Ledger(Plain())
    # WHEN a monitor is asked for THEN the store's lack is the answer
    with pytest.raises(MonitorsNotKept):
        ledger.list_monitors("acc_x")


def test_the_memory_store_keeps_balance_monitor_states_as_plans_apply() -> None:
    # GIVEN a sharded account and a wallet on the memory store, each watched
    ledger = Ledger(MemoryStore(), clock=TickingClock())
    book = new_book(ledger)
    account_id = wallet(ledger, book)
    revenue = ledger.create_account(book, "fees", "revenue", "USD", overdraft="allow", shards=4)
    watched: dict[str, Monitor] = {
        account_id: ledger.create_monitor(account_id, "available", "lt", "10.00"),
        revenue.id: ledger.create_monitor(revenue.id, "posted", "gte", "5.00"),
    }
    # WHEN the wallet pays 15.00 into the fees account, then 1.00 more
    ledger.transfer(account_id, revenue.id, "15.00")
    ledger.transfer(account_id, revenue.id, "1.00")
    # THEN both monitors crossed, at the versions of the first payment, and stayed
    for owner, monitor in watched.items():
        [now] = ledger.list_monitors(owner).items
        assert (now.id, now.state) == (monitor.id, MonitorState.TRIGGERED)
        assert now.evaluated_version == ledger.get_account(owner).version - 1


def test_a_monitor_removed_by_another_call_meanwhile_is_not_found() -> None:
    # GIVEN a store on which a monitor vanishes between its read and its removal
    class Racing(MemoryStore):
        def remove_monitor(self, account_id: str, monitor_id: str) -> bool:
            super().remove_monitor(account_id, monitor_id)
            return False

    ledger = Ledger(Racing(), clock=TickingClock())
    account_id = wallet(ledger, new_book(ledger))
    monitor = ledger.create_monitor(account_id, "posted", "gt", "1")
    # WHEN it is deleted THEN it is not found
    with pytest.raises(NotFound):
        ledger.delete_monitor(account_id, monitor.id)


def test_the_memory_store_refuses_as_the_table_does() -> None:
    # GIVEN a monitor on the memory store
    store = MemoryStore()
    ledger = Ledger(store, clock=TickingClock())
    account_id = wallet(ledger, new_book(ledger))
    monitor = ledger.create_monitor(account_id, "posted", "gt", "1")
    # WHEN it is added at versions the account no longer has THEN the store refuses
    moved = ledger.create_monitor(account_id, "posted", "gt", "2")
    ledger.delete_monitor(account_id, moved.id)
    with pytest.raises(AccountMoved):
        store.add_monitor(moved, (0,))
    assert store.remove_monitor(account_id, "mon_aaaaaaaaaaaaaaaa") is False
    assert [each.id for each in store.monitors(account_id)] == [monitor.id]
