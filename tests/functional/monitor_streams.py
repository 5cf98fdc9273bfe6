"""Stream records of real changes on a moto table, for the monitors consumer's tests."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from aws_lambda_powertools import Metrics
from moto import mock_aws

from ledger.consumers.monitors import MonitorsConsumer
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore, ensure_table

from .conftest import TickingClock, dummy_environment

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

Record = dict[str, Any]
counter = iter(range(10**9))


class Books:
    """A ledger on a moto table, and the stream records of the changes made to it."""

    def __init__(self, client: DynamoDBClient, table: str) -> None:
        self.client = client
        self.table = table
        self.ledger = Ledger(DynamoDBStore(table, client=client, projections=()), TickingClock())
        self.book = self.ledger.create_ledger("Monitored", owner_id=secrets.token_hex(4)).id
        metrics = Metrics(namespace="Test")
        metrics.clear_metrics()
        self.consumer = MonitorsConsumer(table, client, metrics=metrics)

    def account(self, **options: Any) -> str:
        return self.ledger.create_account(self.book, "wallet", "liability", "USD", **options).id

    def changed(self, account_id: str, change: Callable[[], object]) -> Record:
        """Make a change and return the MODIFY record of the account's own item it made."""
        [record] = self.changes(account_id, 1, change)
        return record

    def changes(self, account_id: str, shards: int, change: Callable[[], object]) -> list[Record]:
        """Make a change and return the records of the account's items it changed."""
        keys = [{"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": "ACCOUNT"}}] + [
            {"pk": {"S": f"ACCOUNT#{account_id}#SHARD#{index:02d}"}, "sk": {"S": "SHARD"}}
            for index in range(1, shards)
        ]
        before = [self._item(key) for key in keys]
        change()
        records = []
        for key, old in zip(keys, before, strict=True):
            new = self._item(key)
            if new != old:
                records.append(stream_record(key, old, new))
        return records

    def _item(self, key: dict[str, Any]) -> dict[str, Any] | None:
        found = self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True)
        return found.get("Item")

    def deliver(self, *records: Record) -> list[str]:
        """One batch through the consumer; the sequence numbers of the failed records."""
        response = self.consumer.handle({"Records": list(records)})
        return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]

    def outbox(self) -> list[dict[str, Any]]:
        """The outbox events written, oldest first: type, monitor state and version."""
        items = self.client.scan(TableName=self.table, ConsistentRead=True)["Items"]
        found = [item for item in items if item["pk"]["S"].startswith("OUTBOX#")]
        return [
            json.loads(item["detail"]["S"]) | {"type": item["detail_type"]["S"]}
            for item in sorted(found, key=lambda item: item["sk"]["S"])
        ]


def stream_record(key: dict[str, Any], old: Record | None, new: Record | None) -> Record:
    """A Lambda DynamoDB Streams record of one item's change."""
    sequence = f"{next(counter):021d}"
    change: Record = {
        "Keys": key,
        "SequenceNumber": sequence,
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
        "ApproximateCreationDateTime": 1.0,
    }
    if old is not None:
        change["OldImage"] = old
    if new is not None:
        change["NewImage"] = new
    name = "MODIFY" if old and new else ("INSERT" if new else "REMOVE")
    return {
        "eventID": f"ev-{sequence}",
        "eventName": name,
        "eventSource": "aws:dynamodb",
        "dynamodb": change,
    }


@pytest.fixture
def books(monkeypatch: pytest.MonkeyPatch, moto_client: DynamoDBClient) -> Iterator[Books]:
    for name, value in dummy_environment.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        table = f"ledger-monitors-{secrets.token_hex(4)}"
        ensure_table(moto_client, table)
        yield Books(moto_client, table)


def kinds(outbox: list[dict[str, Any]]) -> list[tuple[str, int]]:
    return [(event["type"], event["version"]) for event in outbox]
