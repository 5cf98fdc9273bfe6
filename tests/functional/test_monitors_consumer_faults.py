"""The monitors consumer where the table moves under it: monitors removed between its read
and its write, its function's entry point, and removals that are no financial alarm."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import pytest
from aws_lambda_powertools import Metrics

from ledger.consumers import monitors as monitors_function
from ledger.consumers.audit import AuditConsumer
from ledger.consumers.monitors import MonitorsConsumer

from .monitor_streams import Books, books, stream_record

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

__all__ = ["books"]


class StaleQueries:
    """The moto client, answering the first Query of the monitors with an earlier answer."""

    def __init__(self, client: DynamoDBClient, stale: dict[str, Any], *, always: bool = False):
        self._client = client
        self._stale: dict[str, Any] | None = stale
        self._always = always

    def query(self, **arguments: Any) -> Any:
        stale = self._stale
        if not self._always:
            self._stale = None
        return stale if stale is not None else self._client.query(**arguments)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def stale_watch(books: Books, wallet: str) -> tuple[dict[str, Any], str, str]:
    """The Query answer of a wallet's two monitors, taken before one of them is removed."""
    books.ledger.deposit(wallet, "20.00")
    kept = books.ledger.create_monitor(wallet, "available", "lt", "10.00")
    removed = books.ledger.create_monitor(wallet, "available", "lt", "8.00")
    query: dict[str, Any] = {
        "TableName": books.table,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {
            ":pk": {"S": f"MONITOR#{wallet}"},
            ":prefix": {"S": "MONITOR"},
        },
        "ConsistentRead": True,
    }
    stale = dict(books.client.query(**query))
    books.ledger.delete_monitor(wallet, removed.id)
    return stale, kept.id, removed.id


def test_a_monitor_removed_meanwhile_is_read_again_and_the_rest_evaluated(books: Books) -> None:
    # GIVEN two monitors of a wallet, read by the consumer just before one is removed
    wallet = books.account()
    stale, kept, _ = stale_watch(books, wallet)
    falls = books.changed(wallet, lambda: books.ledger.withdraw(wallet, "15.00"))
    metrics = Metrics(namespace="Test")
    consumer = MonitorsConsumer(books.table, StaleQueries(books.client, stale), metrics=metrics)  # type: ignore[arg-type]
    # WHEN the crossing of both is delivered
    response = consumer.handle({"Records": [falls]})
    # THEN the removed one's crossing was refused, and the kept one's written alone
    assert response == {"batchItemFailures": []}
    [event] = books.outbox()
    assert event["id"] == kept


def test_monitors_that_keep_changing_fail_the_record(books: Books) -> None:
    # GIVEN a consumer whose every read of the monitors is the one before a removal
    wallet = books.account()
    stale, _, _ = stale_watch(books, wallet)
    falls = books.changed(wallet, lambda: books.ledger.withdraw(wallet, "15.00"))
    client = StaleQueries(books.client, stale, always=True)
    consumer = MonitorsConsumer(books.table, client, metrics=Metrics(namespace="Test"))  # type: ignore[arg-type]
    # WHEN the crossing is delivered THEN the record fails, to be retried, with nothing written
    response = consumer.handle({"Records": [falls]})
    assert response == {
        "batchItemFailures": [{"itemIdentifier": falls["dynamodb"]["SequenceNumber"]}]
    }
    assert books.outbox() == []


def test_the_function_s_handler_builds_its_consumer_from_the_environment(
    books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the table's name in the environment
    monkeypatch.setenv("LEDGER_TABLE_NAME", books.table)
    monitors_function.consumer.cache_clear()
    key = {"pk": {"S": "MONITOR#acc_x"}, "sk": {"S": "MONITOR#mon_x"}}
    batch = {"Records": [stream_record(key, {**key}, None)]}
    # WHEN the function gets a batch of nothing it watches THEN it answers with no failure
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "No application metrics", UserWarning)
        answer = monitors_function.lambda_handler(batch, None)
    assert answer == {"batchItemFailures": []}
    monitors_function.consumer.cache_clear()


def test_changes_of_accounts_without_monitors_and_other_items_write_nothing(books: Books) -> None:
    # GIVEN a wallet without monitors, and the removal of another wallet's monitor
    plain, watched = books.account(), books.account()
    monitor = books.ledger.create_monitor(watched, "available", "gt", "1.00")
    key = {"pk": {"S": f"MONITOR#{watched}"}, "sk": {"S": f"MONITOR#{monitor.id}"}}
    removal = stream_record(key, {"pk": key["pk"], "sk": key["sk"]}, None)
    deposit = books.changed(plain, lambda: books.ledger.deposit(plain, "5.00"))
    # WHEN they are delivered
    assert books.deliver(deposit, removal) == []
    # THEN nothing was written
    assert books.outbox() == []


def test_removing_a_monitor_raises_no_financial_removal_alarm(books: Books) -> None:
    # GIVEN the stream record of a monitor's removal, and of its account's removal
    wallet = books.account()
    monitor = books.ledger.create_monitor(wallet, "available", "gt", "1.00")
    monitor_key = {"pk": {"S": f"MONITOR#{wallet}"}, "sk": {"S": f"MONITOR#{monitor.id}"}}
    account_key = {"pk": {"S": f"ACCOUNT#{wallet}"}, "sk": {"S": "ACCOUNT"}}
    metrics = Metrics(namespace="Test")
    metrics.clear_metrics()
    audit = AuditConsumer(books.table, books.client, metrics=metrics)
    # WHEN the audit consumer reads the monitor's removal
    audit.handle({"Records": [stream_record(monitor_key, {**monitor_key}, None)]})
    # THEN no removal event is recorded; an account's removal still is
    assert removal_events(books) == []
    audit.handle({"Records": [stream_record(account_key, {**account_key}, None)]})
    assert len(removal_events(books)) == 1


def removal_events(books: Books) -> list[dict[str, Any]]:
    items = books.client.scan(TableName=books.table, ConsistentRead=True)["Items"]
    return [item for item in items if item["pk"]["S"].startswith("AUDIT#LEDGER#")]
