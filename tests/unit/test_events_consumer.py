"""The events consumer on hand-made stream records: what it publishes, once per change
and again on redelivery under the same id, and what it does when PutEvents fails."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from aws_lambda_powertools import Metrics
from botocore.exceptions import ClientError
from events_records import change_record, new_book, open_account, outbox_record

from ledger.consumers.events import EventsConsumer
from ledger.consumers.publish import Publisher
from ledger.domain import events
from ledger.domain.events import OutboxEvent
from ledger.domain.model import Actor
from ledger.service import Ledger
from ledger.store.memory import MemoryStore

bus_name = "ledger-bus"
trace = "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1"


@dataclass
class FakeBus:
    """PutEvents that records each call and fails the entries a test names, by position
    across every entry it was ever sent."""

    fail: dict[int, str] = field(default_factory=dict)
    calls: list[list[dict[str, Any]]] = field(default_factory=list)
    raise_on_calls: set[int] = field(default_factory=set)
    seen: int = 0

    def put_events(self, *, Entries: Sequence[Any]) -> dict[str, Any]:  # noqa: N803
        if len(self.calls) in self.raise_on_calls:
            self.calls.append(list(Entries))
            raise ClientError(
                {"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "PutEvents"
            )
        self.calls.append(list(Entries))
        results: list[dict[str, Any]] = []
        for entry in Entries:
            code = self.fail.get(self.seen)
            self.seen += 1
            if code is None:
                results.append({"EventId": f"eb-{self.seen}"})
            else:
                results.append(
                    {"ErrorCode": code, "ErrorMessage": f"{code} for {entry['DetailType']}"}
                )
        return {
            "FailedEntryCount": sum("ErrorCode" in each for each in results),
            "Entries": results,
        }

    def published(self) -> list[dict[str, Any]]:
        return [entry for call in self.calls for entry in call]


def fresh_metrics() -> Metrics:
    metrics = Metrics(namespace="Test")
    metrics.clear_metrics()
    return metrics


def consumer_on(bus: FakeBus, attempts_max: int = 3) -> EventsConsumer:
    publisher = Publisher(bus, attempts_max=attempts_max, sleep=lambda _: None)
    return EventsConsumer(bus, bus_name, publisher=publisher, metrics=fresh_metrics())


@pytest.fixture
def ledger() -> Ledger:
    return Ledger(MemoryStore())


def _mixed_run(ledger: Ledger) -> list[dict[str, Any]]:
    """The records of an account opened, a deposit with its balance change, and a void."""
    book = new_book(ledger)
    opened = open_account(ledger, book)
    deposit = ledger.deposit(opened.id, "10.00", actor=Actor(key_id="key_1", trace_header=trace))
    funded = ledger.get_account(opened.id)
    hold = ledger.hold(opened.id, "4.00")
    voided = ledger.release_hold(hold.id)
    return [
        change_record(None, opened),
        change_record(None, deposit),
        change_record(opened, funded),
        change_record(None, hold),
        change_record(hold, voided),
    ]


def test_a_batch_publishes_one_event_per_change_with_its_public_object(ledger: Ledger) -> None:
    # GIVEN the records of a small run
    records = _mixed_run(ledger)
    bus = FakeBus()
    # WHEN the consumer takes them
    response = consumer_on(bus).handle({"Records": records})
    # THEN nothing failed, and one PutEvents call carried every event, in order
    assert response == {"batchItemFailures": []}
    assert len(bus.calls) == 1
    published = bus.published()
    assert [entry["DetailType"] for entry in published] == [
        events.account_created,
        events.entry_posted,
        events.account_updated,
        events.entry_pending,
        events.entry_voided,
    ]
    assert {entry["Source"] for entry in published} == {"ledger"}
    assert {entry["EventBusName"] for entry in published} == {bus_name}
    details = [json.loads(entry["Detail"]) for entry in published]
    # AND each detail is the public object, with the ids to order and deduplicate by
    assert details[1]["lines"][0]["amount"] == "10.00"
    assert details[2]["account_id"] == details[2]["id"]
    assert details[2]["version"] == 1
    assert details[2]["balance"]["posted"] == "10.00"
    assert details[4]["status"] == "voided"
    assert all(detail["event_id"].startswith("evt_") for detail in details)
    # AND the deposit made in a traced request carries its trace; the rest none
    assert published[1]["TraceHeader"] == trace
    assert ["TraceHeader" in entry for entry in published].count(True) == 1


def test_a_redelivered_batch_publishes_the_same_event_ids_again(ledger: Ledger) -> None:
    # GIVEN a batch delivered, then delivered again
    records = _mixed_run(ledger)
    bus = FakeBus()
    consumer = consumer_on(bus)
    consumer.handle({"Records": records})
    consumer.handle({"Records": records})
    # THEN the second delivery repeats every event under the same id (the dedup key)
    first, second = bus.calls
    ids = [json.loads(entry["Detail"])["event_id"] for entry in first]
    assert [json.loads(entry["Detail"])["event_id"] for entry in second] == ids
    assert len(set(ids)) == len(ids)


def test_an_outbox_item_publishes_the_event_its_cause_wrote() -> None:
    # GIVEN an outbox item's creation
    derived = OutboxEvent(
        event_id=events.event_id("mon_1", "3", "triggered"),
        detail_type=events.monitor_triggered,
        ledger_id="ldg_abc",
        time=datetime(2026, 5, 1, tzinfo=UTC),
        detail={"id": "mon_1", "state": "triggered", "account_id": "acc_x", "version": 3},
        trace_header=trace,
    )
    bus = FakeBus()
    # WHEN it is consumed
    consumer_on(bus).handle({"Records": [outbox_record(derived)]})
    # THEN its event is published as written, with its ledger and id
    (entry,) = bus.published()
    assert entry["DetailType"] == events.monitor_triggered
    assert entry["Time"] == derived.time
    assert entry["TraceHeader"] == trace
    assert json.loads(entry["Detail"]) == {
        **derived.detail,
        "ledger_id": "ldg_abc",
        "event_id": derived.event_id,
    }


def test_only_the_entries_that_failed_are_sent_again(ledger: Ledger) -> None:
    # GIVEN a bus that throttles the second and fourth entry of the first call once
    records = _mixed_run(ledger)
    bus = FakeBus(fail={1: "ThrottlingException", 3: "InternalFailure"})
    # WHEN the batch is consumed
    response = consumer_on(bus).handle({"Records": records})
    # THEN the second call resent only those two, and the batch succeeded
    assert response == {"batchItemFailures": []}
    assert [len(call) for call in bus.calls] == [5, 2]
    assert [entry["DetailType"] for entry in bus.calls[1]] == [
        events.entry_posted,
        events.entry_pending,
    ]


def test_an_entry_that_keeps_failing_fails_its_record_and_those_after(ledger: Ledger) -> None:
    # GIVEN a bus that refuses the third entry for good, and throttles the second always
    records = _mixed_run(ledger)
    # positions across calls: 1 in the first call of five, then alone in each retry
    always_throttled = dict.fromkeys((1, 5, 6), "ThrottlingException")
    bus = FakeBus(fail={2: "ValidationException", **always_throttled})
    # WHEN the batch is consumed with three attempts
    response = consumer_on(bus, attempts_max=3).handle({"Records": records})
    # THEN the refused entry was sent once, the throttled one three times, and the batch
    # answers from the first record that stayed unpublished
    sent = [entry["DetailType"] for entry in bus.published()]
    assert sent.count(events.account_updated) == 1
    assert sent.count(events.entry_posted) == 3
    failed = [each["itemIdentifier"] for each in response["batchItemFailures"]]
    assert failed[0] == records[1]["dynamodb"]["SequenceNumber"]


def test_a_call_that_raises_is_retried_whole(ledger: Ledger) -> None:
    # GIVEN a bus whose first call is throttled as a whole
    records = _mixed_run(ledger)
    bus = FakeBus(raise_on_calls={0})
    # WHEN the batch is consumed
    response = consumer_on(bus).handle({"Records": records})
    # THEN the whole call was made again and published everything
    assert response == {"batchItemFailures": []}
    assert [len(call) for call in bus.calls] == [5, 5]


def test_a_poison_record_fails_alone_and_the_rest_is_published(ledger: Ledger) -> None:
    # GIVEN a batch with a record whose image does not decode
    records = _mixed_run(ledger)
    poison = change_record(None, ledger.get_entry(_entry_id(records)))
    poison["dynamodb"]["NewImage"]["lines"] = {"S": "not lines"}
    bus = FakeBus()
    # WHEN it is consumed
    response = consumer_on(bus).handle({"Records": [*records, poison]})
    # THEN the others are published and only the poison record is reported
    assert len(bus.published()) == 5
    assert response["batchItemFailures"] == [
        {"itemIdentifier": poison["dynamodb"]["SequenceNumber"]}
    ]


def _entry_id(records: list[dict[str, Any]]) -> str:
    return str(records[1]["dynamodb"]["NewImage"]["id"]["S"])


def test_calls_hold_at_most_ten_entries_and_256_kb() -> None:
    # GIVEN 23 entries, three of them of 100 KB
    entries: list[Any] = [
        {
            "Source": "ledger",
            "DetailType": events.entry_posted,
            "Detail": json.dumps({"note": "x" * (100_000 if index < 3 else 10)}),
            "Time": datetime(2026, 5, 1, tzinfo=UTC),
        }
        for index in range(23)
    ]
    bus = FakeBus()
    # WHEN they are published
    failures = Publisher(bus, sleep=lambda _: None).publish(entries)
    # THEN no call holds more than ten entries or 256 KB, and all 23 went out once, in order
    sizes = [sum(len(entry["Detail"]) + 14 + 6 + 19 for entry in call) for call in bus.calls]
    assert failures == []
    assert [len(call) for call in bus.calls] == [2, 10, 10, 1]
    assert max(sizes) <= 256 * 1024
    assert bus.published() == entries


def test_changes_that_publish_nothing_send_nothing(ledger: Ledger) -> None:
    # GIVEN a removal and a change that changed nothing
    book = new_book(ledger)
    account = open_account(ledger, book)
    bus = FakeBus()
    # WHEN they are consumed
    response = consumer_on(bus).handle(
        {"Records": [change_record(account, None), change_record(account, account)]}
    )
    # THEN no call is made and nothing fails
    assert bus.calls == []
    assert response == {"batchItemFailures": []}


def test_a_transaction_split_over_batches_publishes_each_change_once(ledger: Ledger) -> None:
    # GIVEN a transfer's three records (its entry and its two accounts), delivered in two
    # batches in an order the stream allows (per item, not per transaction)
    book = new_book(ledger)
    payer, payee = open_account(ledger, book), open_account(ledger, book)
    ledger.deposit(payer.id, "10.00")
    funded = ledger.get_account(payer.id)
    transfer = ledger.transfer(payer.id, payee.id, "4.00")
    records = [
        change_record(funded, ledger.get_account(payer.id)),
        change_record(None, transfer),
        change_record(payee, ledger.get_account(payee.id)),
    ]
    bus = FakeBus()
    consumer = consumer_on(bus)
    # WHEN the batches come one after the other
    consumer.handle({"Records": records[:1]})
    consumer.handle({"Records": records[1:]})
    # THEN each change was published once, the entry with its lines whole
    published = [(entry["DetailType"], json.loads(entry["Detail"])) for entry in bus.published()]
    assert [kind for kind, _ in published] == [
        events.account_updated,
        events.entry_posted,
        events.account_updated,
    ]
    assert len(published[1][1]["lines"]) == 2
    assert [detail["balance"]["posted"] for kind, detail in published if "balance" in detail] == [
        "6.00",
        "4.00",
    ]
