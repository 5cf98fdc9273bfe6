"""The events consumer in `make bench`: PutEvents calls per batch, events per change, and
events published a second in this process.

The stream consumers' fixed wallet mix (bench/consumers.py) runs `rounds` times on a table
of its own on DynamoDB Local; its real stream, cut into Lambda-sized batches, goes through
the events consumer with a fake EventBridge that accepts every entry and counts its calls,
then again as Lambda redelivers it, which must publish the same event ids. Events a second
and CPU per event are measured on the first pass: reported, never enforced.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools import Metrics

from bench.consumers import stream_records, wallet_mix
from bench.targets import Check
from ledger.consumers.events import EventsConsumer
from ledger.local.dynamodb_local import make_client, make_streams_client
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore, ensure_table

rounds_default = 20
rounds_max = 200
batch_records_default = 100
entries_per_call_max = 10


class EventsFailed(RuntimeError):
    """The events consumer reported a record of the mix as failed: the measurement is invalid."""


@dataclass
class CountingBus:
    """An EventBridge that accepts every entry, keeping the calls' sizes and event ids."""

    calls: list[int] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)

    def put_events(self, *, Entries: Sequence[Any]) -> dict[str, Any]:  # noqa: N803
        self.calls.append(len(Entries))
        self.event_ids += [json.loads(entry["Detail"])["event_id"] for entry in Entries]
        return {
            "FailedEntryCount": 0,
            "Entries": [{"EventId": f"eb-{len(self.event_ids)}-{n}"} for n in range(len(Entries))],
        }


@dataclass(frozen=True)
class EventsPass:
    """One pass of the stream through the events consumer."""

    records: int
    batches: int
    events_per_batch: tuple[int, ...]
    calls: int
    event_ids: tuple[str, ...]
    cpu_ns: int
    wall_ns: int

    @property
    def events(self) -> int:
        """Events published."""
        return len(self.event_ids)


@dataclass(frozen=True)
class EventsReport:
    """The first pass and the redelivery, and the entries the mix created."""

    entries_created: int
    first: EventsPass
    replay: EventsPass

    def as_json(self) -> dict[str, Any]:
        """The results.json shape: counts, ratios, and the reported throughput."""
        first = self.first
        return {
            "records": first.records,
            "batches": first.batches,
            "events": first.events,
            "entries_created": self.entries_created,
            "put_events_calls": first.calls,
            "events_per_call": round(first.events / first.calls, 3) if first.calls else 0.0,
            "events_per_record": round(first.events / first.records, 3) if first.records else 0.0,
            "replay_same_event_ids": self.replay.event_ids == first.event_ids,
        }

    def throughput(self) -> dict[str, float]:
        """Events a second (wall) and CPU microseconds per event, in this process."""
        first = self.first
        if not first.events:
            return {"events_per_s": 0.0, "cpu_us_per_event": 0.0}
        return {
            "events_per_s": round(first.events / (first.wall_ns / 1e9), 1),
            "cpu_us_per_event": round(first.cpu_ns / first.events / 1000, 1),
        }


def measure_events(
    endpoint_url: str, rounds: int = rounds_default, batch_records: int = batch_records_default
) -> EventsReport:
    """Run the mix `rounds` times on a fresh table, publish its stream twice."""
    if not 1 <= rounds <= rounds_max:
        raise ValueError(f"rounds must be from 1 to {rounds_max}")
    client = make_client(endpoint_url)
    table_name = f"ledger-bench-events-{secrets.token_hex(6)}"
    ensure_table(client, table_name)
    try:
        ledger = Ledger(DynamoDBStore(table_name, client=client, projections=()))
        for _ in range(rounds):
            wallet_mix(ledger)
        records = stream_records(make_streams_client(endpoint_url), client, table_name)
    finally:
        client.delete_table(TableName=table_name)
    batches = [records[at : at + batch_records] for at in range(0, len(records), batch_records)]
    entries = sum(
        1
        for record in records
        if record["eventName"] == "INSERT"
        and record["dynamodb"]["NewImage"].get("entity", {}).get("S") == "entry"
    )
    return EventsReport(entries, events_pass(batches), events_pass(batches))


def events_pass(batches: Sequence[Sequence[dict[str, Any]]]) -> EventsPass:
    """Every batch through a fresh consumer on a counting bus."""
    bus = CountingBus()
    consumer = EventsConsumer(bus, "bench", metrics=Metrics(namespace="LedgerBench"))
    per_batch: list[int] = []
    cpu_start, wall_start = time.process_time_ns(), time.perf_counter_ns()
    for batch in batches:
        before = len(bus.event_ids)
        answer = consumer.handle({"Records": list(batch)})
        if answer.get("batchItemFailures"):
            raise EventsFailed(f"records failed: {answer['batchItemFailures']}")
        per_batch.append(len(bus.event_ids) - before)
    return EventsPass(
        records=sum(len(batch) for batch in batches),
        batches=len(batches),
        events_per_batch=tuple(per_batch),
        calls=len(bus.calls),
        event_ids=tuple(bus.event_ids),
        cpu_ns=time.process_time_ns() - cpu_start,
        wall_ns=time.perf_counter_ns() - wall_start,
    )


def format_events(report: EventsReport) -> str:
    """Two lines: the counts, and the reported throughput."""
    shape, speed = report.as_json(), report.throughput()
    return (
        f"Events consumer, {shape['records']} stream records in {shape['batches']} batches: "
        f"{shape['events']} events in {shape['put_events_calls']} PutEvents calls "
        f"({shape['events_per_call']:.2f} a call)\n"
        f"  in process, fake EventBridge: {speed['events_per_s']:.0f} events/s, "
        f"{speed['cpu_us_per_event']:.0f} CPU µs/event (reported only)"
    )


def events_checks(report: EventsReport) -> list[Check]:
    """PutEvents calls as few as 10 entries a call allow, every entry published once, and
    a redelivery publishing the same event ids."""
    first = report.first
    calls_min = sum(math.ceil(events / entries_per_call_max) for events in first.events_per_batch)
    distinct = len(set(first.event_ids))
    return [
        Check(
            "events: PutEvents calls = ceil(events / 10) per batch",
            passed=first.calls == calls_min,
            actual=f"{first.calls} calls (fewest possible {calls_min})",
        ),
        Check(
            "events: one event per change, each id once in a pass",
            passed=distinct == first.events and first.events >= report.entries_created,
            actual=f"{distinct} distinct ids in {first.events}; {report.entries_created} entries",
        ),
        Check(
            "events: a redelivered batch publishes the same event ids",
            passed=report.replay.event_ids == first.event_ids,
            actual=f"{report.replay.events} events again",
        ),
    ]
