"""DynamoDB Streams to Lambda locally: a thread that reads the table's stream for its consumers.

Each consumer reads the stream on its own, as each Lambda event source mapping does: in
batches per shard, oldest shard first and a child shard only once its parent is drained,
from its own checkpoint. A batch response's failures (ReportBatchItemFailures) make the
next attempt start at the first failed record; a consumer that raises gets the whole
batch again. After the last attempt the records from the first failure go to the failure
file and the consumer goes on.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.local.lifecycle import BackgroundThread
from ledger.local.stream_batches import (
    Failing,
    MalformedBatchResponse,
    first_failure,
    lambda_record,
    readable_shards,
    sequence_of,
    settle,
)
from ledger.local.stream_files import (
    Checkpoints,
    FailureLog,
    checkpoints_file_name,
    failures_file_name,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

    from ledger.local.gateway import Invoker

batch_records_max = 100
attempts_max = 3
retry_delay_s = 0.2
poll_interval_s = 0.25
shard_refresh_interval_s = 1.0
shard_pages_max = 100
# A consumer call in progress may run to the worker's 30 s timeout before the thread ends.
stop_wait_s_max = 35

logger = logging.getLogger(__name__)


@dataclass
class _Cursor:
    """Where one consumer reads one shard: an iterator, None until one is asked for."""

    iterator: str | None = None
    failing: Failing | None = None


@dataclass(frozen=True)
class _Delivery:
    failed_from: int | None
    error: str


class StreamPoller(BackgroundThread):
    """Delivers the stream `stream_arn` to each consumer, by name, through `invoker`."""

    def __init__(
        self,
        streams: DynamoDBStreamsClient,
        stream_arn: str,
        consumers: Sequence[str],
        invoker: Invoker,
        data_dir: Path,
        *,
        poll_interval_s: float = poll_interval_s,
        attempts_max: int = attempts_max,
        retry_delay_s: float = retry_delay_s,
        batch_records_max: int = batch_records_max,
    ) -> None:
        if attempts_max < 1 or not 1 <= batch_records_max <= 1000:
            raise ValueError("attempts_max is at least 1, batch_records_max within 1..1000")
        self._streams = streams
        self._stream_arn = stream_arn
        self._consumers = list(consumers)
        self._invoker = invoker
        self._checkpoints = Checkpoints(data_dir / checkpoints_file_name, stream_arn)
        self._failures = FailureLog(data_dir / failures_file_name)
        self._poll_interval_s = poll_interval_s
        self._attempts_max = attempts_max
        self._retry_delay_s = retry_delay_s
        self._batch_records_max = batch_records_max
        self._shards: list[Mapping[str, Any]] = []
        self._shards_read_at = -math.inf
        self._finished: dict[str, set[str]] = {consumer: set() for consumer in self._consumers}
        self._cursors: dict[tuple[str, str], _Cursor] = {}
        super().__init__("stream-poller", stop_wait_s_max)

    def poll_once(self) -> bool:
        """One round: each consumer's next batch of each readable shard; whether any had records."""
        if time.monotonic() - self._shards_read_at >= shard_refresh_interval_s:
            self._shards = self._describe_shards()
            self._shards_read_at = time.monotonic()
        delivered = False
        for consumer in self._consumers:
            for shard_id in readable_shards(self._shards, self._finished[consumer]):
                if self._stopping.is_set():
                    return delivered
                delivered |= self._step(consumer, shard_id)
        return delivered

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                delivered = self.poll_once()
            except Exception:
                logger.exception("reading the stream failed; trying again")
                delivered = False
            if not delivered:
                self._stopping.wait(self._poll_interval_s)

    def _describe_shards(self) -> list[Mapping[str, Any]]:
        shards: list[Mapping[str, Any]] = []
        description = self._streams.describe_stream(StreamArn=self._stream_arn)["StreamDescription"]
        for _ in range(shard_pages_max):
            shards.extend(description.get("Shards", []))
            last = description.get("LastEvaluatedShardId")
            if last is None:
                return shards
            description = self._streams.describe_stream(
                StreamArn=self._stream_arn, ExclusiveStartShardId=last
            )["StreamDescription"]
        raise RuntimeError(f"the stream lists more than {shard_pages_max} pages of shards")

    def _step(self, consumer: str, shard_id: str) -> bool:
        """Read and deliver one batch; whether it held records."""
        cursor = self._cursors.setdefault((consumer, shard_id), _Cursor())
        if cursor.iterator is None:
            cursor.iterator = self._iterator(consumer, shard_id)
        try:
            page = self._streams.get_records(
                ShardIterator=cursor.iterator, Limit=self._batch_records_max
            )
        except self._streams.exceptions.ExpiredIteratorException:
            cursor.iterator = None
            return False
        records = [lambda_record(record, self._stream_arn) for record in page["Records"]]
        next_iterator = page.get("NextShardIterator")
        if not records:
            self._move_on(consumer, shard_id, cursor, next_iterator)
            return False
        delivery = self._deliver(consumer, records)
        settlement = settle(records, delivery.failed_from, cursor.failing, self._attempts_max)
        if settlement.given_up:
            self._failures.append(
                consumer, self._stream_arn, shard_id, settlement.given_up, delivery.error
            )
            logger.error(
                "stream consumer %s failed %d times from record %s; %d records written to %s",
                consumer,
                self._attempts_max,
                sequence_of(settlement.given_up[0]),
                len(settlement.given_up),
                failures_file_name,
            )
        if settlement.checkpoint is not None:
            self._checkpoints.advance(consumer, shard_id, settlement.checkpoint)
        cursor.failing = settlement.failing
        if settlement.retry:
            cursor.iterator = None
            self._stopping.wait(self._retry_delay_s)
        else:
            self._move_on(consumer, shard_id, cursor, next_iterator)
        return True

    def _move_on(
        self, consumer: str, shard_id: str, cursor: _Cursor, next_iterator: str | None
    ) -> None:
        if next_iterator is not None:
            cursor.iterator = next_iterator
            return
        # A closed shard read to its end: its children may be read, so list them now.
        self._finished[consumer].add(shard_id)
        del self._cursors[(consumer, shard_id)]
        self._shards_read_at = -math.inf

    def _iterator(self, consumer: str, shard_id: str) -> str:
        checkpoint = self._checkpoints.get(consumer, shard_id)
        if checkpoint is not None:
            try:
                return self._streams.get_shard_iterator(
                    StreamArn=self._stream_arn,
                    ShardId=shard_id,
                    ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                    SequenceNumber=checkpoint,
                )["ShardIterator"]
            except self._streams.exceptions.TrimmedDataAccessException:
                logger.warning(
                    "stream consumer %s: records after %s on %s were trimmed; reading from "
                    "the oldest left",
                    consumer,
                    checkpoint,
                    shard_id,
                )
        return self._streams.get_shard_iterator(
            StreamArn=self._stream_arn, ShardId=shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

    def _deliver(self, consumer: str, records: list[dict[str, Any]]) -> _Delivery:
        """Invoke the consumer on one batch: the first record it failed on, and why."""
        try:
            response = self._invoker.invoke(consumer, {"Records": records}, str(uuid.uuid4()))
            failed_from = first_failure(records, response)
        except MalformedBatchResponse as error:
            return _Delivery(0, f"the batch response is unusable: {error}")
        except Exception as error:
            logger.warning("stream consumer %s failed on a batch: %s", consumer, error)
            return _Delivery(0, f"{type(error).__name__}: {error}")
        if failed_from is None:
            return _Delivery(None, "")
        return _Delivery(
            failed_from, f"the batch response reports {sequence_of(records[failed_from])} failed"
        )
