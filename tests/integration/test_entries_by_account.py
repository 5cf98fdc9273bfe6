"""Entries by account on DynamoDB Local: pages bounded in reads, walked across cursors."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import pytest

from ledger.domain import limits
from ledger.domain.model import Entry
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Small enough that a sparse account needs several bounded pages over a few dozen entries.
examined_per_page_max = 7
pages_max = 50


class CountingClient:
    """The real client, recording how many keys each BatchGetItem reads."""

    def __init__(self, client: DynamoDBClient) -> None:
        self._client = client
        self.keys_read: list[int] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_get_item(self, **arguments: Any) -> Any:
        requests = arguments["RequestItems"].values()
        self.keys_read.append(sum(len(request["Keys"]) for request in requests))
        return self._client.batch_get_item(**arguments)


def walk(
    ledger: Ledger, counter: CountingClient, ledger_id: str, account_id: str, limit: int
) -> list[tuple[list[str], list[int]]]:
    """Every page of an account's entries with the BatchGetItem key counts it took."""
    pages: list[tuple[list[str], list[int]]] = []
    cursor: str | None = None
    for _ in range(pages_max):
        counter.keys_read.clear()
        page = ledger.list_entries(ledger_id, account_id=account_id, limit=limit, cursor=cursor)
        pages.append(([entry.id for entry in page.items], list(counter.keys_read)))
        cursor = page.next_cursor
        if cursor is None:
            return pages
    raise AssertionError(f"listing still had a next_cursor after {pages_max} pages")


def test_sparse_account_pages_are_bounded_and_complete(
    dynamodb_client: DynamoDBClient, local_table: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a bound of 7 index items per page, and 30 entries of which every sixth (oldest
    # first) is on alice and the rest on bob
    monkeypatch.setattr(limits, "index_items_examined_per_page_max", examined_per_page_max)
    counter = CountingClient(dynamodb_client)
    ledger = Ledger(DynamoDBStore(local_table, client=cast("DynamoDBClient", counter)))
    book = ledger.create_ledger("Busy").id
    alice = ledger.create_account(book, "Alice", "liability", "USD")
    bob = ledger.create_account(book, "Bob", "liability", "USD")
    entries: list[Entry] = []
    for index in range(30):
        account = alice if index % 6 == 0 else bob
        entries.append(ledger.deposit(account.id, f"{index + 1}.00"))
    alice_entries = [entry.id for entry in entries[::-1] if entry.lines[0].account_id == alice.id]
    bob_entries = [entry.id for entry in entries[::-1] if entry.lines[0].account_id == bob.id]
    # WHEN alice's entries are listed two at a time
    alice_pages = walk(ledger, counter, book, alice.id, limit=2)
    # THEN all five come, newest first, once each, one per page: no page reads more than 7
    # entries, and the last stops at the end of the index
    assert [entry for items, _ in alice_pages for entry in items] == alice_entries
    assert [len(items) for items, _ in alice_pages] == [1, 1, 1, 1, 1]
    assert [sum(reads) for _, reads in alice_pages] == [7, 7, 7, 7, 2]
    # AND a page reads in doubling batches, the last cut to the bound
    assert [reads for _, reads in alice_pages][:4] == [[2, 4, 1]] * 4
    # WHEN bob's entries are listed four at a time
    bob_pages = walk(ledger, counter, book, bob.id, limit=4)
    # THEN all 25 come in full pages, each mostly one BatchGetItem of just the page
    assert [entry for items, _ in bob_pages for entry in items] == bob_entries
    assert [len(items) for items, _ in bob_pages] == [4] * 6 + [1]
    assert all(sum(reads) <= examined_per_page_max for _, reads in bob_pages)
    assert bob_pages[0][1] == [4]
