"""The deployment's cursor secret: one item of the table, created once, never changed.

Every container and every store on the table must seal and open cursors alike, so the
secret lives in the table itself: the first store that seals a cursor creates it
(conditional on its absence, so concurrent first stores agree on one), and each store
reads it once and keeps it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ledger.store.cursors import CursorSeal, foreign_cursor, new_secret
from ledger.store.dynamodb.schema import IndexQuery, Key, decode_cursor, encode_cursor

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

secret_item_key: dict[str, AttributeValueTypeDef] = {
    "pk": {"S": "SECRET#cursor"},
    "sk": {"S": "SECRET"},
}
secret_is_absent = "attribute_not_exists(pk)"


def read_secret(client: DynamoDBClient, table_name: str) -> bytes | None:
    """The table's cursor secret, or None while no cursor has been sealed."""
    response = client.get_item(TableName=table_name, Key=secret_item_key, ConsistentRead=True)
    if "Item" not in response:
        return None
    return response["Item"]["secret"]["B"]


def ensure_secret(client: DynamoDBClient, table_name: str) -> bytes:
    """The table's cursor secret, created if it does not exist yet."""
    existing = read_secret(client, table_name)
    if existing is not None:
        return existing
    fresh = new_secret()
    try:
        client.put_item(
            TableName=table_name,
            Item={**secret_item_key, "secret": {"B": fresh}},
            ConditionExpression=secret_is_absent,
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )
    except ClientError as error:
        if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        # Another store created it first: that one is the secret.
        winner: bytes = error.response["Item"]["secret"]["B"]  # type: ignore[typeddict-item]
        return winner
    return fresh


class TableSeal:
    """Seals and opens listing cursors under the table's secret, read once and kept."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table_name = table_name
        self._seal: CursorSeal | None = None

    def seal(self, query: IndexQuery, key: Key) -> str:
        """A cursor for the position after `key`, creating the secret on the first one."""
        return encode_cursor(self._sealing(), query, key)

    def seal_payload(self, binding: bytes, payload: bytes) -> str:
        """A cursor for an opaque payload that opens only for `binding`."""
        return self._sealing().seal(binding, payload)

    def open_payload(self, binding: bytes, cursor: str) -> bytes:
        """The payload of a cursor sealed for `binding`; never creates the secret."""
        return self._opening().open(binding, cursor)

    def _sealing(self) -> CursorSeal:
        if self._seal is None:
            self._seal = CursorSeal(ensure_secret(self._client, self._table_name))
        return self._seal

    def open(self, cursor: str, query: IndexQuery) -> Key:
        """The position a cursor names; opening never creates the secret: without one,
        no cursor was ever sealed."""
        return decode_cursor(self._opening(), cursor, query)

    def _opening(self) -> CursorSeal:
        if self._seal is None:
            secret = read_secret(self._client, self._table_name)
            if secret is None:
                raise foreign_cursor()
            self._seal = CursorSeal(secret)
        return self._seal
