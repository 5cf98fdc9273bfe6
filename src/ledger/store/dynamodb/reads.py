"""The paged reads every store on the table makes: index keys by Query, items by BatchGetItem,
each retried within the call's budget."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from ledger.domain import limits
from ledger.domain.errors import Conflict
from ledger.store.dynamodb.retries import Budget, Outcome, read, read_once

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

Key = dict[str, str]
Item = dict[str, Any]


def query_keys(
    client: DynamoDBClient, arguments: dict[str, Any], count: int, budget: Budget
) -> list[Key]:
    """Up to `count` keys of a keys-only index Query (`arguments`), following its pages."""
    arguments = dict(arguments)
    keys: list[Key] = []
    while len(keys) < count:
        response = read(budget, partial(client.query, **arguments, Limit=count - len(keys)))
        keys += [{name: value["S"] for name, value in item.items()} for item in response["Items"]]
        if "LastEvaluatedKey" not in response:
            break
        arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return keys


def batch_get(
    client: DynamoDBClient, table_name: str, keys: list[tuple[str, str]], budget: Budget
) -> dict[tuple[str, str], Item]:
    """The items at these (pk, sk) keys that exist, strongly consistent, by key; keys left
    unprocessed are asked again until the budget or the attempts run out (503 then)."""
    items: dict[tuple[str, str], Item] = {}
    pending: list[Any] = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in keys]
    if not pending:
        return items
    for attempt in range(limits.read_attempts_max):
        if not budget.ready(attempt):
            break
        request: Any = {table_name: {"Keys": pending, "ConsistentRead": True}}
        response = read_once(partial(client.batch_get_item, RequestItems=request))
        if response is None:
            continue
        for item in response["Responses"].get(table_name, []):
            items[(item["pk"]["S"], item["sk"]["S"])] = item
        unprocessed = response.get("UnprocessedKeys") or {}
        pending = list(unprocessed[table_name]["Keys"]) if unprocessed else []
        if not pending:
            return items
    raise Conflict(
        "the listing was throttled or ran out of time; nothing was written; retry",
        {"outcome": Outcome.NOT_APPLIED.value},
    )
