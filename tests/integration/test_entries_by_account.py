"""Entries by account on DynamoDB Local, read from the history the consumer writes from
the table's real stream: full pages, a sharded account's items merged, bounded reads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from aws_lambda_powertools import Metrics
from test_history_consumer import stream_records

from ledger.consumers.history import HistoryConsumer
from ledger.domain.model import Entry
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from ledger.local.dynamodb_local import DynamoDBLocal

pages_max = 50


class CountingClient:
    """The real client, recording the keys of each BatchGetItem and the history Queries."""

    def __init__(self, client: DynamoDBClient) -> None:
        self._client = client
        self.keys_read: list[int] = []
        self.history_queries = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def batch_get_item(self, **arguments: Any) -> Any:
        requests = arguments["RequestItems"].values()
        self.keys_read.append(sum(len(request["Keys"]) for request in requests))
        return self._client.batch_get_item(**arguments)

    def query(self, **arguments: Any) -> Any:
        self.history_queries += arguments.get("IndexName") == "gsi5"
        return self._client.query(**arguments)


Page = tuple[list[str], list[int], int]


def walk(
    ledger: Ledger, counter: CountingClient, ledger_id: str, account_id: str, limit: int
) -> list[Page]:
    """Every page of an account's entries, with the BatchGetItem key counts and the number
    of history Queries each took."""
    pages: list[Page] = []
    cursor: str | None = None
    for _ in range(pages_max):
        counter.keys_read.clear()
        counter.history_queries = 0
        page = ledger.list_entries(ledger_id, account_id=account_id, limit=limit, cursor=cursor)
        ids = [entry.id for entry in page.items]
        pages.append((ids, list(counter.keys_read), counter.history_queries))
        cursor = page.next_cursor
        if cursor is None:
            return pages
    raise AssertionError(f"listing still had a next_cursor after {pages_max} pages")


def test_entries_by_account_come_from_history_in_full_pages(
    dynamodb_local: DynamoDBLocal, dynamodb_client: DynamoDBClient, local_table: str
) -> None:
    # GIVEN 30 deposits of which every sixth (oldest first) is on alice and the rest on
    # bob, all against the ledger's world of 8 shards, and their history written by the
    # consumer from the table's stream
    counter = CountingClient(dynamodb_client)
    ledger = Ledger(DynamoDBStore(local_table, client=cast("DynamoDBClient", counter)))
    book = ledger.create_ledger("Busy").id
    alice = ledger.create_account(book, "Alice", "liability", "USD")
    bob = ledger.create_account(book, "Bob", "liability", "USD")
    entries: list[Entry] = []
    for index in range(30):
        account = alice if index % 6 == 0 else bob
        entries.append(ledger.deposit(account.id, f"{index + 1}.00"))
    consumer = HistoryConsumer(local_table, dynamodb_client, metrics=Metrics(namespace="Test"))
    records = stream_records(dynamodb_local, dynamodb_client, local_table)
    assert consumer.handle({"Records": records}) == {"batchItemFailures": []}
    newest_first = [entry.id for entry in entries[::-1]]
    world = next(line.account_id for line in entries[0].lines if line.account_id != alice.id)
    # WHEN alice's entries are listed two at a time
    alice_pages = walk(ledger, counter, book, alice.id, limit=2)
    # THEN all five come, newest first, in full pages, each page one history Query and one
    # BatchGetItem of just its entries
    assert [entry for ids, _, _ in alice_pages for entry in ids] == _on_newest(entries, alice.id)
    assert [(len(ids), reads, queries) for ids, reads, queries in alice_pages] == [
        (2, [2], 1),
        (2, [2], 1),
        (1, [1], 1),
    ]
    # WHEN bob's entries are listed four at a time
    bob_pages = walk(ledger, counter, book, bob.id, limit=4)
    # THEN all 25 come in full pages but the last
    assert [entry for ids, _, _ in bob_pages for entry in ids] == _on_newest(entries, bob.id)
    assert [len(ids) for ids, _, _ in bob_pages] == [4] * 6 + [1]
    # WHEN the world's entries (its 8 items merged) are listed seven at a time
    world_pages = walk(ledger, counter, book, world, limit=7)
    # THEN every deposit comes once, newest first, in full pages but the last
    assert [entry for ids, _, _ in world_pages for entry in ids] == newest_first
    assert [len(ids) for ids, _, _ in world_pages] == [7, 7, 7, 7, 2]


def _on(entries: list[Entry], account_id: str) -> set[str]:
    return {
        entry.id for entry in entries if any(line.account_id == account_id for line in entry.lines)
    }


def _on_newest(entries: list[Entry], account_id: str) -> list[str]:
    return [entry.id for entry in entries[::-1] if entry.id in _on(entries, account_id)]
