"""The stream poller on a fake stream: shard rollover, whole-batch retries, expired iterators."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from ledger.local.streams import StreamPoller

if TYPE_CHECKING:
    from pathlib import Path

    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

stream_arn = "arn:aws:dynamodb:ddblocal:000000000000:table/ledger/stream/2026-01-01T00:00:00.000"


class _Expired(Exception):
    pass


class _Trimmed(Exception):
    pass


class _Exceptions:
    ExpiredIteratorException = _Expired
    TrimmedDataAccessException = _Trimmed


def _record(number: int) -> dict[str, Any]:
    return {
        "eventID": f"event-{number}",
        "eventName": "INSERT",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "ddblocal",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 1, 1, tzinfo=UTC),
            "Keys": {"pk": {"S": f"ITEM#{number}"}, "sk": {"S": "META"}},
            "NewImage": {"pk": {"S": f"ITEM#{number}"}, "sk": {"S": "META"}},
            "SequenceNumber": f"{number:021d}",
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


class FakeStreams:
    """A stream of shards held in memory; iterators are `shard@position`; one shard a page."""

    exceptions = _Exceptions

    def __init__(self) -> None:
        self.shards: dict[str, dict[str, Any]] = {}
        self.expire_next = False

    def add_shard(self, shard_id: str, numbers: list[int], parent: str | None = None) -> None:
        self.shards[shard_id] = {
            "parent": parent,
            "records": [_record(number) for number in numbers],
            "closed": False,
        }

    def describe_stream(self, **arguments: Any) -> dict[str, Any]:
        assert arguments["StreamArn"] == stream_arn
        ids = list(self.shards)
        start = (
            ids.index(arguments["ExclusiveStartShardId"]) + 1
            if arguments.get("ExclusiveStartShardId")
            else 0
        )
        shard_id = ids[start]
        shard: dict[str, Any] = {"ShardId": shard_id, "SequenceNumberRange": {}}
        if self.shards[shard_id]["parent"] is not None:
            shard["ParentShardId"] = self.shards[shard_id]["parent"]
        description: dict[str, Any] = {"Shards": [shard]}
        if start + 1 < len(ids):
            description["LastEvaluatedShardId"] = shard_id
        return {"StreamDescription": description}

    def get_shard_iterator(self, **arguments: Any) -> dict[str, Any]:
        shard_id = arguments["ShardId"]
        if arguments["ShardIteratorType"] == "TRIM_HORIZON":
            return {"ShardIterator": f"{shard_id}@0"}
        assert arguments["ShardIteratorType"] == "AFTER_SEQUENCE_NUMBER"
        numbers = [
            record["dynamodb"]["SequenceNumber"] for record in self.shards[shard_id]["records"]
        ]
        return {"ShardIterator": f"{shard_id}@{numbers.index(arguments['SequenceNumber']) + 1}"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:  # noqa: N803
        if self.expire_next:
            self.expire_next = False
            raise _Expired
        shard_id, position = ShardIterator.split("@")
        shard = self.shards[shard_id]
        start = int(position)
        records = shard["records"][start : start + Limit]
        end = start + len(records)
        page: dict[str, Any] = {"Records": records}
        if not (shard["closed"] and end == len(shard["records"])):
            page["NextShardIterator"] = f"{shard_id}@{end}"
        return page


class Recorder:
    """A consumer invoked in process: records each batch's sequence numbers, may raise."""

    def __init__(self, raises: bool = False) -> None:
        self.batches: list[list[int]] = []
        self.raises = raises

    def invoke(self, key: str, event: Any, request_id: str) -> object:
        json.dumps(event)
        assert all(record["eventSourceARN"] == stream_arn for record in event["Records"])
        self.batches.append([int(r["dynamodb"]["SequenceNumber"]) for r in event["Records"]])
        if self.raises:
            raise RuntimeError("the consumer is broken")
        return {"batchItemFailures": []}


