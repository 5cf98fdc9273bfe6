"""What a store offers to keep balance monitors: add one evaluated at a version of its
account, read an account's, remove one (ADR 0028)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ledger.domain.monitors import Monitor


class MonitorTaken(Exception):
    """A monitor of that id exists already (a retried or replayed creation); nothing was
    written."""

    def __init__(self, existing: Monitor) -> None:
        super().__init__(f"monitor {existing.id} exists already")
        self.existing = existing


class AccountMoved(Exception):
    """The account's balance items are no longer at the versions the monitor was evaluated
    at; nothing was written, and evaluating it again may pass."""


@runtime_checkable
class KeepsMonitors(Protocol):
    """A store that keeps monitors next to their accounts."""

    def add_monitor(self, monitor: Monitor, versions: tuple[int, ...]) -> None:
        """Write a new monitor, only while the account's items (own item first) are at
        `versions` and the account holds fewer than the most monitors it may: MonitorTaken,
        AccountMoved or TooManyMonitors otherwise, with nothing written."""

    def monitors(self, account_id: str) -> list[Monitor]:
        """Every monitor of the account as it stands (strongly consistent), by id."""

    def remove_monitor(self, account_id: str, monitor_id: str) -> bool:
        """Remove a monitor; False if the account has none of that id."""
