"""A `Ledger` over each store (memory, and DynamoDB under moto), and a view of every item."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore, ensure_table
from ledger.store.memory import MemoryStore

from .helpers import Backend, Books, NothingWritten, State, build_books, new_book

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

store_kinds = ("memory", "moto")
moto_region = "us-east-1"
# Dummy credentials: whatever the machine has configured can never reach a real account.
dummy_environment = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": moto_region,
}


class TickingClock:
    """Each reading is one millisecond after the previous: creation order is time order."""

    def __init__(self) -> None:
        self._now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        self._now += timedelta(milliseconds=1)
        return self._now


class MemoryBackend:
    """The reference store; its dict of frozen records is its whole state."""

    def __init__(self) -> None:
        self.store = MemoryStore()

    def state(self) -> State:
        """A shallow copy is a snapshot: stored records are frozen and replaced, never mutated."""
        return dict(self.store._items)


class MotoBackend:
    """The DynamoDB store on a fresh moto table, whose items are its whole state."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self.table_name = table_name
        # No stream consumers run on moto: no projections to reconcile against.
        self.store = DynamoDBStore(
            table_name, client=client, sleep=lambda _seconds: None, projections=()
        )

    def state(self) -> State:
        """Every item of the table by (pk, sk), in DynamoDB's attribute-value form.

        Read from moto's own table rather than through Scan: moto's response serializer
        spends about 7 ms of CPU per item, which would dominate the folder's run time.
        """
        table = dynamodb_backends[DEFAULT_ACCOUNT_ID][moto_region].get_table(self.table_name)
        items: dict[tuple[str, str], object] = {}
        for item in table.all_items():
            attributes = item.to_json()["Attributes"]
            items[(attributes["pk"]["S"], attributes["sk"]["S"])] = attributes
        return items


class LocalBackend:
    """The DynamoDB store on a fresh DynamoDB Local table, whose items are its whole state."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self.client = client
        self.table_name = table_name
        self.store = DynamoDBStore(table_name, client=client, projections=())

    def state(self) -> State:
        """Every item of the table by (pk, sk), read with consistent Scans."""
        items: dict[tuple[str, str], object] = {}
        for page in self.client.get_paginator("scan").paginate(
            TableName=self.table_name, ConsistentRead=True
        ):
            for item in page["Items"]:
                items[(item["pk"]["S"], item["sk"]["S"])] = dict(item)
        return items


# The stores a module may also run on DynamoDB Local, which (unlike moto) applies
# conditional transactions as DynamoDB does.
store_kinds_with_local = (
    *store_kinds,
    pytest.param("dynamodb_local", marks=pytest.mark.dynamodb_local),
)


@pytest.fixture(scope="session")
def moto_client() -> DynamoDBClient:
    """One client for the session: building a boto3 client costs far more than a test.

    moto intercepts it inside each test's `mock_aws`, which starts from empty backends.
    """
    with pytest.MonkeyPatch.context() as environment:
        for name, value in dummy_environment.items():
            environment.setenv(name, value)
        return boto3.client("dynamodb", region_name=moto_region)


@contextmanager
def _started(
    kind: str, environment: pytest.MonkeyPatch, client: DynamoDBClient
) -> Iterator[Backend]:
    """A store of `kind`; for moto, inside mock_aws with dummy credentials and a fresh table."""
    if kind == "memory":
        yield MemoryBackend()
        return
    environment.delenv("AWS_PROFILE", raising=False)
    for name, value in dummy_environment.items():
        environment.setenv(name, value)
    with mock_aws():
        table_name = f"ledger-functional-{secrets.token_hex(4)}"
        ensure_table(client, table_name)
        _drop_moto_stream_log(table_name)
        yield MotoBackend(client, table_name)


def _drop_moto_stream_log(table_name: str) -> None:
    """Keep the table's stream setting but not moto's in-memory log of stream records.

    moto deep-copies the whole table, stream records included, once per item of every
    transaction, so the log makes each write slower than the last; nothing here reads it.
    """
    dynamodb_backends[DEFAULT_ACCOUNT_ID][moto_region].get_table(table_name).stream_shard = None


def _nothing_written(backend: Backend) -> NothingWritten:
    @contextmanager
    def unchanged() -> Iterator[None]:
        before = backend.state()
        yield
        after = backend.state()
        added = sorted(after.keys() - before.keys())
        removed = sorted(before.keys() - after.keys())
        changed = sorted(key for key in before.keys() & after.keys() if before[key] != after[key])
        assert (added, removed, changed) == ([], [], []), "a rejected request wrote items"

    return unchanged


@contextmanager
def started_backend(
    request: pytest.FixtureRequest, environment: pytest.MonkeyPatch, moto_client: DynamoDBClient
) -> Iterator[Backend]:
    """The store `request.param` names, fresh: memory, moto, or a DynamoDB Local table."""
    if request.param == "dynamodb_local":
        client: DynamoDBClient = request.getfixturevalue("dynamodb_client")
        yield LocalBackend(client, request.getfixturevalue("local_table"))
        return
    with _started(request.param, environment, moto_client) as started:
        yield started


@pytest.fixture(params=store_kinds)
def backend(
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    moto_client: DynamoDBClient,
) -> Iterator[Backend]:
    """Each store in turn, fresh for every test: memory, then DynamoDB on a moto table."""
    with started_backend(request, monkeypatch, moto_client) as started:
        yield started


@pytest.fixture
def ledger(backend: Backend) -> Ledger:
    """The library facade over the store under test."""
    return Ledger(backend.store, clock=TickingClock())


@pytest.fixture
def book(ledger: Ledger) -> str:
    """The id of a fresh ledger with a random owner."""
    return new_book(ledger)


@pytest.fixture
def nothing_written(backend: Backend) -> NothingWritten:
    """`with nothing_written(): ...` asserts the block left every stored item as it was."""
    return _nothing_written(backend)


# Tests that only send requests which must be refused can share one store per module:
# building the accounts once saves most of moto's time, and a refused request that did
# write is caught by the `shared_nothing_written` check of the test that sent it.
# A module uses either these or the fresh ones above, never both: each mock_aws starts empty.


@pytest.fixture(scope="module", params=store_kinds)
def shared_backend(
    request: pytest.FixtureRequest, moto_client: DynamoDBClient
) -> Iterator[Backend]:
    """Each store in turn, shared by the tests of one module."""
    with (
        pytest.MonkeyPatch.context() as environment,
        _started(request.param, environment, moto_client) as started,
    ):
        yield started


@pytest.fixture(scope="module")
def shared_ledger(shared_backend: Backend) -> Ledger:
    """The library facade over the module's shared store."""
    return Ledger(shared_backend.store, clock=TickingClock())


@pytest.fixture
def shared_nothing_written(shared_backend: Backend) -> NothingWritten:
    """`nothing_written` for the module's shared store."""
    return _nothing_written(shared_backend)


@pytest.fixture(scope="module")
def books(shared_ledger: Ledger) -> Books:
    """The module's shared accounts, built once per store."""
    return build_books(shared_ledger)
