"""A ledger's entries spread over one index partition per `world` shard, listed as one."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from ledger.domain.errors import ValidationError
from ledger.domain.ids import shard_of
from ledger.domain.model import Account, Entry, Page
from ledger.service import Ledger
from ledger.store.dynamodb.schema import index_keys

from .conftest import TickingClock, _started, store_kinds
from .helpers import Backend, walk_pages

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

entries_count = 24


def _index_partitions(backend: Backend, sort: str) -> dict[str, str]:
    """The gsi1 partition of every stored item of sort key `sort` (an entry's or an
    account's own item), by its pk."""
    partitions: dict[str, str] = {}
    for (pk, sk), item in backend.state().items():
        if sk != sort:
            continue
        if isinstance(item, Entry | Account):
            partitions[pk] = index_keys(item)["gsi1pk"]
        elif isinstance(item, dict):
            partitions[pk] = item["gsi1pk"]["S"]
    return partitions


def _post(ledger: Ledger, ledger_id: str, tag: str) -> tuple[Account, Account, list[Entry]]:
    """Two accounts and `entries_count` entries, oldest first: deposits to alice or bob,
    every third a transfer between them, every id derived from `tag`."""
    alice = ledger.create_account(
        ledger_id, "Alice", "liability", "USD", idempotency_key=f"{tag}-alice"
    )
    bob = ledger.create_account(ledger_id, "Bob", "liability", "USD", idempotency_key=f"{tag}-bob")
    entries: list[Entry] = []
    for index in range(entries_count):
        key = f"{tag}-entry-{index}"
        if index % 3 == 2:
            entries.append(ledger.transfer(alice.id, bob.id, "1.00", idempotency_key=key))
        else:
            account = alice if index % 4 == 0 else bob
            entries.append(ledger.deposit(account.id, f"{index + 5}.00", idempotency_key=key))
    return alice, bob, entries


def _walk(ledger: Ledger, ledger_id: str, limit: int) -> list[list[str]]:
    """Every page of a ledger's entries, as entry ids."""
    pages = walk_pages(lambda cursor: ledger.list_entries(ledger_id, limit=limit, cursor=cursor))
    return [[entry.id for entry in page] for page in pages]


def test_a_sharded_ledgers_entries_spread_over_its_index_partitions(
    backend: Backend, ledger: Ledger
) -> None:
    # GIVEN a ledger of 8 world shards with 24 entries
    book = ledger.create_ledger("Sharded", world_shards=8).id
    _, _, entries = _post(ledger, book, secrets.token_hex(4))
    # WHEN the stored items' gsi1 partitions are read
    entry_partitions = _index_partitions(backend, "ENTRY")
    account_partitions = _index_partitions(backend, "ACCOUNT")
    # THEN each entry is in its shard's partition, several of them in use, none the ledger's
    expected = {
        f"ENTRY#{entry.id}": f"LEDGER#{book}#ENTRIES#{shard_of(entry.id, 8)}" for entry in entries
    }
    assert entry_partitions == expected
    assert len(set(entry_partitions.values())) > 1
    # AND its accounts, world accounts included, stay in the ledger's partition
    assert set(account_partitions.values()) == {f"LEDGER#{book}"}


def test_a_ledger_of_one_shard_keeps_its_entries_in_its_own_partition(
    backend: Backend, ledger: Ledger
) -> None:
    # GIVEN a ledger of one world shard, as every ledger made before shards
    book = ledger.create_ledger("Plain", world_shards=1).id
    _, _, entries = _post(ledger, book, secrets.token_hex(4))
    # WHEN the stored entries' gsi1 partitions are read
    partitions = _index_partitions(backend, "ENTRY")
    # THEN every entry is in the ledger's partition, with its accounts
    assert partitions == {f"ENTRY#{entry.id}": f"LEDGER#{book}" for entry in entries}


@pytest.mark.parametrize("world_shards", [1, 8])
def test_every_entry_is_walked_once_newest_first(ledger: Ledger, world_shards: int) -> None:
    # GIVEN a ledger of 1 or 8 world shards with 24 entries
    book = ledger.create_ledger("Walked", world_shards=world_shards).id
    _, _, entries = _post(ledger, book, secrets.token_hex(4))
    newest_first = [entry.id for entry in reversed(entries)]
    for limit in (1, 2, 3, 5):
        # WHEN its entries are listed `limit` at a time
        pages = _walk(ledger, book, limit)
        # THEN every entry comes once, newest first, in full pages but the last
        assert [entry for page in pages for entry in page] == newest_first
        assert all(len(page) == limit for page in pages[:-1])


def _walks(ledger: Ledger, tag: str) -> list[list[list[str]]]:
    """The pages of a sharded ledger's listings, built from `tag` alone, as entry ids."""
    book = ledger.create_ledger("Compared", owner_id=f"owner-{tag}", idempotency_key=tag).id
    _post(ledger, book, tag)
    return [_walk(ledger, book, limit) for limit in (1, 4, 7)]


def test_memory_and_dynamodb_give_the_same_pages(
    monkeypatch: pytest.MonkeyPatch, moto_client: DynamoDBClient
) -> None:
    # GIVEN the same sharded ledger and entries in each store, ids derived from one tag
    tag = secrets.token_hex(4)
    walks: dict[str, list[list[list[str]]]] = {}
    for kind in store_kinds:
        with _started(kind, monkeypatch, moto_client) as backend:
            # WHEN its entries are listed at several page sizes
            walks[kind] = _walks(Ledger(backend.store, clock=TickingClock()), tag)
    # THEN both stores give the very same pages
    assert walks["memory"] == walks["moto"]
    assert sum(len(page) for page in walks["memory"][0]) == entries_count


def test_a_cursor_of_one_sharded_ledger_is_refused_by_another(ledger: Ledger) -> None:
    # GIVEN two ledgers of 8 world shards, and a cursor of the first one's entries
    first = ledger.create_ledger("First", world_shards=8).id
    second = ledger.create_ledger("Second", world_shards=8).id
    alice, _, _ = _post(ledger, first, secrets.token_hex(4))
    _post(ledger, second, secrets.token_hex(4))
    cursor = ledger.list_entries(first, limit=2).next_cursor
    assert cursor is not None
    # WHEN it is given to the second ledger's listing, or to the first's by reference and
    # account
    refusing_listings: list[Callable[[], Page[Entry]]] = [
        lambda: ledger.list_entries(second, limit=2, cursor=cursor),
        lambda: ledger.list_entries(
            first, reference="order-1", account_id=alice.id, limit=2, cursor=cursor
        ),
    ]
    for refusing in refusing_listings:
        with pytest.raises(ValidationError) as caught:
            refusing()
        # THEN it is refused
        assert caught.value.details == {"field": "cursor"}
    # AND the first ledger's listing goes on from it
    assert len(ledger.list_entries(first, limit=2, cursor=cursor).items) == 2
