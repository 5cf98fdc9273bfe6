"""The key a secret belongs to, read from the table: all the authorizer needs."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.store.dynamodb.api_key_codec import decode, key_item_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from ledger.domain.api_keys import ApiKey


class KeyLookup:
    """Finds a key by its secret's digest: one strongly consistent GetItem."""

    def __init__(self, table_name: str, client: DynamoDBClient) -> None:
        self.table_name = table_name
        self.client = client

    def find(self, key_digest: str) -> ApiKey | None:
        """The key with this digest, active or revoked; None if there is none."""
        response = self.client.get_item(
            TableName=self.table_name, Key=key_item_key(key_digest), ConsistentRead=True
        )
        item = response.get("Item")
        return None if item is None else decode(item)