def _poller(
    streams: FakeStreams, recorder: Recorder, data_dir: Path, **options: Any
) -> StreamPoller:
    return StreamPoller(
        cast("DynamoDBStreamsClient", streams),
        stream_arn,
        ["test"],
        recorder,
        data_dir,
        retry_delay_s=0,
        **options,
    )


def _drain(poller: StreamPoller, rounds_max: int = 20) -> None:
    for _ in range(rounds_max):
        if not poller.poll_once():
            return
    raise AssertionError("the poller kept finding records")


def test_children_are_read_after_their_closed_parent_is_drained(tmp_path: Path) -> None:
    # GIVEN a shard with records, which is then closed and rolled over into two children
    streams = FakeStreams()
    streams.add_shard("shard-1", [1, 2, 3])
    recorder = Recorder()
    poller = _poller(streams, recorder, tmp_path, batch_records_max=2)
    _drain(poller)
    streams.shards["shard-1"]["records"].append(_record(4))
    streams.shards["shard-1"]["closed"] = True
    streams.add_shard("shard-2", [5, 6], parent="shard-1")
    streams.add_shard("shard-3", [7], parent="shard-1")

    # WHEN the poller goes on
    _drain(poller)
    streams.shards["shard-2"]["records"].append(_record(8))
    _drain(poller)

    # THEN every record came once, the parent's before the children's, in batches of two at most
    delivered = [number for batch in recorder.batches for number in batch]
    assert delivered[:4] == [1, 2, 3, 4]
    assert sorted(delivered) == [1, 2, 3, 4, 5, 6, 7, 8]
    assert max(len(batch) for batch in recorder.batches) == 2
    assert delivered.index(8) > delivered.index(6)


def test_a_raising_consumer_gets_the_whole_batch_again_then_the_batch_is_given_up(
    tmp_path: Path,
) -> None:
    # GIVEN a consumer that raises on every batch
    streams = FakeStreams()
    streams.add_shard("shard-1", [1, 2, 3])
    recorder = Recorder(raises=True)
    poller = _poller(streams, recorder, tmp_path, attempts_max=3, batch_records_max=2)

    # WHEN the poller reads the first batch, three times, then the rest
    for _ in range(5):
        poller.poll_once()

    # THEN the first batch came three times, then went to the failure file; so did the next one
    assert recorder.batches == [[1, 2], [1, 2], [1, 2], [3], [3]]
    poller.poll_once()
    lines = [
        json.loads(line) for line in (tmp_path / "stream-failures.jsonl").read_text().splitlines()
    ]
    assert [[int(r["dynamodb"]["SequenceNumber"]) for r in line["records"]] for line in lines] == [
        [1, 2],
        [3],
    ]
    assert "the consumer is broken" in lines[0]["error"]
    checkpoints = json.loads((tmp_path / "stream-checkpoints.json").read_text())
    assert checkpoints["consumers"]["test"]["shard-1"] == f"{3:021d}"


def test_an_expired_iterator_is_replaced_from_the_checkpoint(tmp_path: Path) -> None:
    # GIVEN a consumer that has read two records, whose iterator then expires
    streams = FakeStreams()
    streams.add_shard("shard-1", [1, 2])
    recorder = Recorder()
    poller = _poller(streams, recorder, tmp_path)
    _drain(poller)
    streams.shards["shard-1"]["records"].append(_record(3))
    streams.expire_next = True

    # WHEN it goes on
    _drain(poller)
    _drain(poller)

    # THEN it gets the new record, and nothing twice
    assert recorder.batches == [[1, 2], [3]]


def test_a_new_poller_resumes_after_its_checkpoint(tmp_path: Path) -> None:
    # GIVEN a poller that read two records and stopped
    streams = FakeStreams()
    streams.add_shard("shard-1", [1, 2])
    _drain(_poller(streams, Recorder(), tmp_path))
    streams.shards["shard-1"]["records"].append(_record(3))

    # WHEN another starts on the same data dir
    recorder = Recorder()
    _drain(_poller(streams, recorder, tmp_path))

    # THEN it starts after them
    assert recorder.batches == [[3]]
