"""The stream consumers in `make bench`: DynamoDB calls and items per stream record.

A fixed mix of ledger operations (deposits, one backdated, transfers, a hold posted in part,
a hold voided, a batch, deposits into a sharded account, a suspension and a reactivation)
runs `rounds` times on a table of its own on DynamoDB Local. Its real stream, read whole
and cut into Lambda-sized batches, goes through each consumer in this process, counted by
a CallCounter on the consumer's client; then the same batches go through again, as Lambda
redelivers them, and must write nothing. The history consumer's records per second and
CPU per record are measured on the first pass: reported, never enforced.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Metrics

from bench.counting import CallCounter, read_operations
from bench.targets import Check
from ledger.consumers.audit import AuditConsumer
from ledger.consumers.history import HistoryConsumer
from ledger.domain.model import AccountStatus
from ledger.local.dynamodb_local import make_client, make_streams_client
from ledger.local.stream_batches import lambda_record
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore, ensure_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodbstreams.client import DynamoDBStreamsClient

rounds_default = 20
rounds_max = 200
# Lambda's default batch size for a DynamoDB Streams event source.
batch_records_default = 100
stream_pages_max = 10_000
records_per_page_max = 1000
sharded_account_shards = 4
consumers = ("history", "audit")
# The first record of an item in a batch may read its previous audit link; no other does.
audit_reads_per_record_max = 0.1
# An account's own item and its shard items hold balances.
balance_item_sort_keys = frozenset({"ACCOUNT", "SHARD"})


class ConsumerFailed(RuntimeError):
    """A consumer reported a record of the mix as failed: the measurement is invalid."""


@dataclass(frozen=True)
class ConsumerCost:
    """What one pass of the stream through one consumer cost."""

    records: int
    batches: int
    calls: dict[str, int]
    items_written: int
    cpu_ns: int
    wall_ns: int

    @property
    def reads(self) -> int:
        """Calls that read items."""
        return sum(count for name, count in self.calls.items() if name in read_operations)

    @property
    def writes(self) -> int:
        """Calls that write items."""
        return sum(count for name, count in self.calls.items() if name not in read_operations)

    def as_json(self) -> dict[str, Any]:
        """The results.json shape: totals, and per record and per batch."""
        return {
            "records": self.records,
            "batches": self.batches,
            "calls": dict(sorted(self.calls.items())),
            "reads_per_record": _ratio(self.reads, self.records),
            "write_calls_per_record": _ratio(self.writes, self.records),
            "items_written_per_record": _ratio(self.items_written, self.records),
            "reads_per_batch": _ratio(self.reads, self.batches),
        }


@dataclass(frozen=True)
class ConsumersReport:
    """Each consumer's first pass and its redelivery, and the mix that fed them."""

    balance_changes: int
    first: dict[str, ConsumerCost]
    replay: dict[str, ConsumerCost]

    def throughput(self) -> dict[str, float]:
        """Records a second and CPU ms a record through the history consumer, in process."""
        history = self.first["history"]
        return {
            "records": history.records,
            "records_per_s": round(history.records * 1e9 / max(history.wall_ns, 1), 1),
            "cpu_ms_per_record": round(history.cpu_ns / 1e6 / max(history.records, 1), 3),
        }

    def as_json(self) -> dict[str, Any]:
        """The results.json shape of the consumers."""
        return {
            "balance_changes": self.balance_changes,
            **{
                name: {**self.first[name].as_json(), "replay": self.replay[name].as_json()}
                for name in consumers
            },
        }


def measure_consumers(
    endpoint_url: str,
    rounds: int = rounds_default,
    batch_records: int = batch_records_default,
) -> ConsumersReport:
    """Run the mix `rounds` times on a fresh table, feed its stream to each consumer twice."""
    if not 1 <= rounds <= rounds_max:
        raise ValueError(f"rounds must be from 1 to {rounds_max}")
    client = make_client(endpoint_url)
    table_name = f"ledger-bench-consumers-{secrets.token_hex(6)}"
    ensure_table(client, table_name)
    try:
        ledger = Ledger(DynamoDBStore(table_name, client=client))
        for _ in range(rounds):
            wallet_mix(ledger)
        records = stream_records(make_streams_client(endpoint_url), client, table_name)
        batches = [
            records[start : start + batch_records]
            for start in range(0, len(records), batch_records)
        ]
        built = _consumers(table_name, client)
        first = {name: consumer_pass(client, handle, batches) for name, handle in built.items()}
        replay = {name: consumer_pass(client, handle, batches) for name, handle in built.items()}
        return ConsumersReport(_balance_changes(records), first, replay)
    finally:
        client.delete_table(TableName=table_name)


def wallet_mix(ledger: Ledger) -> None:
    """One round of the mix: the changes a busy wallet ledger sees."""
    book = ledger.create_ledger("bench consumers", owner_id=f"owner-{secrets.token_hex(4)}")
    alice = ledger.create_account(book.id, "alice", "liability", "USD")
    bob = ledger.create_account(book.id, "bob", "liability", "USD")
    fees = ledger.create_account(
        book.id, "fees", "revenue", "USD", overdraft="allow", shards=sharded_account_shards
    )
    ledger.deposit(alice.id, "100.00", effective_at=datetime.now(UTC) - timedelta(days=40))
    ledger.deposit(bob.id, "20.00")
    ledger.transfer(alice.id, bob.id, "30.00")
    ledger.transfer(bob.id, fees.id, "1.00")
    ledger.transfer(alice.id, fees.id, "2.00")
    held = ledger.hold(alice.id, "10.00")
    ledger.post_entry(held.id, "4.00")
    ledger.void_entry(ledger.hold(bob.id, "2.00").id)
    ledger.batch([_transfer(alice.id, bob.id, "1.00"), _transfer(bob.id, alice.id, "0.50")])
    ledger.update_account(bob.id, status=AccountStatus.SUSPENDED)
    ledger.update_account(bob.id, status=AccountStatus.ACTIVE)


