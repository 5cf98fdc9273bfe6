"""The gsi1 partitions of a ledger's entries, and the listing query that reads them."""

from __future__ import annotations

import json

import pytest
from unit_builders import an_entry

from ledger.domain.ids import new_ledger_id, shard_of
from ledger.domain.model import Entry
from ledger.store.dynamodb.schema import entry_partitions, index_keys, index_query, paged
from ledger.store.listings import EntriesOf


def test_a_ledger_of_one_shard_has_its_own_partition_alone() -> None:
    # GIVEN a ledger of one world shard and an entry of it
    ledger_id = new_ledger_id(None, None)
    entry = an_entry(ledger_id=ledger_id)
    # WHEN its entry partitions and the entry's index keys are made
    # THEN both are the ledger's partition, as before shards
    assert entry_partitions(ledger_id) == (f"LEDGER#{ledger_id}",)
    assert index_keys(entry)["gsi1pk"] == f"LEDGER#{ledger_id}"


def test_a_sharded_ledger_has_one_entry_partition_per_shard() -> None:
    # GIVEN a ledger of 8 world shards and 40 entries of it
    ledger_id = new_ledger_id(None, None, world_shards=8)
    entries = [an_entry(ledger_id=ledger_id) for _ in range(40)]
    # WHEN its entry partitions and the entries' index keys are made
    partitions = entry_partitions(ledger_id)
    used = {index_keys(entry)["gsi1pk"] for entry in entries}
    # THEN there are 8, numbered unpadded from 0, each entry in its shard's
    assert partitions == tuple(f"LEDGER#{ledger_id}#ENTRIES#{shard}" for shard in range(8))
    assert all(
        index_keys(entry)["gsi1pk"] == partitions[shard_of(entry.id, 8)] for entry in entries
    )
    assert len(used) > 1


def test_the_entry_listing_of_a_sharded_ledger_reads_every_partition() -> None:
    # GIVEN a ledger of 8 world shards
    ledger_id = new_ledger_id(None, None, world_shards=8)
    # WHEN its entry listings are made, whole and by reference
    whole = index_query(EntriesOf(ledger_id))
    referenced = index_query(EntriesOf(ledger_id, "inv-1"))
    # THEN the whole one reads the 8 partitions of gsi1, still named by the ledger's
    assert (whole.index, whole.partition) == ("gsi1", f"LEDGER#{ledger_id}")
    assert whole.partitions == entry_partitions(ledger_id)
    # AND the reference listing reads its one gsi3 partition, as before
    assert referenced.partitions == (f"LEDGER#{ledger_id}#REF#inv-1",)


def test_a_listing_of_one_partition_keeps_its_cursor_binding() -> None:
    # GIVEN a ledger of one world shard, and one of 8
    plain, sharded = new_ledger_id(None, None), new_ledger_id(None, None, world_shards=8)
    # WHEN their entry listings' bindings are made
    plain_binding = json.loads(index_query(EntriesOf(plain, None, None, "key_1")).binding())
    sharded_binding = json.loads(index_query(EntriesOf(sharded)).binding())
    # THEN the plain one is what it was before partitions spread, so its cursors still open
    assert plain_binding == ["gsi1", f"LEDGER#{plain}", "ENTRY#", True, None, None, None, "key_1"]
    # AND the sharded one is bound to its partitions too
    assert sharded_binding[-1] == list(entry_partitions(sharded))


def test_rows_of_every_partition_are_paged_newest_first() -> None:
    # GIVEN 12 entries of a ledger of 4 world shards, in its listing's rows
    ledger_id = new_ledger_id(None, None, world_shards=4)
    entries = [an_entry(ledger_id=ledger_id) for _ in range(12)]
    query = index_query(EntriesOf(ledger_id))
    rows = query.rows([((f"ENTRY#{entry.id}", "ENTRY"), entry) for entry in entries], Entry)
    # WHEN they are paged five at a time
    first, after = paged(rows, query, 5, None)
    second, end = paged(rows, query, 5, after)
    third, last = paged(rows, query, 5, end)
    # THEN every entry comes once, by sort key descending, across every partition
    newest_first = sorted(entries, key=lambda entry: index_keys(entry)["gsi1sk"], reverse=True)
    assert first + second + third == newest_first
    assert (len(first), len(second), len(third), last) == (5, 5, 2, None)
    assert len({row[0]["gsi1pk"] for row in rows}) > 1


def test_an_accounts_entries_of_every_reference_are_no_index_listing() -> None:
    # GIVEN a ledger and one of its accounts
    ledger_id = new_ledger_id(None, None)
    account_id = an_entry(ledger_id=ledger_id).lines[0].account_id
    # WHEN a listing of the account's entries is made without a reference
    # THEN it is refused: those are read from the account's history
    with pytest.raises(ValueError, match="history"):
        EntriesOf(ledger_id, None, account_id)
    # AND with a reference it filters that reference's index partition
    query = index_query(EntriesOf(ledger_id, "inv-1", account_id))
    assert (query.partitions, query.account_id) == ((f"LEDGER#{ledger_id}#REF#inv-1",), account_id)
