"""The stream poller on DynamoDB Local's real stream: delivery, retries, restarts, `ledger dev`."""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

import pytest

from ledger.local.container import Function, LambdaContext
from ledger.local.dev import DevSettings, run_dev
from ledger.local.dynamodb_local import free_port
from ledger.local.streams import StreamPoller
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

    from ledger.local.dynamodb_local import DynamoDBLocal

delivery_wait_s_max = 10
# Bounds the background writer of the restart test; it is stopped long before, as a rule.
writes_max = 200
poller_restarts = 4
invocation_timeout_s = 30
probe_file_variable = "STREAM_PROBE_FILE"


class RecordingConsumer:
    """A consumer run in process with a Lambda context; it may report one record as failed."""

    def __init__(self, failing: str | None = None) -> None:
        self.batches: list[list[dict[str, Any]]] = []
        self.failing = failing
        self._lock = threading.Lock()

    def invoke(self, key: str, event: Any, request_id: str) -> object:
        context = LambdaContext(key, request_id, time.monotonic() + invocation_timeout_s)
        # Through JSON, as Lambda carries events.
        return self.lambda_handler(json.loads(json.dumps(event)), context)

    def lambda_handler(self, event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        assert context.get_remaining_time_in_millis() > 0
        with self._lock:
            self.batches.append(event["Records"])
        failed = [
            {"itemIdentifier": record["dynamodb"]["SequenceNumber"]}
            for record in event["Records"]
            if record["dynamodb"]["SequenceNumber"] == self.failing
        ]
        return {"batchItemFailures": failed}

    def sequence_numbers(self) -> list[str]:
        with self._lock:
            return [r["dynamodb"]["SequenceNumber"] for batch in self.batches for r in batch]


@pytest.fixture
def streams(dynamodb_local: DynamoDBLocal) -> DynamoDBStreamsClient:
    return dynamodb_local.streams_client()


@pytest.fixture
def stream_arn(dynamodb_client: DynamoDBClient, local_table: str) -> str:
    return dynamodb_client.describe_table(TableName=local_table)["Table"]["LatestStreamArn"]


@pytest.fixture
def ledger(dynamodb_client: DynamoDBClient, local_table: str) -> Ledger:
    return Ledger(DynamoDBStore(local_table, client=dynamodb_client))


def _write(ledger: Ledger, accounts: int) -> str:
    """A ledger and some accounts through the library; the ledger's id."""
    book = ledger.create_ledger("streams", owner_id=f"owner-{secrets.token_hex(4)}")
    for number in range(accounts):
        ledger.create_account(book.id, f"wallet {number}", "liability", "USD")
    return book.id


def _stream(streams: DynamoDBStreamsClient, stream_arn: str) -> list[str]:
    """Every sequence number in the stream, read on its own from the oldest."""
    numbers: list[str] = []
    shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
    for shard in shards:
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        ).get("ShardIterator")
        for _ in range(100):
            if iterator is None:
                break
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                break
            numbers.extend(record["dynamodb"]["SequenceNumber"] for record in page["Records"])
            iterator = page.get("NextShardIterator")
    return numbers


def _wait_until(condition: Callable[[], bool], wait_s: float = delivery_wait_s_max) -> None:
    deadline = time.monotonic() + wait_s
    while not condition():
        assert time.monotonic() < deadline, "not delivered in time"
        time.sleep(0.05)


def _more_batches_than(consumer: RecordingConsumer, count: int) -> Callable[[], bool]:
    return lambda: len(consumer.batches) > count


def _poller(
    streams: DynamoDBStreamsClient, stream_arn: str, consumer: RecordingConsumer, data_dir: Path
) -> StreamPoller:
    return StreamPoller(streams, stream_arn, ["test"], consumer, data_dir, retry_delay_s=0.05)


def test_writes_through_the_library_reach_the_consumer_as_lambda_delivers_them(
    streams: DynamoDBStreamsClient, stream_arn: str, ledger: Ledger, tmp_path: Path
) -> None:
    # GIVEN a poller running for a test consumer
    consumer = RecordingConsumer()
    with _poller(streams, stream_arn, consumer, tmp_path):
        # WHEN a ledger is made through the library
        ledger_id = _write(ledger, accounts=0)
        # (the lag itself is measured by `make bench`, not asserted here)
        _wait_until(lambda: any(ledger_id in json.dumps(b) for b in consumer.batches))

    # THEN its records came as Lambda delivers them
    record = consumer.batches[0][0]
    assert (record["eventSource"], record["eventSourceARN"]) == ("aws:dynamodb", stream_arn)
    assert record["eventName"] == "INSERT"
    assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert {"Keys", "NewImage", "SequenceNumber", "ApproximateCreationDateTime"} <= set(
        record["dynamodb"]
    )
    assert not any(thread.name == "stream-poller" for thread in threading.enumerate())


