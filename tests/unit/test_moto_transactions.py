"""The suite's moto transactions still roll back whole: items and stream as they were."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from ledger.store.dynamodb.table import ensure_table

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

table_name = "ledger"
region = "eu-west-1"


@pytest.fixture
def client() -> Iterator[DynamoDBClient]:
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=region)
        ensure_table(dynamodb, table_name)
        dynamodb.put_item(
            TableName=table_name, Item={"pk": {"S": "A"}, "sk": {"S": "A"}, "n": {"N": "1"}}
        )
        yield dynamodb


def _items(client: DynamoDBClient) -> list[dict[str, Any]]:
    return sorted(client.scan(TableName=table_name)["Items"], key=lambda item: item["pk"]["S"])


def _stream_length() -> int:
    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][region].get_table(table_name)
    assert table.stream_shard is not None
    return len(table.stream_shard.items)


def _update(pk: str, condition: str) -> TransactWriteItemTypeDef:
    return {
        "Update": {
            "TableName": table_name,
            "Key": {"pk": {"S": pk}, "sk": {"S": pk}},
            "UpdateExpression": "SET n = :two",
            "ConditionExpression": condition,
            "ExpressionAttributeValues": {":two": {"N": "2"}},
        }
    }


def test_a_cancelled_transaction_leaves_items_and_stream_as_they_were(
    client: DynamoDBClient,
) -> None:
    # GIVEN one item, and the table's items and stream before
    before, records_before = _items(client), _stream_length()
    put: TransactWriteItemTypeDef = {
        "Put": {"TableName": table_name, "Item": {"pk": {"S": "B"}, "sk": {"S": "B"}}}
    }

    # WHEN a transaction changes that item, puts another, and fails its last condition
    with pytest.raises(ClientError) as refused:
        client.transact_write_items(
            TransactItems=[
                _update("A", "attribute_exists(pk)"),
                put,
                _update("C", "attribute_exists(pk)"),
            ]
        )

    # THEN it is cancelled, and nothing of it is left in the items or the stream
    assert refused.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert _items(client) == before
    assert _stream_length() == records_before


def test_a_committed_transaction_changes_every_item_it_names(client: DynamoDBClient) -> None:
    # GIVEN one item
    records_before = _stream_length()
    put: TransactWriteItemTypeDef = {
        "Put": {"TableName": table_name, "Item": {"pk": {"S": "B"}, "sk": {"S": "B"}}}
    }

    # WHEN a transaction updates it and puts another
    client.transact_write_items(TransactItems=[_update("A", "attribute_exists(pk)"), put])

    # THEN both are written, each with its stream record
    assert [(item["pk"]["S"], item.get("n")) for item in _items(client)] == [
        ("A", {"N": "2"}),
        ("B", None),
    ]
    assert _stream_length() == records_before + 2
