"""What Lambda's event source mapping decides for a stream, as pure functions.

The Lambda-shaped record of a DynamoDB Streams record, which record of a batch the next
attempt starts at after a partial batch response, and which shards may be read.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence


class MalformedBatchResponse(ValueError):
    """A consumer's answer is not a batch response naming records of its batch.

    Lambda counts such an answer as a failure of the whole batch.
    """


def lambda_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as Lambda delivers it: JSON only, with the stream's ARN.

    boto3 decodes the creation time to a datetime and binary values to bytes; Lambda
    carries epoch seconds and base64 text instead.
    """
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = created.timestamp()
    for image in ("Keys", "NewImage", "OldImage"):
        if image in change:
            change[image] = {name: _json_value(value) for name, value in change[image].items()}
    return {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "eventSourceARN": stream_arn,
        "awsRegion": record["awsRegion"],
        "dynamodb": change,
    }


def _json_value(value: Mapping[str, Any]) -> dict[str, Any]:
    """One attribute value in DynamoDB JSON, its binary parts as base64 text."""
    if not value:
        # botocore's streams model drops the type of an empty map, and only of an empty map.
        return {"M": {}}
    (kind, content), *_ = value.items()
    if kind == "B":
        return {"B": _base64(content)}
    if kind == "BS":
        return {"BS": [_base64(part) for part in content]}
    if kind == "M":
        return {"M": {name: _json_value(part) for name, part in content.items()}}
    if kind == "L":
        return {"L": [_json_value(part) for part in content]}
    return {kind: content}


def _base64(content: bytes | str) -> str:
    return content if isinstance(content, str) else base64.b64encode(content).decode("ascii")


def sequence_of(record: Mapping[str, Any]) -> str:
    """The sequence number of a stream record (either shape)."""
    sequence: str = record["dynamodb"]["SequenceNumber"]
    return sequence


def first_failure(records: Sequence[Mapping[str, Any]], response: object) -> int | None:
    """The index of the first record a batch response reports failed; None if all succeeded.

    As Lambda reads it: no answer or an empty list is success; a failure that names no
    record of the batch makes the whole batch fail.
    """
    if response is None:
        return None
    if not isinstance(response, dict):
        raise MalformedBatchResponse(f"a batch response is an object, not {response!r}")
    failures = response.get("batchItemFailures") or []
    if not isinstance(failures, list):
        raise MalformedBatchResponse("batchItemFailures is a list")
    positions = {sequence_of(record): index for index, record in enumerate(records)}
    failed: list[int] = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in positions:
            raise MalformedBatchResponse(f"no record {identifier!r} in this batch")
        failed.append(positions[identifier])
    return min(failed, default=None)


@dataclass(frozen=True)
class Failing:
    """The record a consumer keeps failing on, and how many attempts have failed on it."""

    sequence_number: str
    attempts: int


@dataclass(frozen=True)
class Settlement:
    """What follows an attempt: what is done, where the next attempt starts, what is dropped."""

    # The last sequence number handled completely, None if the attempt moved nothing on.
    checkpoint: str | None
    # True: read again from just after `checkpoint`; False: go on after the batch.
    retry: bool
    # After the last attempt: the records from the first failure, for the failure file.
    given_up: tuple[Mapping[str, Any], ...]
    failing: Failing | None


def settle(
    records: Sequence[Mapping[str, Any]],
    failed_from: int | None,
    failing: Failing | None,
    attempts_max: int,
) -> Settlement:
    """The outcome of one attempt at a batch whose first failed record is `failed_from`.

    The records before the failure are done; the next attempt starts at the failed
    record, until `attempts_max` attempts have failed on that same record.
    """
    if not records:
        raise ValueError("a batch has at least one record")
    if failed_from is None:
        return Settlement(sequence_of(records[-1]), retry=False, given_up=(), failing=None)
    done = sequence_of(records[failed_from - 1]) if failed_from > 0 else None
    failed = sequence_of(records[failed_from])
    attempts = failing.attempts + 1 if failing and failing.sequence_number == failed else 1
    if attempts < attempts_max:
        return Settlement(done, retry=True, given_up=(), failing=Failing(failed, attempts))
    return Settlement(
        sequence_of(records[-1]), retry=False, given_up=tuple(records[failed_from:]), failing=None
    )


def readable_shards(shards: Iterable[Mapping[str, Any]], finished: set[str]) -> list[str]:
    """The shards to read now, oldest first: not drained, and their parent (if listed) drained.

    A child shard holds the changes after its parent's, so it waits until the parent is
    read to its end; a parent trimmed from the stream no longer holds anything back.
    """
    listed = list(shards)
    known = {shard["ShardId"] for shard in listed}
    return [
        shard["ShardId"]
        for shard in listed
        if shard["ShardId"] not in finished
        and (shard.get("ParentShardId") not in known or shard["ParentShardId"] in finished)
    ]
