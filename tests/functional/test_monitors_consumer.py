"""The monitors consumer on hand-made stream records of real changes (moto): one event per
crossing, none while a condition holds, and redelivered, older or broken records harmless."""

from __future__ import annotations

import json
import secrets
import warnings
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest
from aws_lambda_powertools import Metrics
from moto import mock_aws

from ledger.consumers import monitors as monitors_function
from ledger.consumers.audit import AuditConsumer
from ledger.consumers.monitors import MonitorsConsumer
from ledger.domain import events
from ledger.domain.monitors import MonitorState
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


def test_one_event_per_crossing_over_a_sequence_of_changes(books: Books) -> None:
    # GIVEN a wallet of 20.00 watched for available < 10.00 (ok)
    wallet = books.account()
    books.ledger.deposit(wallet, "20.00")
    watched = books.ledger.create_monitor(wallet, "available", "lt", "10.00")
    assert watched.state is MonitorState.OK
    ledger = books.ledger
    # WHEN it falls below, stays below, rises above, stays above and falls below again
    records = [
        books.changed(wallet, lambda: ledger.withdraw(wallet, "15.00")),
        books.changed(wallet, lambda: ledger.withdraw(wallet, "1.00")),
        books.changed(wallet, lambda: ledger.deposit(wallet, "10.00")),
        books.changed(wallet, lambda: ledger.deposit(wallet, "1.00")),
        books.changed(wallet, lambda: ledger.withdraw(wallet, "10.00")),
    ]
    assert books.deliver(*records) == []
    # THEN each crossing wrote one event, at the version that crossed, and none in between
    outbox = books.outbox()
    assert kinds(outbox) == [
        (events.monitor_triggered, 2),
        (events.monitor_resolved, 4),
        (events.monitor_triggered, 6),
    ]
    assert [event["balance"]["available"] for event in outbox] == ["5.00", "14.00", "5.00"]
    first = outbox[0]
    assert first["monitor"]["id"] == watched.id
    assert first["monitor"]["state"] == "triggered"
    assert (first["ledger_id"], first["account_id"]) == (books.book, wallet)
    assert first["entry_id"] == records[0]["dynamodb"]["NewImage"]["last_entry_id"]["S"]
    # AND the monitor's state is the last crossing's
    [monitor] = ledger.list_monitors(wallet).items
    assert (monitor.state, monitor.evaluated_version) == (MonitorState.TRIGGERED, 6)


def test_a_crossing_delivered_twice_is_written_once(books: Books) -> None:
    # GIVEN a crossing of available < 10.00 delivered once
    wallet = books.account()
    books.ledger.deposit(wallet, "20.00")
    books.ledger.create_monitor(wallet, "available", "lt", "10.00")
    record = books.changed(wallet, lambda: books.ledger.withdraw(wallet, "15.00"))
    assert books.deliver(record) == []
    # WHEN it is delivered again, alone and within a replayed batch
    assert books.deliver(record) == []
    assert books.deliver(record, record) == []
    # THEN one event was written
    assert kinds(books.outbox()) == [(events.monitor_triggered, 2)]


def test_an_older_record_after_a_newer_one_never_flips_the_monitor(books: Books) -> None:
    # GIVEN a wallet that falls below 10.00 and then rises above it again
    wallet = books.account()
    books.ledger.deposit(wallet, "20.00")
    books.ledger.create_monitor(wallet, "available", "lt", "10.00")
    ledger = books.ledger
    falls = books.changed(wallet, lambda: ledger.withdraw(wallet, "15.00"))
    rises = books.changed(wallet, lambda: ledger.deposit(wallet, "10.00"))
    # WHEN the newer change (state unchanged from the monitor's view) comes first, then the older
    assert books.deliver(rises) == []
    assert books.deliver(falls) == []
    # THEN the older one neither fires nor flips the monitor
    assert books.outbox() == []
    [monitor] = ledger.list_monitors(wallet).items
    assert monitor.state is MonitorState.OK


def test_a_record_that_does_not_decode_fails_alone(books: Books) -> None:
    # GIVEN a watched wallet's crossing, and a broken record before it in the batch
    wallet = books.account()
    books.ledger.deposit(wallet, "20.00")
    books.ledger.create_monitor(wallet, "available", "lt", "10.00")
    falls = books.changed(wallet, lambda: books.ledger.withdraw(wallet, "15.00"))
    broken = json.loads(json.dumps(falls))
    broken["dynamodb"]["NewImage"]["version"] = {"N": "not a number"}
    broken["dynamodb"]["SequenceNumber"] = "0" * 21
    # WHEN the batch is delivered
    failed = books.deliver(broken, falls)
    # THEN only the broken record is reported, and the crossing was written
    assert failed == ["0" * 21]
    assert kinds(books.outbox()) == [(events.monitor_triggered, 2)]


