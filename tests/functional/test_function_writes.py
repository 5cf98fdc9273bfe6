"""Every item each function writes or deletes lies within its rights in `infra.access`, and
each right it is given is used: the matrix lets the code work and is no wider than it."""

from __future__ import annotations

import importlib
import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_lambda_powertools import Metrics
from botocore.client import BaseClient

from infra.access import matrix
from ledger.auth.api_keys import ApiKeys
from ledger.consumers.audit import AuditConsumer
from ledger.consumers.dead_letters import FileDeadLetters
from ledger.consumers.events import EventsConsumer
from ledger.consumers.history import HistoryConsumer
from ledger.consumers.inbound import InboundConsumer
from ledger.jobs import expiry_function, reconciliation_function
from ledger.service import Ledger
from ledger.service.base import utc_now
from ledger.store.dynamodb import DynamoDBStore
from ledger.store.dynamodb.api_keys import DynamoDBApiKeyStore

from .monitor_streams import Books, books, stream_record
from .test_inbound_consumer import expense, expense_books, sqs_event
from .test_reconciliation_function import Context as ReconciliationContext

__all__ = ["books"]

Write = tuple[str, str]  # (operation, partition key)


class Recorder:
    """The partition keys each function writes, deletes and checks, from every DynamoDB
    call of every client of the process."""

    def __init__(self) -> None:
        self.function = "setup"
        self.writes: dict[str, set[Write]] = {}

    @contextmanager
    def acting_as(self, function: str) -> Iterator[None]:
        self.function = function
        try:
            yield
        finally:
            self.function = "setup"

    def record(self, operation: str, params: dict[str, Any]) -> None:
        found = self.writes.setdefault(self.function, set())
        for action, key in _touched(operation, params):
            found.add((action, key["pk"]["S"]))