def test_a_failed_record_is_retried_from_itself_then_written_to_the_failure_file(
    streams: DynamoDBStreamsClient, stream_arn: str, ledger: Ledger, tmp_path: Path
) -> None:
    # GIVEN records in the stream, and a consumer that always fails on the second
    _write(ledger, accounts=2)
    numbers = _stream(streams, stream_arn)
    assert len(numbers) >= 3
    consumer = RecordingConsumer(failing=numbers[1])
    failures = tmp_path / "stream-failures.jsonl"

    # WHEN the poller runs until it gives up, and one more write comes
    with _poller(streams, stream_arn, consumer, tmp_path):
        _wait_until(failures.exists)
        _write(ledger, accounts=0)
        _wait_until(lambda: consumer.sequence_numbers()[-1] == _stream(streams, stream_arn)[-1])

    # THEN it got the batch, twice more from the failed record, then went on after the batch
    starts = [batch[0]["dynamodb"]["SequenceNumber"] for batch in consumer.batches]
    assert starts[:3] == [numbers[0], numbers[1], numbers[1]]
    assert starts[3] not in numbers
    (line,) = [json.loads(text) for text in failures.read_text().splitlines()]
    assert line["consumer"] == "test"
    assert [r["dynamodb"]["SequenceNumber"] for r in line["records"]] == numbers[1:]
    assert numbers[1] in line["error"]
    assert Counter(consumer.sequence_numbers())[numbers[0]] == 1


def test_a_poller_stopped_and_started_during_writes_delivers_each_record_once(
    streams: DynamoDBStreamsClient, stream_arn: str, ledger: Ledger, tmp_path: Path
) -> None:
    # GIVEN writes going on in the background until told to stop
    consumer = RecordingConsumer()
    writing = threading.Event()
    writing.set()

    def write() -> None:
        for _ in range(writes_max):
            if not writing.is_set():
                return
            _write(ledger, accounts=1)

    writer = threading.Thread(target=write)
    writer.start()

    # WHEN a poller on the same data dir is started, delivers something, and is stopped
    # mid-stream, several times over
    try:
        for round_number in range(poller_restarts):
            with _poller(streams, stream_arn, consumer, tmp_path):
                _wait_until(_more_batches_than(consumer, round_number))
    finally:
        writing.clear()
        writer.join(60)
    with _poller(streams, stream_arn, consumer, tmp_path):
        everything = _stream(streams, stream_arn)
        _wait_until(lambda: len(consumer.sequence_numbers()) >= len(everything))

    # THEN every record of the stream came exactly once, in order, across every poller
    delivered = consumer.sequence_numbers()
    assert delivered == everything
    assert len(consumer.batches) >= poller_restarts
    saved = json.loads((tmp_path / "stream-checkpoints.json").read_text())
    assert list(saved["consumers"]["test"].values()) == [everything[-1]]


def test_ledger_dev_hands_the_stream_to_its_consumers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN `ledger dev` with a consumer that writes what it gets to a file
    probe = tmp_path / "probe.jsonl"
    monkeypatch.setenv(probe_file_variable, os.fspath(probe))
    settings = DevSettings(
        data_dir=tmp_path / "data",
        dynamodb_port=free_port(),
        port=0,
        workers=1,
        consumers=(Function("ledger-probe", "stream_probe_consumer:lambda_handler"),),
    )
    seen: list[dict[str, Any]] = []

    # WHEN the runtime starts, which writes the admin key to the table
    def wait() -> None:
        _wait_until(lambda: probe.exists() and "KEY#" in probe.read_text())
        seen.extend(json.loads(line) for line in probe.read_text().splitlines())

    output: list[str] = []
    run_dev(settings, wait=wait, say=output.append)

    # THEN the consumer got it from the stream in a worker, with a Lambda context
    assert output[-1] == "Stopped."
    assert seen[0]["function_name"] == "ledger-probe"
    assert seen[0]["pid"] != os.getpid()
    assert "/stream/" in seen[0]["event_source_arn"]
    assert (tmp_path / "data" / "stream-checkpoints.json").is_file()


@pytest.fixture(autouse=True)
def _no_poller_left() -> Iterator[None]:
    yield
    assert not any(thread.name == "stream-poller" for thread in threading.enumerate())
