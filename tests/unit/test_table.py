"""ensure_table: creates the table once and waits until it is active."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ledger.store.dynamodb.table import ensure_table, table_active_wait_s_max, table_definition


class FakeClient:
    """Answers CreateTable with a scripted error and DescribeTable with scripted statuses."""

    def __init__(
        self, create_error: str | None, statuses: list[str], index_names: list[str] | None = None
    ) -> None:
        self.create_error = create_error
        self.statuses = statuses
        self.created: list[dict[str, Any]] = []
        every = [
            index["IndexName"] for index in table_definition("books")["GlobalSecondaryIndexes"]
        ]
        self.index_names = every if index_names is None else index_names
        self.updated: list[dict[str, Any]] = []

    def update_table(self, **arguments: Any) -> dict[str, Any]:
        self.updated.append(arguments)
        self.index_names += [
            each["Create"]["IndexName"] for each in arguments["GlobalSecondaryIndexUpdates"]
        ]
        return {}

    def create_table(self, **arguments: Any) -> dict[str, Any]:
        self.created.append(arguments)
        if self.create_error is not None:
            raise ClientError({"Error": {"Code": self.create_error, "Message": "x"}}, "CreateTable")
        return {}

    def describe_table(self, **arguments: Any) -> dict[str, Any]:
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        indexes = [{"IndexName": name, "IndexStatus": "ACTIVE"} for name in self.index_names]
        return {"Table": {"TableStatus": status, "GlobalSecondaryIndexes": indexes}}


def test_existing_table_is_accepted_and_awaited(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a table that exists already and is still being created
    monkeypatch.setattr(time, "sleep", lambda _: None)
    client = FakeClient("ResourceInUseException", ["CREATING", "CREATING", "ACTIVE"])
    # WHEN ensuring it
    ensure_table(client, "books")  # type: ignore[arg-type]
    # THEN it asked to create it with the shared definition and waited until it was active
    assert client.created == [table_definition("books")]
    assert client.statuses == ["ACTIVE"]


def test_an_existing_table_gets_the_indexes_it_lacks(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a table kept from a version whose indexes were the listings' four
    monkeypatch.setattr(time, "sleep", lambda _: None)
    client = FakeClient("ResourceInUseException", ["ACTIVE"], ["gsi1", "gsi2", "gsi3", "gsi4"])
    # WHEN ensuring it
    ensure_table(client, "books")  # type: ignore[arg-type]
    # THEN each missing index is created on its own, with its key attributes defined
    created = [update["GlobalSecondaryIndexUpdates"][0]["Create"] for update in client.updated]
    assert [index["IndexName"] for index in created] == ["gsi5", "gsi6"]
    assert [
        sorted(each["AttributeName"] for each in update["AttributeDefinitions"])
        for update in client.updated
    ] == [["gsi5pk", "gsi5sk"], ["gsi6pk", "gsi6sk"]]


def test_other_create_errors_are_raised() -> None:
    # GIVEN a client refusing the creation for another reason
    client = FakeClient("AccessDeniedException", ["ACTIVE"])
    # WHEN ensuring the table
    # THEN the error surfaces unchanged
    with pytest.raises(ClientError, match="AccessDeniedException"):
        ensure_table(client, "books")  # type: ignore[arg-type]


def test_a_table_that_never_becomes_active_times_out(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a table stuck in CREATING and a clock that runs past the wait limit
    moments = iter([0.0, table_active_wait_s_max + 1])
    monkeypatch.setattr(time, "monotonic", lambda: next(moments))
    client = FakeClient(None, ["CREATING"])
    # WHEN ensuring it
    # THEN it gives up with a timeout naming the table
    with pytest.raises(TimeoutError, match="books"):
        ensure_table(client, "books")  # type: ignore[arg-type]
