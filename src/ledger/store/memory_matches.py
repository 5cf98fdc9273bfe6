"""The reference store's statement matches: one record per matched row and per matched
entry, each added only where none is, under the store's lock."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from ledger.domain.matches import MatchRecord, MatchRefused
from ledger.store.matches import entry_sort_key, ledger_partition, row_sort_key

ItemKey = tuple[str, str]


def _row_key(record: MatchRecord) -> ItemKey:
    sort = row_sort_key(record.account_id, record.source, record.row_id)
    return ledger_partition(record.ledger_id), sort


def _entry_key(record: MatchRecord, entry_id: str) -> ItemKey:
    return ledger_partition(record.ledger_id), entry_sort_key(record.account_id, entry_id)


class MemoryMatches:
    """Match records by key, as the table keeps them."""

    _lock: threading.Lock
    _matches: dict[ItemKey, MatchRecord]

    def matched_rows(
        self, ledger_id: str, account_id: str, source: str, row_ids: Sequence[str]
    ) -> set[str]:
        """The rows among `row_ids` matched already."""
        partition = ledger_partition(ledger_id)
        with self._lock:
            return {
                row_id
                for row_id in row_ids
                if (partition, row_sort_key(account_id, source, row_id)) in self._matches
            }

    def matched_entries(
        self, ledger_id: str, account_id: str, entry_ids: Sequence[str]
    ) -> set[str]:
        """The entries among `entry_ids` matched already on the account."""
        partition = ledger_partition(ledger_id)
        with self._lock:
            return {
                entry_id
                for entry_id in entry_ids
                if (partition, entry_sort_key(account_id, entry_id)) in self._matches
            }

    def record_matches(self, records: Sequence[MatchRecord]) -> dict[str, MatchRefused]:
        """Each match whole where none of its items is kept yet; the others refused."""
        refused: dict[str, MatchRefused] = {}
        with self._lock:
            for record in records:
                taken = frozenset(
                    entry_id
                    for entry_id in record.entry_ids
                    if _entry_key(record, entry_id) in self._matches
                )
                row_taken = _row_key(record) in self._matches
                if row_taken or taken:
                    refused[record.row_id] = MatchRefused(row_taken, taken)
                    continue
                self._matches[_row_key(record)] = record
                for entry_id in record.entry_ids:
                    self._matches[_entry_key(record, entry_id)] = record
        return refused
