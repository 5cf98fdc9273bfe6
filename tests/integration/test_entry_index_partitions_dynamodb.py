"""A sharded ledger's entries on DynamoDB Local: spread over partitions, walked as one."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from ledger.domain.model import Entry
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore
from ledger.store.dynamodb.schema import entry_partitions

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

world_shards = 8
entries_count = 20
pages_max = 50


class QueryCounter:
    """The real client, recording the index partition each Query reads."""

    def __init__(self, client: DynamoDBClient) -> None:
        self._client = client
        self.partitions: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def query(self, **arguments: Any) -> Any:
        self.partitions.append(arguments["ExpressionAttributeValues"][":partition"]["S"])
        return self._client.query(**arguments)


def test_a_sharded_ledgers_entries_are_walked_three_at_a_time(
    dynamodb_client: DynamoDBClient, local_table: str
) -> None:
    # GIVEN a ledger of 8 world shards with 20 deposits
    counter = QueryCounter(dynamodb_client)
    ledger = Ledger(DynamoDBStore(local_table, client=cast("DynamoDBClient", counter)))
    book = ledger.create_ledger("Spread", world_shards=world_shards).id
    account = ledger.create_account(book, "Wallet", "liability", "USD")
    entries: list[Entry] = [
        ledger.deposit(account.id, f"{index + 1}.00") for index in range(entries_count)
    ]
    # WHEN its entries are listed three at a time
    pages: list[tuple[list[str], list[str]]] = []
    cursor: str | None = None
    for _ in range(pages_max):
        counter.partitions.clear()
        page = ledger.list_entries(book, limit=3, cursor=cursor)
        pages.append(([entry.id for entry in page.items], list(counter.partitions)))
        cursor = page.next_cursor
        if cursor is None:
            break
    # THEN every entry comes once, newest first, in full pages but the last
    assert [entry for items, _ in pages for entry in items] == [entry.id for entry in entries[::-1]]
    assert [len(items) for items, _ in pages] == [3] * 6 + [2]
    # AND each page queries each of the ledger's 8 partitions once, in one round
    partitions = sorted(entry_partitions(book))
    assert all(sorted(queried) == partitions for _, queried in pages)
