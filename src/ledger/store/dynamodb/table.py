"""The table definition: the one source for the local runtime, the tests and the CDK stack."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ledger.store.dynamodb.history import history_indexes, history_projection
from ledger.store.dynamodb.schema import indexes

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

table_active_wait_s_max = 60

partition_key = "pk"
sort_key = "sk"


def _index(name: str, projection: dict[str, Any]) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [
            {"AttributeName": f"{name}pk", "KeyType": "HASH"},
            {"AttributeName": f"{name}sk", "KeyType": "RANGE"},
        ],
        "Projection": projection,
    }


def index_definitions() -> list[dict[str, Any]]:
    """Every index: the listings' keys-only ones, and the history's two, which carry the
    record (a balance at a past time is then one Query of one item, no read after it)."""
    listing = [_index(index, {"ProjectionType": "KEYS_ONLY"}) for index in indexes]
    history_included = {"ProjectionType": "INCLUDE", "NonKeyAttributes": list(history_projection)}
    return listing + [_index(index, history_included) for index in history_indexes.values()]


def table_definition(table_name: str) -> dict[str, Any]:
    """CreateTable arguments: string keys, the indexes, on-demand, streams."""
    attributes = [partition_key, sort_key]
    for index in index_definitions():
        attributes += [key["AttributeName"] for key in index["KeySchema"]]
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
        "GlobalSecondaryIndexes": index_definitions(),
        "StreamSpecification": {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    }


def ensure_table(client: DynamoDBClient, table_name: str) -> None:
    """Create the table unless it exists, add any index of the definition it lacks (a table
    kept from an earlier version), then wait until it and its indexes are active."""
    try:
        client.create_table(**table_definition(table_name))
    except ClientError as error:
        if error.response["Error"]["Code"] != "ResourceInUseException":
            raise
    _wait_active(client, table_name)
    definition = table_definition(table_name)
    table = client.describe_table(TableName=table_name)["Table"]
    present = {index["IndexName"] for index in table.get("GlobalSecondaryIndexes", [])}
    for index in definition["GlobalSecondaryIndexes"]:
        if index["IndexName"] in present:
            continue
        names = {key["AttributeName"] for key in index["KeySchema"]}
        # One index per UpdateTable: DynamoDB creates one at a time.
        client.update_table(
            TableName=table_name,
            AttributeDefinitions=[
                attribute
                for attribute in definition["AttributeDefinitions"]
                if attribute["AttributeName"] in names
            ],
            GlobalSecondaryIndexUpdates=[{"Create": index}],
        )
        _wait_active(client, table_name)


def _wait_active(client: DynamoDBClient, table_name: str) -> None:
    deadline = time.monotonic() + table_active_wait_s_max
    while not _active(client.describe_table(TableName=table_name)["Table"]):
        if time.monotonic() > deadline:
            raise TimeoutError(f"table {table_name} did not become active")
        time.sleep(0.1)


def _active(table: Any) -> bool:
    indexes_active = all(
        index.get("IndexStatus", "ACTIVE") == "ACTIVE"
        for index in table.get("GlobalSecondaryIndexes", [])
    )
    return bool(table["TableStatus"] == "ACTIVE" and indexes_active)