def test_a_failing_change_holds_back_its_account_s_later_changes_only(books: Books) -> None:
    # GIVEN two wallets watched for available < 10.00, the first also for large entries,
    # and a change of the first naming an entry that is not there
    first, second = books.account(), books.account()
    for wallet in (first, second):
        books.ledger.deposit(wallet, "20.00")
        books.ledger.create_monitor(wallet, "available", "lt", "10.00")
    books.ledger.create_monitor(first, "entry_amount", "gte", "100.00")
    ledger = books.ledger
    poison = books.changed(first, lambda: ledger.withdraw(first, "15.00"))
    poison["dynamodb"]["NewImage"]["last_entry_id"] = {"S": "ent_missing"}
    poison["dynamodb"]["NewImage"].pop("last_entry_ids", None)
    later = books.changed(first, lambda: ledger.deposit(first, "10.00"))
    other = books.changed(second, lambda: ledger.withdraw(second, "15.00"))
    # WHEN the batch is delivered
    failed = books.deliver(poison, later, other)
    # THEN the poison record and the first wallet's later change failed, in order to be
    # retried; the second wallet's crossing was written
    sequence = [record["dynamodb"]["SequenceNumber"] for record in (poison, later)]
    assert failed == sequence
    [written] = books.outbox()
    assert (written["account_id"], written["type"]) == (second, events.monitor_triggered)
    [monitor, _] = sorted(ledger.list_monitors(first).items, key=lambda each: each.field)
    assert monitor.state is MonitorState.OK


def test_large_entries_fire_once_each_and_a_release_fires_nothing(books: Books) -> None:
    # GIVEN a wallet watched for entries of 100.00 or more
    wallet = books.account()
    large = books.ledger.create_monitor(wallet, "entry_amount", "gte", "100.00")
    ledger = books.ledger
    # WHEN a large deposit, a small one, a large hold and its void are delivered, twice
    big = books.changed(wallet, lambda: ledger.deposit(wallet, "150.00"))
    small = books.changed(wallet, lambda: ledger.deposit(wallet, "50.00"))
    holds: list[str] = []
    held = books.changed(wallet, lambda: holds.append(ledger.hold(wallet, "120.00").id))
    voided = books.changed(wallet, lambda: ledger.void_entry(holds[0]))
    assert books.deliver(big, small, held, voided) == []
    assert books.deliver(big, small, held, voided) == []
    # THEN each large entry wrote one event with its amount, and the monitor stays ok
    outbox = books.outbox()
    assert sorted(event["amount"] for event in outbox) == ["120.00", "150.00"]
    assert {event["type"] for event in outbox} == {events.monitor_triggered}
    assert {event["monitor"]["id"] for event in outbox} == {large.id}
    assert ledger.list_monitors(wallet).items[0].state is MonitorState.OK


def test_a_sharded_account_is_evaluated_on_its_summed_balance(books: Books) -> None:
    # GIVEN an account of 4 shards watched for posted >= 100.00
    revenue = books.account(overdraft="allow", shards=4)
    watched = books.ledger.create_monitor(revenue, "posted", "gte", "100.00")
    ledger = books.ledger
    # WHEN deposits spread over its shards carry it past 100.00, in two batches
    first = books.changes(revenue, 4, lambda: ledger.deposit(revenue, "60.00"))
    second = books.changes(revenue, 4, lambda: ledger.deposit(revenue, "60.00"))
    assert books.deliver(*first) == []
    assert books.deliver(*second, *first) == []
    # THEN one crossing was written, with the summed balance and version
    [event] = books.outbox()
    assert event["type"] == events.monitor_triggered
    assert event["balance"]["posted"] == "120.00"
    assert event["version"] == 2
    [monitor] = ledger.list_monitors(revenue).items
    assert (monitor.id, monitor.state) == (watched.id, MonitorState.TRIGGERED)


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
            ":pk": {"S": f"ACCOUNT#{wallet}"},
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
    assert event["monitor"]["id"] == kept


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
    key = {"pk": {"S": "ACCOUNT#acc_x"}, "sk": {"S": "MONITOR#mon_x"}}
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
    key = {"pk": {"S": f"ACCOUNT#{watched}"}, "sk": {"S": f"MONITOR#{monitor.id}"}}
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
    monitor_key = {"pk": {"S": f"ACCOUNT#{wallet}"}, "sk": {"S": f"MONITOR#{monitor.id}"}}
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
