"""The cursor secret on DynamoDB Local: made once per table, and a lost race takes the winner's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore
from ledger.store.dynamodb.secret import ensure_secret, secret_item_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


class _Blind:
    """A client that never sees the secret item, as a store does that reads it just before
    another store creates it."""

    def __init__(self, client: DynamoDBClient) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_item(self, **arguments: Any) -> Any:
        return {}


def test_a_store_that_loses_the_race_takes_the_winners_secret_and_cursors_cross_stores(
    dynamodb_client: DynamoDBClient, local_table: str
) -> None:
    # GIVEN a cursor sealed by one store, which created the table's secret
    first = Ledger(DynamoDBStore(local_table, client=dynamodb_client))
    ids = [first.create_ledger(f"L{index}").id for index in range(2)]
    cursor = first.list_ledgers(limit=1).next_cursor
    assert cursor is not None
    stored = dynamodb_client.get_item(TableName=local_table, Key=secret_item_key)["Item"]
    # WHEN a store that did not see the secret tries to create one, and a second store
    # resumes the listing
    taken = ensure_secret(cast("DynamoDBClient", _Blind(dynamodb_client)), local_table)
    second = Ledger(DynamoDBStore(local_table, client=dynamodb_client))
    page = second.list_ledgers(limit=1, cursor=cursor)
    # THEN the secret stays the one the first store made, and the listing goes on
    assert taken == stored["secret"]["B"]
    assert [record.id for record in page.items] == ids[1:]
