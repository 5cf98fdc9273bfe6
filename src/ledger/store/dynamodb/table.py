"""The table definition: the one source for the local runtime, the tests and the CDK stack."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ledger.store.dynamodb.schema import indexes

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

table_active_wait_s_max = 60

partition_key = "pk"
sort_key = "sk"


def table_definition(table_name: str) -> dict[str, Any]:
    """CreateTable arguments: string keys, keys-only indexes, on-demand, streams."""
    attributes = [partition_key, sort_key]
    for index in indexes:
        attributes += [f"{index}pk", f"{index}sk"]
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            {"AttributeName": name, "AttributeType": "S"} for name in attributes
        ],
        "KeySchema": [
            {"AttributeName": partition_key, "KeyType": "HASH"},
            {"AttributeName": sort_key, "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": index,
                "KeySchema": [
                    {"AttributeName": f"{index}pk", "KeyType": "HASH"},
                    {"AttributeName": f"{index}sk", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "KEYS_ONLY"},
            }
            for index in indexes
        ],
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }


def ensure_table(client: DynamoDBClient, table_name: str) -> None:
    """Create the table unless it exists, then wait until it is active."""
    try:
        client.create_table(**table_definition(table_name))
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
    deadline = time.monotonic() + table_active_wait_s_max
    while client.describe_table(TableName=table_name)["Table"]["TableStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise TimeoutError(f"table {table_name} did not become active")
        time.sleep(0.1)
