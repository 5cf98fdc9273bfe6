"""Storage of API keys: what key management needs of a store, the listing both stores page
the same way, and the store in memory (the library and its tests)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Protocol

from ledger.domain import limits
from ledger.domain.api_keys import ApiKey, KeyStatus
from ledger.domain.model import Page
from ledger.store.cursors import new_secret
from ledger.store.dynamodb.api_key_codec import (
    id_item_key,
    listing_index,
    listing_partition,
    listing_prefix,
    listing_sort,
)
from ledger.store.dynamodb.schema import IndexQuery, Key, ListingSeal

listing = IndexQuery(listing_index, listing_partition, listing_prefix, descending=False)

Within = Callable[[ApiKey], bool]
# Up to `count` listed keys after a position, in listing order, each with its position; a
# key whose record is gone is None.
ReadAfter = Callable[[Key | None, int], list[tuple[Key, ApiKey | None]]]


class Cursors(Protocol):
    """Seals a listing position into a cursor and opens only what it sealed."""

    def seal(self, query: IndexQuery, key: Key) -> str:
        """A cursor for the position after `key`."""

    def open(self, cursor: str, query: IndexQuery) -> Key:
        """The position a cursor names; a validation error for a foreign one."""


class KeyTaken(Exception):
    """A new key's secret or id is another key's already; nothing was written."""

    def __init__(self, *, secret: bool, key_id: bool) -> None:
        super().__init__("taken already: " + ", ".join(_taken(secret=secret, key_id=key_id)))
        self.secret = secret
        self.key_id = key_id


def _taken(*, secret: bool, key_id: bool) -> list[str]:
    return [part for part, taken in (("secret", secret), ("id", key_id)) if taken]


class ApiKeyStore(Protocol):
    """What key management needs from storage."""

    def add(self, key: ApiKey, key_digest: str) -> None:
        """Store a new key under its digest and id, both or neither; KeyTaken if either is."""

    def find(self, key_digest: str) -> ApiKey | None:
        """The key with this digest, or None."""

    def get(self, key_id: str) -> ApiKey | None:
        """The key with this id, or None."""

    def revoke(self, key_id: str, at: datetime) -> ApiKey | None:
        """Mark the key revoked (the first revocation's time stands); None if there is none."""

    def page(
        self, limit: int, cursor: str | None, within: Within, caller: str | None
    ) -> Page[ApiKey]:
        """A page of the keys `within` keeps, oldest first, its cursor sealed for `caller`."""


def position(key: ApiKey) -> Key:
    """Where a key sits in the listing, as its cursor names it."""
    item_key = {name: value["S"] for name, value in id_item_key(key.id).items()}
    return {
        **item_key,
        f"{listing_index}pk": listing_partition,
        f"{listing_index}sk": listing_sort(key),
    }


def page_of(
    read_after: ReadAfter,
    limit: int,
    cursor: str | None,
    within: Within,
    *,
    cursors: Cursors,
    caller: str | None,
) -> Page[ApiKey]:
    """A page as every listing makes it (see IndexQuery): examine keys in order after the
    cursor, at most the examined bound, and stop right after the `limit`-th kept one; the
    cursor is the last key examined, given while another follows it, sealed for `caller`."""
    query = replace(listing, caller=caller)
    start = None if cursor is None else cursors.open(cursor, query)
    items: list[ApiKey] = []
    examined = 0
    while True:
        size = min(limit, limits.index_items_examined_per_page_max - examined)
        batch = read_after(start, size + 1)
        consumed = 0
        for _, key in batch[:size]:
            consumed += 1
            if key is not None and within(key):
                items.append(key)
                if len(items) == limit:
                    break
        if consumed == len(batch):
            return Page(items, None)
        start = batch[consumed - 1][0]
        examined += consumed
        if len(items) == limit or examined == limits.index_items_examined_per_page_max:
            return Page(items, cursors.seal(query, start))


class MemoryApiKeyStore:
    """API keys in a dict, with the DynamoDB store's semantics."""

    def __init__(self) -> None:
        self._by_digest: dict[str, ApiKey] = {}
        self._digests: dict[str, str] = {}
        self._lock = threading.Lock()
        self._cursors = ListingSeal(new_secret())

    def add(self, key: ApiKey, key_digest: str) -> None:
        """Store a new key; KeyTaken if its digest or id is taken."""
        with self._lock:
            secret, key_id = key_digest in self._by_digest, key.id in self._digests
            if secret or key_id:
                raise KeyTaken(secret=secret, key_id=key_id)
            self._by_digest[key_digest] = key
            self._digests[key.id] = key_digest

    def find(self, key_digest: str) -> ApiKey | None:
        """The key with this digest, or None."""
        return self._by_digest.get(key_digest)

    def get(self, key_id: str) -> ApiKey | None:
        """The key with this id, or None."""
        key_digest = self._digests.get(key_id)
        return None if key_digest is None else self._by_digest.get(key_digest)

    def revoke(self, key_id: str, at: datetime) -> ApiKey | None:
        """Mark the key revoked; None if there is none. A record shows no revocation time,
        so `at` is kept only by the table, for operators."""
        with self._lock:
            key = self.get(key_id)
            if key is None:
                return None
            revoked = replace(key, status=KeyStatus.REVOKED)
            self._by_digest[self._digests[key_id]] = revoked
            return revoked

    def page(
        self, limit: int, cursor: str | None, within: Within, caller: str | None
    ) -> Page[ApiKey]:
        """A page of the keys `within` keeps, oldest first, its cursor sealed for `caller`."""
        with self._lock:
            rows: list[tuple[Key, ApiKey | None]] = sorted(
                ((position(key), key) for key in self._by_digest.values()),
                key=lambda row: row[0][f"{listing_index}sk"],
            )

        def read_after(start: Key | None, count: int) -> list[tuple[Key, ApiKey | None]]:
            after = "" if start is None else start[f"{listing_index}sk"]
            return [row for row in rows if row[0][f"{listing_index}sk"] > after][:count]

        return page_of(read_after, limit, cursor, within, cursors=self._cursors, caller=caller)
