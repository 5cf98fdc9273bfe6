"""Shared fixtures: one DynamoDB Local per session, and a fresh table per test that asks."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

import moto_expressions
import moto_transactions
from ledger.local.dynamodb_local import DynamoDBLocal
from ledger.store.dynamodb.table import ensure_table

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mypy_boto3_dynamodb import DynamoDBClient
    from stack_synthesis import Synthesis

integration_dir = Path(__file__).parent / "integration"
local_fixture_names = frozenset({"dynamodb_local", "dynamodb_client", "local_table"})
# Every DynamoDB Local of the tests (the session's, and those of each `ledger dev` they
# start, which inherit the environment) lives for seconds or minutes: the JVM's quick
# compiler alone, and one collector thread, halve the CPU one boots and serves on.
java_options_variable = "JDK_JAVA_OPTIONS"
java_options_for_tests = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
os.environ.setdefault(java_options_variable, java_options_for_tests)
moto_transactions.install()
moto_expressions.install()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that needs DynamoDB Local, so `-m "not dynamodb_local"` skips them."""
    for item in items:
        uses_local = not local_fixture_names.isdisjoint(getattr(item, "fixturenames", ()))
        if item.path.is_relative_to(integration_dir) or uses_local:
            item.add_marker(pytest.mark.dynamodb_local)


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[DynamoDBLocal]:
    """One in-memory DynamoDB Local on a free port, shared by the whole session."""
    with DynamoDBLocal() as server:
        yield server


@pytest.fixture(scope="session")
def dynamodb_client(dynamodb_local: DynamoDBLocal) -> DynamoDBClient:
    """A boto3 DynamoDB client for the session's DynamoDB Local."""
    return dynamodb_local.client()


@pytest.fixture
def local_table(dynamodb_client: DynamoDBClient) -> Iterator[str]:
    """A fresh ledger table with a random name, deleted afterwards."""
    table_name = f"ledger-test-{secrets.token_hex(6)}"
    ensure_table(dynamodb_client, table_name)
    yield table_name
    dynamodb_client.delete_table(TableName=table_name)


@pytest.fixture(scope="session")
def ledger_stack(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    """The CDK stack as a first deployment gets it (no context of its own), synthesized once
    per worker: the jsii runtime is imported only by the tests that ask."""
    from stack_synthesis import synthesize

    return synthesize(tmp_path_factory.mktemp("ledger-stack"))
