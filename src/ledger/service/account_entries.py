"""One account's entries, newest first, read from the account's own history.

The account's history records (a sharded account's items merged by sort key, ties in
shard order) are read newest first in recorded order; each lists the entries that moved
the item, newest first. A record that no entry made (a status change) lists none, and
neither does the release of a pending entry (void, expiry): that entry is listed where it
was created. So a page holds `limit` entries unless the history ends, and costs reads of
about `limit` records, however busy the rest of the ledger is.

A cursor carries the place of the record the next page starts at and how many of that
record's entries were given already (a merged batch update lists several), sealed under
the store's cursor secret for the ledger, the account and the caller."""

from __future__ import annotations

import json

from ledger.domain import limits
from ledger.domain.model import Account, Entry, Page
from ledger.planning.history import HistoryRecord, release_kinds
from ledger.service.history import Mark, merged
from ledger.store import Store
from ledger.store.cursors import foreign_cursor
from ledger.store.history import HistoryQuery, sort_key


def account_entries(
    store: Store, account: Account, size: int, cursor: str | None, caller: str | None
) -> Page[Entry]:
    """A page of `size` of the account's entries, newest first, unless its history ends;
    `next_cursor` is None exactly when no entry follows, within the read bound."""
    binding = _binding(account, caller)
    start: Mark | None = None
    skip = 0
    if cursor is not None:
        start, skip = _opened(store.unseal(binding, cursor))
    entry_ids: list[str] = []
    examined = 0
    while True:
        wanted = size + 1 - len(entry_ids)
        query = HistoryQuery("recorded", limit=wanted, descending=True)
        records = merged(store, account.id, query, start)
        for shard, record in records:
            place = Mark(sort_key(record, "recorded"), shard)
            for taken, entry_id in enumerate(_listed(record)):
                if taken < skip:
                    continue
                if len(entry_ids) == size:
                    return _page(store, entry_ids, store.seal(binding, _payload(place, taken)))
                entry_ids.append(entry_id)
            skip = 0
            examined += 1
            # Past this record: from the previous shard's place at its sort key.
            start = Mark(place.key, place.shard - 1)
        if len(records) < wanted:
            return _page(store, entry_ids, None)
        if examined >= limits.history_records_examined_per_page_max:
            # Read bound reached: the next page starts at the last record, all of it given.
            shard, record = records[-1]
            last = _payload(Mark(sort_key(record, "recorded"), shard), len(_listed(record)))
            return _page(store, entry_ids, store.seal(binding, last))


def _listed(record: HistoryRecord) -> tuple[str, ...]:
    """The entries a record lists, newest first: none for a release, whose entry is listed
    at its creation."""
    if record.kind in release_kinds:
        return ()
    return record.entry_ids[::-1]


def _page(store: Store, entry_ids: list[str], next_cursor: str | None) -> Page[Entry]:
    """The entries, read together, in the listing's order."""
    entries = store.entries(entry_ids)
    return Page([entries[entry_id] for entry_id in entry_ids], next_cursor)


def _binding(account: Account, caller: str | None) -> bytes:
    return json.dumps(["entries", account.ledger_id, account.id, caller]).encode()


def _payload(start: Mark, taken: int) -> bytes:
    return json.dumps([start.key, start.shard, taken], separators=(",", ":")).encode()


def _opened(payload: bytes) -> tuple[Mark, int]:
    """The place and count a sealed cursor holds; the seal vouches for what this module
    wrote."""
    try:
        key, shard, taken = json.loads(payload)
        return Mark(str(key), int(shard)), int(taken)
    except (ValueError, TypeError) as error:
        raise foreign_cursor() from error
