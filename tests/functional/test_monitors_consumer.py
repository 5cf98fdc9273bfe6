"""The monitors consumer on hand-made stream records of real changes (moto): one event per
crossing, none while a condition holds, and redelivered, older or broken records harmless."""

from __future__ import annotations

import json

from ledger.domain import events
from ledger.domain.monitors import MonitorState

from .monitor_streams import Books, books, kinds

__all__ = ["books"]


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
    assert first["id"] == watched.id
    assert first["state"] == "triggered"
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
    assert {event["id"] for event in outbox} == {large.id}
    assert ledger.list_monitors(wallet).items[0].state is MonitorState.OK
    # AND with no balance monitor, the account was never marked evaluated (no write)
    key = {"pk": {"S": f"MONITOR#{wallet}"}, "sk": {"S": "MONITORS"}}
    count = books.client.get_item(TableName=books.table, Key=key, ConsistentRead=True)["Item"]
    assert "evaluated_version" not in count


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