def _transfer(source: str, target: str, amount: str) -> dict[str, str]:
    return {
        "type": "transfer",
        "from_account_id": source,
        "to_account_id": target,
        "amount": amount,
    }


def stream_records(
    streams: DynamoDBStreamsClient, client: DynamoDBClient, table_name: str
) -> list[dict[str, Any]]:
    """Every record of the table's stream so far, shard by shard, as Lambda hands them over."""
    arn = client.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator: str | None = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for _ in range(stream_pages_max):
            if iterator is None:
                break
            page = streams.get_records(ShardIterator=iterator, Limit=records_per_page_max)
            records += [lambda_record(record, arn) for record in page["Records"]]
            iterator = page.get("NextShardIterator") if page["Records"] else None
    return records


Handler = Callable[[Mapping[str, Any]], Mapping[str, Any]]


def _consumers(table_name: str, client: DynamoDBClient) -> dict[str, Handler]:
    quiet = Metrics(namespace="LedgerBench")
    history = HistoryConsumer(table_name, client, metrics=quiet)
    audit = AuditConsumer(table_name, client, metrics=quiet)
    return {"history": history.handle, "audit": audit.handle}


def consumer_pass(
    client: DynamoDBClient, handle: Handler, batches: Sequence[Sequence[dict[str, Any]]]
) -> ConsumerCost:
    """Every batch through `handle`, counting its client's calls and the items written."""
    counter = CallCounter()
    with counter.attached(client):
        counter.reset()
        cpu_start, wall_start = time.process_time_ns(), time.perf_counter_ns()
        for batch in batches:
            answer = handle({"Records": list(batch)})
            if answer.get("batchItemFailures"):
                raise ConsumerFailed(f"records failed: {answer['batchItemFailures']}")
        cpu_ns = time.process_time_ns() - cpu_start
        wall_ns = time.perf_counter_ns() - wall_start
        sample = counter.sample(cpu_ns)
    return ConsumerCost(
        records=sum(len(batch) for batch in batches),
        batches=len(batches),
        calls=sample.calls,
        items_written=sample.items_written,
        cpu_ns=sample.cpu_ns,
        wall_ns=wall_ns,
    )


def _balance_changes(records: Sequence[Mapping[str, Any]]) -> int:
    """Records of items that hold balances (accounts and their shards) whose version grew."""
    count = 0
    for record in records:
        images = record["dynamodb"]
        new = images.get("NewImage", {})
        if new.get("sk", {}).get("S") not in balance_item_sort_keys:
            continue
        old_version = int(images.get("OldImage", {}).get("version", {}).get("N", "0"))
        count += int(int(new.get("version", {}).get("N", "0")) > old_version)
    return count


def _ratio(count: int, per: int) -> float:
    return round(count / per, 3) if per else 0.0


def format_consumers(report: ConsumersReport) -> str:
    """One line per consumer and pass."""
    lines = [
        f"Stream consumers on DynamoDB Local: {report.first['history'].records} records, "
        f"{report.balance_changes} balance changes, {report.first['history'].batches} batches"
    ]
    for name in consumers:
        for label, cost in (("first", report.first[name]), ("replay", report.replay[name])):
            shape = cost.as_json()
            lines.append(
                f"  {name:<8} {label:<6} reads/record {shape['reads_per_record']:.3f}  "
                f"write calls/record {shape['write_calls_per_record']:.3f}  "
                f"items written/record {shape['items_written_per_record']:.3f}  "
                f"reads/batch {shape['reads_per_batch']:.2f}"
            )
    throughput = report.throughput()
    lines.append(
        f"  history in process: {throughput['records_per_s']:.1f} records/s, "
        f"{throughput['cpu_ms_per_record']:.3f} CPU ms/record"
    )
    return "\n".join(lines)


def consumers_checks(report: ConsumersReport) -> list[Check]:
    """The consumers' count targets: no read per record on the hot path, one write call per
    balance change, and nothing written by a redelivered batch."""
    history, audit = report.first["history"], report.first["audit"]
    history_reads = history.calls.get("BatchGetItem", 0)
    checks = [
        Check(
            "history: at most 2 BatchGetItem per batch, no other read",
            passed=history.reads == history_reads <= 2 * history.batches,
            actual=f"{history.calls} over {history.batches} batches",
        ),
        Check(
            "history: 1 TransactWriteItems per balance change",
            passed=history.calls.get("TransactWriteItems", 0) == report.balance_changes
            and history.writes == report.balance_changes,
            actual=f"{history.calls} for {report.balance_changes} balance changes",
        ),
        Check(
            f"audit: at most {audit_reads_per_record_max} reads per record",
            passed=audit.reads <= audit_reads_per_record_max * audit.records,
            actual=f"{audit.reads} reads for {audit.records} records",
        ),
        Check(
            "audit: at most 1 write call per record",
            passed=audit.writes <= audit.records,
            actual=f"{audit.writes} write calls for {audit.records} records",
        ),
    ]
    checks += [
        Check(
            f"{name}: a redelivered batch writes 0 items",
            passed=report.replay[name].items_written == 0,
            actual=f"{report.replay[name].items_written} items",
        )
        for name in consumers
    ]
    return checks
