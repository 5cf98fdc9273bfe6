"""The reference store's monitors. It has no stream, so it keeps each balance monitor's
state itself, in the step that applies a plan, as the monitors consumer keeps it on
DynamoDB; it publishes no events (it has no outbox and no bus)."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import replace

from ledger.domain import limits
from ledger.domain.errors import TooManyMonitors
from ledger.domain.model import Account, AccountShard
from ledger.domain.monitors import Monitor
from ledger.planning.monitors import crossing
from ledger.planning.steps import Stored, Target, account_target
from ledger.store.dynamodb.schema import item_key
from ledger.store.monitors import AccountMoved, MonitorTaken

ItemKey = tuple[str, str]


class MemoryMonitors:
    """Monitors by account and id, under the store's lock."""

    _items: dict[ItemKey, Stored]
    _lock: threading.Lock
    _monitors: dict[str, dict[str, Monitor]]

    def add_monitor(self, monitor: Monitor, versions: tuple[int, ...]) -> None:
        """Add the monitor while the account's items are at `versions`."""
        with self._lock:
            current = tuple(
                self._version_of(account_target(monitor.account_id, index))
                for index in range(len(versions))
            )
            held = self._monitors.setdefault(monitor.account_id, {})
            if monitor.id in held:
                raise MonitorTaken(held[monitor.id])
            if len(held) >= limits.monitors_per_account_max:
                raise TooManyMonitors(
                    f"an account holds at most {limits.monitors_per_account_max} monitors",
                    {"account_id": monitor.account_id, "max": limits.monitors_per_account_max},
                )
            if current != versions:
                raise AccountMoved(monitor.account_id)
            held[monitor.id] = monitor

    def _version_of(self, target: Target) -> int:
        key = item_key(target)
        item = self._items.get((key["pk"], key["sk"]))
        return item.version if isinstance(item, Account | AccountShard) else 0

    def monitors(self, account_id: str) -> list[Monitor]:
        """Every monitor of the account, by id."""
        with self._lock:
            held = self._monitors.get(account_id, {})
            return [held[monitor_id] for monitor_id in sorted(held)]

    def remove_monitor(self, account_id: str, monitor_id: str) -> bool:
        """Remove a monitor; False if there is none of that id."""
        with self._lock:
            return self._monitors.get(account_id, {}).pop(monitor_id, None) is not None

    def _evaluate_monitors(self, accounts: Iterable[Account]) -> None:
        """Each changed account's balance monitors evaluated at its new version (called
        under the lock, with the accounts summed with their shards)."""
        for account in accounts:
            held = self._monitors.get(account.id, {})
            balance = account.balance()
            for monitor_id, monitor in held.items():
                state = crossing(monitor, balance)
                if state is not None:
                    held[monitor_id] = replace(
                        monitor, state=state, evaluated_version=balance.version
                    )
