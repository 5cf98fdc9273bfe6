"""What a store offers to rebuild projections: an item's history replaced whole."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ledger.planning.history import HistoryRecord


@runtime_checkable
class RebuildsHistory(Protocol):
    """A store whose history and effective-time aggregates can be replaced (ADR 0026)."""

    def replace_history(self, account_id: str, shard: int, records: Sequence[HistoryRecord]) -> int:
        """Drop the balance item's history records and aggregates, then write `records` and
        the aggregates they add; the number of history records written."""
