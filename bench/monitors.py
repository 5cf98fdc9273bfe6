"""The monitors consumer in `make bench`: writes per monitor evaluation.

Wallets, each watched by `balance_monitors` balance monitors at different thresholds and
one `entry_amount` monitor, see a fixed walk of deposits and withdrawals that crosses some
thresholds and stays within others; it runs `rounds` times on a table of its own on
DynamoDB Local. The real stream, cut into Lambda-sized batches, goes through the consumer
counted by a CallCounter, then again as Lambda redelivers it, and must write nothing. An
evaluation is one balance monitor against one balance change of its account.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools import Metrics

from bench.consumers import ConsumerCost, consumer_pass, stream_records
from bench.targets import Check
from ledger.consumers.monitors import MonitorsConsumer
from ledger.local.dynamodb_local import make_client, make_streams_client
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore, ensure_table

rounds_default = 10
rounds_max = 100
batch_records_default = 100
# Thresholds of `available` (lt), in major units: the walk crosses the first two only.
thresholds = ("10.00", "25.00", "1000.00", "0.50")
balance_monitors = len(thresholds)
# The walk, from 30.00: (kind, amount). 10.00 is crossed down twice and up twice, 25.00
# down twice and up once; 1000.00 holds throughout and 0.50 never does.
walk = (
    ("withdraw", "3.00"),
    ("withdraw", "2.00"),
    ("withdraw", "20.00"),
    ("deposit", "1.00"),
    ("deposit", "150.00"),
    ("withdraw", "152.00"),
    ("deposit", "7.00"),
    ("deposit", "1.00"),
)
# Crossings of the walk per wallet, worked out by hand from the thresholds above.
crossings_per_round = 7
large_entries_per_round = 2


@dataclass(frozen=True)
class MonitorsReport:
    """What the stream of the walk cost the monitors consumer, first and redelivered."""

    evaluations: int
    crossings: int
    events: int
    first: ConsumerCost
    replay: ConsumerCost

    def as_json(self) -> dict[str, Any]:
        """The results.json shape."""
        return {
            "evaluations": self.evaluations,
            "crossings": self.crossings,
            "events_written": self.events,
            "write_calls_per_evaluation": _ratio(self.first.writes, self.evaluations),
            "items_written_per_evaluation": _ratio(self.first.items_written, self.evaluations),
            "first": self.first.as_json(),
            "replay": self.replay.as_json(),
        }


def measure_monitors(
    endpoint_url: str,
    rounds: int = rounds_default,
    batch_records: int = batch_records_default,
) -> MonitorsReport:
    """Walk `rounds` watched wallets on a fresh table, feed the stream to the consumer twice."""
    if not 1 <= rounds <= rounds_max:
        raise ValueError(f"rounds must be from 1 to {rounds_max}")
    client = make_client(endpoint_url)
    table_name = f"ledger-bench-monitors-{secrets.token_hex(6)}"
    ensure_table(client, table_name)
    try:
        ledger = Ledger(DynamoDBStore(table_name, client=client, projections=()))
        book = ledger.create_ledger("bench monitors", owner_id=f"owner-{secrets.token_hex(4)}")
        for _ in range(rounds):
            _walk(ledger, book.id)
        records = stream_records(make_streams_client(endpoint_url), client, table_name)
        batches = [
            records[start : start + batch_records]
            for start in range(0, len(records), batch_records)
        ]
        consumer = MonitorsConsumer(table_name, client, metrics=Metrics(namespace="LedgerBench"))
        first = consumer_pass(client, consumer.handle, batches)
        replay = consumer_pass(client, consumer.handle, batches)
        outbox = client.query(
            TableName=table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"OUTBOX#{book.id}"}},
            Select="COUNT",
        )
        return MonitorsReport(
            evaluations=rounds * len(walk) * balance_monitors,
            crossings=rounds * crossings_per_round,
            events=outbox["Count"] - rounds * large_entries_per_round,
            first=first,
            replay=replay,
        )
    finally:
        client.delete_table(TableName=table_name)


def _walk(ledger: Ledger, book: str) -> None:
    wallet = ledger.create_account(book, "wallet", "liability", "USD").id
    ledger.deposit(wallet, "30.00")
    for threshold in thresholds:
        ledger.create_monitor(wallet, "available", "lt", threshold)
    ledger.create_monitor(wallet, "entry_amount", "gte", "100.00")
    for kind, amount in walk:
        if kind == "deposit":
            ledger.deposit(wallet, amount)
        else:
            ledger.withdraw(wallet, amount)


def _ratio(count: int, per: int) -> float:
    return round(count / per, 3) if per else 0.0


def format_monitors(report: MonitorsReport) -> str:
    """Two lines: the walk, and the writes per evaluation."""
    shape = report.as_json()
    return (
        f"Monitors consumer on DynamoDB Local: {report.evaluations} evaluations, "
        f"{report.crossings} crossings, {report.first.batches} batches\n"
        f"  write calls/evaluation {shape['write_calls_per_evaluation']:.3f}  "
        f"items written/evaluation {shape['items_written_per_evaluation']:.3f}  "
        f"replay items written {report.replay.items_written}"
    )


def monitors_checks(report: MonitorsReport) -> list[Check]:
    """One event per crossing; at most one write call per crossing plus one per watched
    account per batch (its evaluated version); nothing written by a redelivery."""
    wallets = report.evaluations // (len(walk) * balance_monitors)
    large = wallets * large_entries_per_round
    write_max = report.crossings + large + wallets * report.first.batches
    return [
        Check(
            "monitors: one outbox event per crossing",
            passed=report.events == report.crossings,
            actual=f"{report.events} events for {report.crossings} crossings",
        ),
        Check(
            "monitors: at most 1 write call per crossing, large entry and account and batch",
            passed=report.first.writes <= write_max,
            actual=f"{report.first.writes} write calls (max {write_max})",
        ),
        Check(
            "monitors: a redelivered batch writes 0 items",
            passed=report.replay.items_written == 0,
            actual=f"{report.replay.items_written} items",
        ),
    ]
