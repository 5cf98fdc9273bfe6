"""The DynamoDB store: a plan is one TransactWriteItems; reads are consistent GetItems."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from ledger import limits
from ledger.dynamodb_client import default_client as default_client  # noqa: PLC0414
from ledger.errors import Conflict
from ledger.invariants import check_balanced, checked
from ledger.model import Page
from ledger.operations import Target, WritePlan
from ledger.store import R
from ledger.store.dynamodb.codec import Record, decode, string
from ledger.store.dynamodb.secret import TableSeal
from ledger.store.dynamodb.transact import render
from ledger.store.keys import IndexQuery, item_key, paged

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

# Contention, throttling, or a condition that failed on state which has moved on since:
# nothing was written, so the plan is simply tried again.
retry_after_cancellation = frozenset(
    {
        "None",
        "TransactionConflict",
        "ThrottlingError",
        "ProvisionedThroughputExceeded",
        "ConditionalCheckFailed",
    }
)
retry_codes = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TransactionInProgressException",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
# These may have been applied: the retry keeps the ClientRequestToken, so DynamoDB
# answers with the first outcome instead of applying the plan twice.
outcome_unknown_codes = frozenset(
    {"TransactionInProgressException", "InternalServerError", "ServiceUnavailable"}
)
batch_get_attempts_max = 8


class DynamoDBStore:
    """Executes plans as single transactions on one table; every guard is a condition."""

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.table_name = table_name
        self.client = client or default_client()
        self._sleep = sleep
        self._cursors = TableSeal(self.client, table_name)

    def execute(self, plan: WritePlan) -> None:
        """Apply the plan atomically; explain a cancellation by the failed condition."""
        check_balanced(plan)
        actions = [render(operation, self.table_name) for operation in plan.operations]
        token = str(uuid.uuid4())
        for attempt in range(limits.transaction_attempts_max):
            if attempt > 0:
                self._sleep(_backoff_ms(attempt - 1) / 1000)
            try:
                self.client.transact_write_items(TransactItems=actions, ClientRequestToken=token)
            except (HTTPClientError, BotocoreConnectionError):
                # The request may have been applied; the same token makes the retry safe.
                continue
            except ClientError as error:
                code = error.response["Error"]["Code"]
                if code == "TransactionCanceledException":
                    reasons = error.response.get("CancellationReasons", [])
                    violation = self._explain(plan, reasons)
                    if violation is not None:
                        raise violation from error
                    if not all(
                        reason.get("Code", "None") in retry_after_cancellation for reason in reasons
                    ):
                        raise
                    token = str(uuid.uuid4())
                elif code not in retry_codes:
                    raise
                elif code not in outcome_unknown_codes:
                    token = str(uuid.uuid4())
            else:
                return
        raise Conflict("the write met contention and did not complete; retry with the same key")

    def _explain(self, plan: WritePlan, reasons: list[Any]) -> Exception | None:
        """The first violation, in plan order, among the conditions that failed."""
        for operation, reason in zip(plan.operations, reasons, strict=False):
            if reason.get("Code") != "ConditionalCheckFailed":
                continue
            if "Item" in reason:
                current: Record | None = decode(reason["Item"])
            else:
                current = self._get_record(operation.target)
            violation = operation.violation(current)
            if violation is not None:
                return violation
        return None

    def _get_record(self, target: Target) -> Record | None:
        key = {name: string(value) for name, value in item_key(target).items()}
        response = self.client.get_item(TableName=self.table_name, Key=key, ConsistentRead=True)
        return checked(decode(response["Item"])) if "Item" in response else None

    def get(self, target: Target, kind: type[R]) -> R | None:
        """The record at `target`: one strongly consistent GetItem."""
        record = self._get_record(target)
        return record if isinstance(record, kind) else None

    def page(self, query: IndexQuery, limit: int, cursor: str | None, kind: type[R]) -> Page[R]:
        """Query keys from the index, then read the items themselves, strongly consistent, in
        index order: one Query for one key more than needed (to know whether more exist) and
        one BatchGetItem. A page the items leave short (a filter kept few) repeats that with
        doubling batches until it is full or has examined its bound of index items."""
        if query.named_ledgers is not None:
            return self._page_of_named(query, limit, cursor, kind)
        start = None if cursor is None else self._cursors.open(cursor, query)
        items: list[R] = []
        examined = 0
        batch_size = limit
        while True:
            size = min(
                batch_size,
                limits.batch_get_keys_max,
                limits.index_items_examined_per_page_max - examined,
            )
            keys = self._query_keys(query, size + 1, start)
            batch = keys[:size]
            records = self._batch_get([{"pk": key["pk"], "sk": key["sk"]} for key in batch])
            consumed = 0
            for key in batch:
                consumed += 1
                record = records.get((key["pk"], key["sk"]))
                if isinstance(record, kind) and query.keeps(record):
                    items.append(record)
                    if len(items) == limit:
                        break
            if consumed == len(keys):
                return Page(items, None)
            start = batch[consumed - 1]
            examined += consumed
            if len(items) == limit or examined == limits.index_items_examined_per_page_max:
                return Page(items, self._cursors.seal(query, start))
            batch_size *= 2

    def _page_of_named(
        self, query: IndexQuery, limit: int, cursor: str | None, kind: type[R]
    ) -> Page[R]:
        """A listing of named ledgers: they are read by id (BatchGetItem), never found
        through the index, so the page and its cursor reflect them alone."""
        after = None if cursor is None else self._cursors.open(cursor, query)
        keys = [
            item_key(Target("ledger", ledger_id)) for ledger_id in sorted(query.named_ledgers or ())
        ]
        records: dict[tuple[str, str], Record] = {}
        for first in range(0, len(keys), limits.batch_get_keys_max):
            records.update(self._batch_get(keys[first : first + limits.batch_get_keys_max]))
        items, last = paged(query.rows(records.items(), kind), query, limit, after)
        return Page(items, None if last is None else self._cursors.seal(query, last))

    def _query_keys(
        self, query: IndexQuery, count: int, start: dict[str, str] | None
    ) -> list[dict[str, str]]:
        partition, sort = f"{query.index}pk", f"{query.index}sk"
        if query.sort_before is None:
            sort_condition, bound = "begins_with(#sort, :bound)", query.sort_prefix
        else:
            sort_condition, bound = "#sort < :bound", query.sort_before
        arguments: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": query.index,
            "KeyConditionExpression": f"#partition = :partition AND {sort_condition}",
            "ExpressionAttributeNames": {"#partition": partition, "#sort": sort},
            "ExpressionAttributeValues": {
                ":partition": string(query.partition),
                ":bound": string(bound),
            },
            "ScanIndexForward": not query.descending,
        }
        if start is not None:
            arguments["ExclusiveStartKey"] = {name: string(value) for name, value in start.items()}
        keys: list[dict[str, str]] = []
        while len(keys) < count:
            response = self.client.query(**arguments, Limit=count - len(keys))
            keys += [
                {name: value["S"] for name, value in item.items()} for item in response["Items"]
            ]
            if "LastEvaluatedKey" not in response:
                break
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return keys

    def _batch_get(self, keys: list[dict[str, str]]) -> dict[tuple[str, str], Record]:
        records: dict[tuple[str, str], Record] = {}
        if not keys:
            return records
        pending: list[Any] = [{name: string(value) for name, value in key.items()} for key in keys]
        for attempt in range(batch_get_attempts_max):
            if attempt > 0:
                self._sleep(_backoff_ms(attempt - 1) / 1000)
            response = self.client.batch_get_item(
                RequestItems={self.table_name: {"Keys": pending, "ConsistentRead": True}}
            )
            for item in response["Responses"].get(self.table_name, []):
                records[(item["pk"]["S"], item["sk"]["S"])] = checked(decode(item))
            unprocessed = response.get("UnprocessedKeys") or {}
            pending = list(unprocessed[self.table_name]["Keys"]) if unprocessed else []
            if not pending:
                return records
        raise Conflict("the listing was throttled; retry")


def _backoff_ms(attempt: int) -> int:
    """Full jitter: a random wait up to an exponentially growing, bounded ceiling."""
    return random.randint(
        0, min(limits.retry_delay_ms_max, limits.retry_delay_ms_base * 2**attempt)
    )
