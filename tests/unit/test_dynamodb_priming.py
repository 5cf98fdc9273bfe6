"""A primed DynamoDB client: its first real calls resolve no shape and no endpoint, and
priming itself sends nothing and needs no credentials."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import botocore.model
import pytest
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.endpoint_provider import EndpointProvider
from botocore.exceptions import NoCredentialsError

from ledger.store.dynamodb.client import default_client
from ledger.store.dynamodb.priming import api_operations, prime

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

credential_variables = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SECURITY_TOKEN",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
)


class EmptyBody:
    """The body of a DynamoDB reply with nothing in it."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield b"{}"


class Network:
    """Answers every request that reaches `before-send` with an empty success."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        self.sent.append(request.headers["X-Amz-Target"].decode().split(".")[-1])
        return AWSResponse(request.url, 200, HTTPHeaders(), EmptyBody())


class Shapes:
    """Counts the model shapes botocore resolves."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.resolved: list[str] = []
        resolve = botocore.model.ShapeResolver.get_shape_by_name

        def counted(resolver: botocore.model.ShapeResolver, *arguments: Any) -> Any:
            self.resolved.append(str(arguments[0]))
            return resolve(resolver, *arguments)

        monkeypatch.setattr(botocore.model.ShapeResolver, "get_shape_by_name", counted)


def endpoint_misses() -> int:
    """How many endpoints botocore has resolved anew, not from its cache, so far."""
    provider: Any = EndpointProvider
    misses: int = provider._resolve_endpoint.cache_info().misses
    return misses


def reaching(client: DynamoDBClient, network: Network) -> None:
    """Send `client`'s requests to `network` (the stubs type a handler as returning None)."""
    events: Any = client.meta.events
    events.register("before-send.dynamodb", network)


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Dummy credentials, a region, and no endpoint override."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    return monkeypatch


def calls(client: DynamoDBClient, table: str) -> list[Callable[[], object]]:
    """One call of each operation the API makes, on other keys than the priming's."""
    key: Any = {"pk": {"S": f"ACCOUNT#{secrets.token_hex(4)}"}, "sk": {"S": "ACCOUNT"}}
    values: Any = {":pk": key["pk"]}
    return [
        lambda: client.get_item(TableName=table, Key=key, ConsistentRead=True),
        lambda: client.query(
            TableName=table, KeyConditionExpression="pk = :pk", ExpressionAttributeValues=values
        ),
        lambda: client.batch_get_item(RequestItems={table: {"Keys": [key]}}),
        lambda: client.transact_write_items(
            TransactItems=[{"Put": {"TableName": table, "Item": key}}],
            ClientRequestToken=secrets.token_hex(8),
        ),
        lambda: client.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="ADD version :one",
            ExpressionAttributeValues={":one": {"N": "1"}},
        ),
        lambda: client.put_item(TableName=table, Item=key),
    ]


def test_a_primed_client_sends_nothing_while_priming(environment: pytest.MonkeyPatch) -> None:
    # GIVEN a fresh client whose requests reach a stand-in network
    client = default_client()
    network = Network()
    reaching(client, network)

    # WHEN it is primed with every operation of the API
    prime(client, "ledger-priming", api_operations)

    # THEN nothing reached the network
    assert network.sent == []


def test_first_calls_of_a_primed_client_resolve_no_shape_and_no_endpoint(
    environment: pytest.MonkeyPatch,
) -> None:
    # GIVEN a fresh client primed for its table
    table = f"ledger-{secrets.token_hex(4)}"
    client = default_client()
    prime(client, table, api_operations)
    network = Network()
    reaching(client, network)
    shapes = Shapes(environment)
    misses = endpoint_misses()

    # WHEN each operation is called for the first time
    for call in calls(client, table):
        call()

    # THEN each was sent, none resolved a shape, none resolved an endpoint anew
    assert network.sent == list(api_operations)
    assert shapes.resolved == []
    assert endpoint_misses() == misses


def test_first_calls_of_an_unprimed_client_resolve_shapes(
    environment: pytest.MonkeyPatch,
) -> None:
    # GIVEN a fresh client, not primed
    table = f"ledger-{secrets.token_hex(4)}"
    client = default_client()
    reaching(client, Network())
    shapes = Shapes(environment)

    # WHEN each operation is called for the first time
    for call in calls(client, table):
        call()

    # THEN they resolve shapes: the work priming moves to init
    assert len(shapes.resolved) > len(api_operations)


def test_priming_needs_no_credentials(environment: pytest.MonkeyPatch, tmp_path: Any) -> None:
    # GIVEN an environment with no credentials anywhere
    for name in credential_variables:
        environment.delenv(name, raising=False)
    environment.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    environment.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    environment.setenv("AWS_EC2_METADATA_DISABLED", "true")
    client = default_client()

    # WHEN the client is primed
    prime(client, "ledger-priming", api_operations)

    # THEN it was, without signing: a real call still lacks credentials
    with pytest.raises(NoCredentialsError):
        client.get_item(TableName="ledger-priming", Key={"pk": {"S": "a"}, "sk": {"S": "b"}})


def test_a_failed_priming_leaves_the_client_sending(environment: pytest.MonkeyPatch) -> None:
    # GIVEN a client whose requests reach a stand-in network
    client = default_client()
    network = Network()
    reaching(client, network)

    # WHEN priming fails on an operation it does not know
    with pytest.raises(KeyError):
        prime(client, "ledger-priming", ("GetItem", "DeleteTable"))

    # THEN later calls are sent again, not answered by the priming
    client.get_item(TableName="ledger-priming", Key={"pk": {"S": "a"}, "sk": {"S": "b"}})
    assert network.sent == ["GetItem"]