def _touched(operation: str, params: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The (action, key) of each item a request writes, deletes or checks."""
    if operation == "PutItem":
        return [("write", params["Item"])]
    if operation == "UpdateItem":
        return [("write", params["Key"])]
    if operation == "DeleteItem":
        return [("delete", params["Key"])]
    if operation == "TransactWriteItems":
        actions = {"Put": "write", "Update": "write", "Delete": "delete", "ConditionCheck": "write"}
        return [
            (actions[kind], body.get("Item", body.get("Key")))
            for item in params["TransactItems"]
            for kind, body in item.items()
        ]
    if operation == "BatchWriteItem":
        return [
            ("write", request["PutRequest"]["Item"])
            if "PutRequest" in request
            else ("delete", request["DeleteRequest"]["Key"])
            for requests in params["RequestItems"].values()
            for request in requests
        ]
    return []


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """Every DynamoDB call of the process recorded, the functions' own clients included."""
    recorder = Recorder()
    original = getattr(BaseClient, "_make_api_call")  # noqa: B009 (botocore's private hook)

    def recorded(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
        if client.meta.service_model.service_name == "dynamodb":
            recorder.record(operation, params)
        return original(client, operation, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", recorded)
    return recorder


def _within(key: str, prefixes: tuple[str, ...]) -> bool:
    return key.startswith(prefixes)


def test_each_function_writes_only_within_its_rights_and_uses_each(
    books: Books,
    recorder: Recorder,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    # GIVEN a ledger on a moto table that the functions are configured for
    monkeypatch.setenv("LEDGER_TABLE_NAME", books.table)
    ledger = books.ledger
    metrics = Metrics(namespace="Test")
    metrics.clear_metrics()
    # WHEN the API's service opens accounts, moves money, lists, keeps monitors and keys
    with recorder.acting_as("api"):
        wallet, other = books.account(), books.account()
        own = {"pk": {"S": f"ACCOUNT#{wallet}"}, "sk": {"S": "ACCOUNT"}}
        opened = books.client.get_item(TableName=books.table, Key=own, ConsistentRead=True)
        created = stream_record(own, None, opened["Item"])
        monitor = ledger.create_monitor(wallet, "available", "gt", "1.00")
        removed = ledger.create_monitor(wallet, "available", "lt", "1.00")
        ledger.delete_monitor(wallet, removed.id)
        ledger.list_accounts(books.book, limit=1)
        keys = ApiKeys(DynamoDBApiKeyStore(books.table, books.client))
        _, secret = keys.create("admin")
        deposit = books.changed(wallet, lambda: ledger.deposit(wallet, "5.00"))
        moved = books.changed(other, lambda: ledger.transfer(wallet, other, "2.00"))
        past = Ledger(
            DynamoDBStore(books.table, client=books.client, projections=()),
            clock=lambda: utc_now() - timedelta(seconds=3660),
        )
        lapsed = past.hold(wallet, "0.01", expires_in=60)
        ledger.hold(wallet, "0.02", expires_in=600)
        check = ledger.check_external_balance(
            books.book, "bank", "USD", "1000.00", account_ids=[wallet]
        )
    assert not check.within_tolerance
    # AND the scheduled external check makes the call its job makes for a source
    with recorder.acting_as("external_balances"):
        scheduled = ledger.check_external_balance(
            books.book, "chain", "USD", "0", account_ids=[wallet], actor="scheduler"
        )
    assert not scheduled.within_tolerance
    # AND the inbound consumer posts an event through a posting rule
    _, spent = expense_books(ledger, books.book)
    with recorder.acting_as("inbound"):
        inbound = InboundConsumer(ledger, FileDeadLetters(tmp_path / "inbound-dlq.jsonl"))
        batch = sqs_event(json.dumps(expense(books.book, spent.id)))
        assert inbound.handle(batch)["batchItemFailures"] == []
    assert ledger.get_balance(spent.id).posted == 1250
    # AND the authorizer checks a key (it builds its lookup from the environment on import)
    with recorder.acting_as("authorizer"):
        authorizer = importlib.import_module("ledger.auth.authorizer")
        authorizer.key_lookup.cache_clear()
        answer = authorizer.lambda_handler({"headers": {"Authorization": f"Bearer {secret}"}}, None)
        authorizer.key_lookup.cache_clear()
    assert answer["context"]["role"] == "admin"
    # AND the consumers read the stream of those changes
    with recorder.acting_as("history"):
        history = HistoryConsumer(books.table, books.client, metrics=metrics)
        assert history.handle({"Records": [deposit, moved]})["batchItemFailures"] == []
    with recorder.acting_as("audit"):
        audit = AuditConsumer(books.table, books.client, metrics=metrics)
        assert audit.handle({"Records": [created, deposit]})["batchItemFailures"] == []
    with recorder.acting_as("monitors"):
        assert books.deliver(deposit) == []
    with recorder.acting_as("events"):
        bus = boto3.client("events", region_name="us-east-1")
        published = EventsConsumer(bus, "default", metrics=metrics)
        assert published.handle({"Records": [created, deposit]})["batchItemFailures"] == []
    assert sorted(event["id"] for event in books.outbox()) == sorted(
        [check.id, scheduled.id, monitor.id]
    )
    # AND the expiry sweep and the reconciliation run on a forged balance
    with recorder.acting_as("expiry"), warnings.catch_warnings():
        warnings.filterwarnings("ignore", "No application metrics", UserWarning)
        expiry_function.sweep.cache_clear()
        swept = expiry_function.lambda_handler({}, ReconciliationContext(1))
        expiry_function.sweep.cache_clear()
    # (two ledgers, each with a forged balance, and time for one: a mismatch and a checkpoint)
    second = ledger.create_ledger("Second").id
    forged = [other, ledger.create_account(second, "wallet", "liability", "USD").id]
    for account_id in forged:
        books.client.update_item(
            TableName=books.table,
            Key={"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": "ACCOUNT"}},
            UpdateExpression="SET headroom = :forged",
            ExpressionAttributeValues={":forged": {"N": "900"}},
        )
    with recorder.acting_as("reconciliation"):
        reconciliation_function.lambda_handler({}, ReconciliationContext(1))
    # THEN every key each function wrote or deleted is within its rights
    for function, written in recorder.writes.items():
        if function == "setup":
            continue
        rights = matrix[function]
        for action, key in written:
            allowed = rights.writes if action == "write" else rights.deletes
            assert _within(key, allowed), (function, action, key)
    # AND each right of the functions driven here was used by some write
    driven = set(matrix) - {"authorizer", "events"}
    for function in driven:
        written = recorder.writes[function]
        for prefix in matrix[function].writes:
            assert any(key.startswith(prefix) for action, key in written if action == "write"), (
                function,
                prefix,
            )
        for prefix in matrix[function].deletes:
            assert any(key.startswith(prefix) for action, key in written if action == "delete")
    assert not recorder.writes.get("authorizer")
    assert not recorder.writes.get("events")
    assert swept == {"expired": 1, "noticed": 1}
    assert ledger.get_entry(lapsed.id).status.value == "expired"
