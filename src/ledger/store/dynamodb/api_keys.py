"""API keys in the ledger's table. A new key is one transaction of its two items, each
guarded by a named condition; a cancellation is explained by its reasons, item by item,
and contention is retried with the store's bounded backoff."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ledger.domain.api_keys import ApiKey, KeyStatus
from ledger.domain.model import Page
from ledger.domain.timestamps import timestamp
from ledger.store.api_keys import KeyTaken, Within, page_of
from ledger.store.deadline import Clock, current_deadline
from ledger.store.dynamodb.api_key_codec import (
    decode,
    encode,
    encode_id_item,
    id_item_key,
    key_item_key,
    listing_index,
    listing_partition,
    listing_prefix,
)
from ledger.store.dynamodb.key_lookup import KeyLookup
from ledger.store.dynamodb.reads import batch_get, query_keys
from ledger.store.dynamodb.retries import (
    Budget,
    Outcome,
    condition_failed,
    contention_reasons,
    read,
    transact,
)
from ledger.store.dynamodb.schema import Key
from ledger.store.dynamodb.secret import TableSeal

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

key_is_new = "attribute_not_exists(pk)"
key_exists = "attribute_exists(pk)"
revocation = "SET #status = :revoked, revoked_at = if_not_exists(revoked_at, :now)"
# Where each item is in the creation transaction, so its cancellation reason can be read.
record_action = 0
id_action = 1


class DynamoDBApiKeyStore:
    """API keys as two items each in one table; see `ledger.store.dynamodb.api_key_codec`."""

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient,
        sleep: Callable[[float], None] = time.sleep,
        clock: Clock = time.monotonic,
    ) -> None:
        self.table_name = table_name
        self.client = client
        self._lookup = KeyLookup(table_name, client)
        self._sleep = sleep
        self._clock = clock
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
        transact(self.client, actions, self._budget(), _settle)

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

    def _budget(self) -> Budget:
        return Budget(current_deadline(self._clock), self._sleep)

    def _digest_of(self, key_id: str) -> str | None:
        response = read(
            self._budget(),
            lambda: self.client.get_item(
                TableName=self.table_name, Key=id_item_key(key_id), ConsistentRead=True
            ),
        )
        item = response.get("Item")
        return None if item is None else item["digest"]["S"]

    def _read_after(self, start: Key | None, count: int) -> list[tuple[Key, ApiKey | None]]:
        budget = self._budget()
        positions = self._query(start, count, budget)
        pointers = self._batch_get([(key["pk"], key["sk"]) for key in positions], budget)
        digests = {pk: item["digest"]["S"] for (pk, _), item in pointers.items()}
        records = self._batch_get(
            [_pair(key_item_key(value)) for value in digests.values()], budget
        )
        keys: list[tuple[Key, ApiKey | None]] = []
        for key in positions:
            key_digest = digests.get(key["pk"])
            record = None if key_digest is None else records.get(_pair(key_item_key(key_digest)))
            keys.append((key, None if record is None else decode(record)))
        return keys

    def _query(self, start: Key | None, count: int, budget: Budget) -> list[Key]:
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
        return query_keys(self.client, arguments, count, budget)

    def _batch_get(self, keys: list[tuple[str, str]], budget: Budget) -> dict[tuple[str, str], Any]:
        return batch_get(self.client, self.table_name, keys, budget)


def _pair(item_key: dict[str, Any]) -> tuple[str, str]:
    return item_key["pk"]["S"], item_key["sk"]["S"]


def _settle(error: ClientError, outcome: Outcome) -> bool:
    """Raise what a cancelled creation means; False (try again) if it met contention alone.
    A creation never shows its own commit: a repeated one finds its items taken."""
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
    return False
