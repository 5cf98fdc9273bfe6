"""What a store offers to keep statement matches: which rows and entries are matched
already, and recording new matches so that none is recorded twice (ADR 0030)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ledger.domain.matches import MatchRecord, MatchRefused


def row_sort_key(account_id: str, source: str, row_id: str) -> str:
    """The sort key of a matched row's record; the row id stands last, so it may hold any
    text."""
    return f"MATCH#ROW#{account_id}#{source}#{row_id}"


def entry_sort_key(account_id: str, entry_id: str) -> str:
    """The sort key of a matched entry's record."""
    return f"MATCH#ENTRY#{account_id}#{entry_id}"


def ledger_partition(ledger_id: str) -> str:
    """The partition match records live in: the ledger's."""
    return f"LEDGER#{ledger_id}"


@runtime_checkable
class KeepsStatementMatches(Protocol):
    """A store that keeps the matches of statements against accounts."""

    def matched_rows(
        self, ledger_id: str, account_id: str, source: str, row_ids: Sequence[str]
    ) -> set[str]:
        """The rows among `row_ids` of the source's statement matched already (strongly
        consistent)."""

    def matched_entries(
        self, ledger_id: str, account_id: str, entry_ids: Sequence[str]
    ) -> set[str]:
        """The entries among `entry_ids` matched already on the account (strongly
        consistent)."""

    def record_matches(self, records: Sequence[MatchRecord]) -> dict[str, MatchRefused]:
        """Record each match (its row and each of its entries) only if none of them is
        recorded yet; the matches refused so, by row id, with nothing of them written."""
