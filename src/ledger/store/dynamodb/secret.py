"""The deployment's cursor secret: one item of the table, created once, never changed.

Every container and every store on the table must seal and open cursors alike, so the
secret lives in the table itself: the first store that seals a cursor creates it
(conditional on its absence, so concurrent first stores agree on one), and each store
reads it once and keeps it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ledger.store.cursors import new_secret

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
