"""An item's history and effective-time aggregates replaced on the table (ADR 0026).

The old history records and aggregates are deleted first (BatchWriteItem, 25 a call,
unprocessed ones sent again within a bound), then each rebuilt record is written as the
consumer writes one: its put conditional on its absence, with its aggregate additions, in
one transaction. A record the consumer writes meanwhile is kept (the put finds it), so a
rebuild and a consumer that has resumed do not add twice."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

from ledger.planning.history import HistoryRecord
from ledger.store.dynamodb.codec import string
from ledger.store.dynamodb.history import partition_of, write_history
from ledger.store.dynamodb.retries import Budget, read

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

batch_write_items_max = 25
batch_write_attempts_max = 8
batch_write_retry_delay_s = 0.1


class UnprocessedDeletes(RuntimeError):
    """DynamoDB left deletions unprocessed past the retry bound; run the rebuild again."""


def replace_history(
    client: DynamoDBClient,
    table_name: str,
    item: tuple[str, int],
    records: Sequence[HistoryRecord],
    budget: Budget,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Delete the item's history and aggregates, then write `records`; how many were
    written (a record already there, written by the consumer meanwhile, is not)."""
    for prefix in ("HISTORY", "EFFECTIVE"):
        keys = _keys_of(client, table_name, partition_of(prefix, *item), budget)
        for first in range(0, len(keys), batch_write_items_max):
            _delete(client, table_name, keys[first : first + batch_write_items_max], sleep)
    return sum(int(write_history(client, table_name, record)) for record in records)


def _keys_of(
    client: DynamoDBClient, table_name: str, partition: str, budget: Budget
) -> list[dict[str, Any]]:
    arguments: dict[str, Any] = {
        "TableName": table_name,
        "KeyConditionExpression": "pk = :partition",
        "ExpressionAttributeValues": {":partition": string(partition)},
        "ProjectionExpression": "pk, sk",
        "ConsistentRead": True,
    }
    keys: list[dict[str, Any]] = []
    while True:
        response = read(budget, partial(client.query, **arguments))
        keys += response["Items"]
        if "LastEvaluatedKey" not in response:
            return keys
        arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _delete(
    client: DynamoDBClient,
    table_name: str,
    keys: Sequence[dict[str, Any]],
    sleep: Callable[[float], None],
) -> None:
    requests: Any = {table_name: [{"DeleteRequest": {"Key": key}} for key in keys]}
    for _ in range(batch_write_attempts_max):
        unprocessed = client.batch_write_item(RequestItems=requests).get("UnprocessedItems", {})
        if not unprocessed:
            return
        requests = unprocessed
        sleep(batch_write_retry_delay_s)
    raise UnprocessedDeletes(f"{len(requests.get(table_name, []))} deletions left unprocessed")
