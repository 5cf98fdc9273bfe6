"""Outbox puts on moto: events already in the outbox are left as they are and the rest
written, so a retried cause writes each of its events once."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from ledger.domain.events import OutboxEvent, event_id, monitor_triggered
from ledger.store.dynamodb import DynamoDBStore, ensure_table
from ledger.store.dynamodb.outbox import outbox_event

from .conftest import dummy_environment, moto_region

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[DynamoDBClient, str]]:
    """A fresh moto table."""
    for name, value in dummy_environment.items():
        monkeypatch.setenv(name, value)
    table_name = f"ledger-outbox-{secrets.token_hex(4)}"
    with mock_aws():
        client = boto3.client("dynamodb", region_name=moto_region)
        ensure_table(client, table_name)
        yield client, table_name


def an_event(ledger_id: str, value: str) -> OutboxEvent:
    monitor_id = f"mon_{secrets.token_hex(4)}"
    return OutboxEvent(
        event_id=event_id(monitor_id, "1", "triggered"),
        detail_type=monitor_triggered,
        ledger_id=ledger_id,
        time=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC),
        detail={"monitor": {"id": monitor_id, "value": value}},
        trace_header=None,
    )


def outbox_of(client: DynamoDBClient, table_name: str) -> dict[str, Any]:
    items = client.scan(TableName=table_name, ConsistentRead=True)["Items"]
    events = [outbox_event(item) for item in items if item["pk"]["S"].startswith("OUTBOX#")]
    return {event.event_id: event for event in events}


def test_a_put_with_one_event_there_already_writes_the_others_and_leaves_it(
    table: tuple[DynamoDBClient, str],
) -> None:
    # GIVEN an event in the outbox already
    client, table_name = table
    store = DynamoDBStore(table_name, client=client, projections=())
    ledger_id = f"ldg_{secrets.token_hex(6)}"
    there = an_event(ledger_id, "1.00")
    store.put_outbox([there])
    # WHEN it is put again between two new events, the second a changed copy of it
    first, second = an_event(ledger_id, "2.00"), an_event(ledger_id, "3.00")
    changed = replace(there, detail={"changed": True})
    store.put_outbox([first, changed, second])
    # THEN the new ones are written and the one there is as it was first written
    assert outbox_of(client, table_name) == {
        event.event_id: event for event in (there, first, second)
    }


def test_a_put_of_events_all_there_already_writes_nothing(
    table: tuple[DynamoDBClient, str],
) -> None:
    # GIVEN two events in the outbox
    client, table_name = table
    store = DynamoDBStore(table_name, client=client, projections=())
    ledger_id = f"ldg_{secrets.token_hex(6)}"
    events = [an_event(ledger_id, "1.00"), an_event(ledger_id, "2.00")]
    store.put_outbox(events)
    before = client.scan(TableName=table_name, ConsistentRead=True)["Items"]
    # WHEN the same cause puts them again / THEN it returns, the table unchanged
    store.put_outbox(events)
    assert client.scan(TableName=table_name, ConsistentRead=True)["Items"] == before
    assert set(outbox_of(client, table_name)) == {event.event_id for event in events}
