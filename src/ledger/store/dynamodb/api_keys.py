"""API keys in the ledger's table. A new key is one transaction of its two items, each
guarded by a named condition; a cancellation is explained by its reasons, item by item,
and contention is retried with the store's bounded backoff."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from ledger import limits
from ledger.auth.api_key import ApiKey, KeyStatus
from ledger.auth.key_codec import (
    decode,
    encode,
    encode_id_item,
    id_item_key,
    key_item_key,
    listing_index,
    listing_partition,
    listing_prefix,
)
from ledger.auth.key_lookup import KeyLookup
from ledger.errors import Conflict
from ledger.model import Page
from ledger.store.api_keys import KeyTaken, Within, page_of
from ledger.store.dynamodb.secret import TableSeal
from ledger.store.dynamodb.store import (
    _backoff_ms,
    batch_get_attempts_max,
    outcome_unknown_codes,
    retry_codes,
)
from ledger.store.keys import Key
from ledger.timestamps import timestamp

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

key_is_new = "attribute_not_exists(pk)"
key_exists = "attribute_exists(pk)"
revocation = "SET #status = :revoked, revoked_at = if_not_exists(revoked_at, :now)"
# Where each item is in the creation transaction, so its cancellation reason can be read.
record_action = 0
id_action = 1
# Reasons that mean nothing was written and trying again may succeed.
contention_reasons = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)
condition_failed = "ConditionalCheckFailed"


class DynamoDBApiKeyStore:
    """API keys as two items each in one table; see `ledger.auth.key_codec`."""

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.table_name = table_name
        self.client = client
        self._lookup = KeyLookup(table_name, client)
        self._sleep = sleep
        self._cursors = TableSeal(client, table_name)

    def add(self, key: ApiKey, key_digest: str) -> None:
        """Put both items in one transaction; KeyTaken names which already existed."""
        actions: Any = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {**key_item_key(key_digest), **encode(key)},
                    "ConditionExpression": key_is_new,
                }
            },
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": encode_id_item(key, key_digest),
                    "ConditionExpression": key_is_new,
                }
            },
        ]
        token = str(uuid.uuid4())
        outcome_unknown = False
        for attempt in range(limits.transaction_attempts_max):
            if attempt > 0:
                self._sleep(_backoff_ms(attempt - 1) / 1000)
                # Once an attempt may have been applied, every later one keeps its token,
                # so DynamoDB answers that attempt's outcome instead of a failed condition.
                token = token if outcome_unknown else str(uuid.uuid4())
            try:
                self.client.transact_write_items(TransactItems=actions, ClientRequestToken=token)
            except (HTTPClientError, BotocoreConnectionError):
                outcome_unknown = True
            except ClientError as error:
                code = error.response["Error"]["Code"]
                if code == "TransactionCanceledException":
                    _explain(error)
                elif code in outcome_unknown_codes:
                    outcome_unknown = True
                elif code not in retry_codes:
                    raise
            else:
                return
        raise Conflict("the key's creation met contention and did not complete; retry")

    def find(self, key_digest: str) -> ApiKey | None:
        """The key with this digest: one consistent GetItem."""
        return self._lookup.find(key_digest)

    def get(self, key_id: str) -> ApiKey | None:
        """The key with this id: its id item, then its record."""
        key_digest = self._digest_of(key_id)
        return None if key_digest is None else self.find(key_digest)

    def revoke(self, key_id: str, at: datetime) -> ApiKey | None:
        """Mark the record revoked, on the condition that it exists."""
        key_digest = self._digest_of(key_id)
        if key_digest is None:
            return None
        try:
            response = self.client.update_item(
                TableName=self.table_name,
                Key=key_item_key(key_digest),
                UpdateExpression=revocation,
                ConditionExpression=key_exists,
                ExpressionAttributeNames={"#status": "status"},
                ExpressionAttributeValues={
                    ":revoked": {"S": KeyStatus.REVOKED.value},
                    ":now": {"S": timestamp(at)},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return None
        return decode(response["Attributes"])

    def page(
        self, limit: int, cursor: str | None, within: Within, caller: str | None
    ) -> Page[ApiKey]:
        """Id items from the listing index (keys only), then their records; the cursor
        sealed under the table's secret for `caller`."""
        return page_of(
            self._read_after, limit, cursor, within, cursors=self._cursors, caller=caller
        )

    def _digest_of(self, key_id: str) -> str | None:
        item = self.client.get_item(
            TableName=self.table_name, Key=id_item_key(key_id), ConsistentRead=True
        ).get("Item")
        return None if item is None else item["digest"]["S"]

    def _read_after(self, start: Key | None, count: int) -> list[tuple[Key, ApiKey | None]]:
        positions = self._query(start, count)
        pointers = self._batch_get([(key["pk"], key["sk"]) for key in positions])
        digests = {pk: item["digest"]["S"] for (pk, _), item in pointers.items()}
        records = self._batch_get([_pair(key_item_key(value)) for value in digests.values()])
        keys: list[tuple[Key, ApiKey | None]] = []
        for key in positions:
            key_digest = digests.get(key["pk"])
            record = None if key_digest is None else records.get(_pair(key_item_key(key_digest)))
            keys.append((key, None if record is None else decode(record)))
        return keys

    def _query(self, start: Key | None, count: int) -> list[Key]:
        partition, sort = f"{listing_index}pk", f"{listing_index}sk"
        arguments: dict[str, Any] = {
            "TableName": self.table_name,
            "IndexName": listing_index,
            "KeyConditionExpression": "#partition = :partition AND begins_with(#sort, :prefix)",
            "ExpressionAttributeNames": {"#partition": partition, "#sort": sort},
            "ExpressionAttributeValues": {
                ":partition": {"S": listing_partition},
                ":prefix": {"S": listing_prefix},
            },
        }
        if start is not None:
            arguments["ExclusiveStartKey"] = {name: {"S": value} for name, value in start.items()}
        keys: list[Key] = []
        while len(keys) < count:
            response = self.client.query(**arguments, Limit=count - len(keys))
            keys += [
                {name: value["S"] for name, value in item.items()} for item in response["Items"]
            ]
            if "LastEvaluatedKey" not in response:
                break
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return keys

    def _batch_get(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
        items: dict[tuple[str, str], Any] = {}
        pending: list[Any] = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in keys]
        if not pending:
            return items
        for attempt in range(batch_get_attempts_max):
            if attempt > 0:
                self._sleep(_backoff_ms(attempt - 1) / 1000)
            response = self.client.batch_get_item(
                RequestItems={self.table_name: {"Keys": pending, "ConsistentRead": True}}
            )
            for item in response["Responses"].get(self.table_name, []):
                items[(item["pk"]["S"], item["sk"]["S"])] = item
            unprocessed = response.get("UnprocessedKeys") or {}
            pending = list(unprocessed[self.table_name]["Keys"]) if unprocessed else []
            if not pending:
                return items
        raise Conflict("the listing of keys was throttled; retry")


def _pair(item_key: dict[str, Any]) -> tuple[str, str]:
    return item_key["pk"]["S"], item_key["sk"]["S"]


def _explain(error: ClientError) -> None:
    """Raise what a cancelled creation means; return only if it met contention alone."""
    reasons = [
        reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])
    ]
    if len(reasons) <= id_action:
        raise error
    secret, key_id = (reasons[index] == condition_failed for index in (record_action, id_action))
    if secret or key_id:
        raise KeyTaken(secret=secret, key_id=key_id) from error
    if not any(reason in contention_reasons for reason in reasons) or not all(
        reason in contention_reasons or reason == "None" for reason in reasons
    ):
        raise error
