"""moto still refuses what DynamoDB refuses in an update expression, checking it once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.dynamodb.parsing.ast_nodes import (  # type: ignore[attr-defined]
    DepthFirstTraverser,
    UpdateExpression,
)
from moto.dynamodb.parsing.validators import OverlappingPathsValidator

import moto_expressions

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

key = {"pk": {"S": "A"}}


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[DynamoDBClient]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        dynamodb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        yield dynamodb


def _update(client: DynamoDBClient, expression: str, names: dict[str, str]) -> None:
    values = {f":v{i}": {"N": str(i)} for i in range(expression.count(":v"))}
    client.update_item(
        TableName="t",
        Key=key,
        UpdateExpression=expression,
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def test_installing_twice_keeps_one_replacement() -> None:
    moto_expressions.install()
    first = OverlappingPathsValidator.traverse
    moto_expressions.install()
    assert OverlappingPathsValidator.traverse is first
    assert getattr(first, "checks_the_root_only", False)


def test_many_clauses_are_applied(client: DynamoDBClient) -> None:
    names = {f"#a{i}": f"a{i}" for i in range(12)}
    _update(client, "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(12)), names)
    item = client.get_item(TableName="t", Key=key)["Item"]
    assert {name: item[name]["N"] for name in names.values()} == {
        f"a{i}": str(i) for i in range(12)
    }


@pytest.mark.parametrize(
    ("expression", "names"),
    [
        ("SET #a = :v0, #b = :v1, #a = :v2", {"#a": "a", "#b": "b"}),
        ("SET a.b = :v0, a = :v1", {}),
    ],
)
def test_a_path_set_twice_is_refused(
    client: DynamoDBClient, expression: str, names: dict[str, str]
) -> None:
    with pytest.raises(ClientError, match=r"overlap|Two document paths"):
        _update(client, expression, names)
    assert "Item" not in client.get_item(TableName="t", Key=key)


def test_two_set_clauses_are_refused(client: DynamoDBClient) -> None:
    with pytest.raises(ClientError, match="SET"):
        _update(client, "SET #a = :v0 SET #b = :v1", {"#a": "a", "#b": "b"})
    assert "Item" not in client.get_item(TableName="t", Key=key)


def test_the_overlap_check_no_longer_grows_with_the_clauses(
    client: DynamoDBClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    original = OverlappingPathsValidator.check_for_overlapping_paths

    def counted(self: OverlappingPathsValidator, node: UpdateExpression) -> UpdateExpression:
        calls.append(1)
        return original(self, node)

    def checks(clauses: int) -> int:
        calls.clear()
        names = {f"#a{i}": f"a{i}" for i in range(clauses)}
        _update(client, "SET " + ", ".join(f"#a{i} = :v{i}" for i in range(clauses)), names)
        return len(calls)

    monkeypatch.setattr(OverlappingPathsValidator, "check_for_overlapping_paths", counted)
    # moto's own traversal checks at every level of the nested expression
    monkeypatch.setattr(OverlappingPathsValidator, "traverse", DepthFirstTraverser.traverse)
    assert checks(12) > checks(2)
    monkeypatch.setattr(
        OverlappingPathsValidator, "traverse", moto_expressions._at_the_root(counted)
    )
    assert checks(12) == checks(2)
