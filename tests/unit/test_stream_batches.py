"""The event source mapping's decisions: Lambda records, retries from the first failure."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.local.stream_batches import (
    Failing,
    MalformedBatchResponse,
    first_failure,
    lambda_record,
    readable_shards,
    settle,
)

stream_arn = "arn:aws:dynamodb:ddblocal:000000000000:table/ledger/stream/2026-01-01T00:00:00.000"


def _record(sequence_number: str) -> dict[str, Any]:
    return {"eventID": secrets.token_hex(8), "dynamodb": {"SequenceNumber": sequence_number}}


def _batch(*sequence_numbers: int) -> list[dict[str, Any]]:
    return [_record(f"{number:021d}") for number in sequence_numbers]


def test_a_get_records_record_becomes_the_json_record_lambda_delivers() -> None:
    # GIVEN a record as boto3 decodes it: a datetime and binary values as bytes
    created = datetime(2026, 3, 1, 12, 30, tzinfo=UTC)
    record = {
        "eventID": "e1",
        "eventName": "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "ddblocal",
        "dynamodb": {
            "ApproximateCreationDateTime": created,
            "Keys": {"pk": {"S": "ACCOUNT#a"}, "sk": {"S": "META"}},
            "NewImage": {
                "pk": {"S": "ACCOUNT#a"},
                "digest": {"B": b"\x00\xff"},
                "parts": {"L": [{"M": {"tag": {"BS": [b"\x01"]}}}, {"N": "5"}]},
                "metadata": {},
            },
            "OldImage": {"pk": {"S": "ACCOUNT#a"}, "version": {"N": "1"}},
            "SequenceNumber": "000000000000000000007",
            "SizeBytes": 42,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }

    # WHEN it is shaped for a consumer
    shaped = lambda_record(record, stream_arn)

    # THEN it has Lambda's fields, survives JSON, and carries binary values as base64 text
    assert json.loads(json.dumps(shaped)) == shaped
    assert shaped["eventSourceARN"] == stream_arn
    assert (shaped["eventID"], shaped["eventName"], shaped["eventSource"]) == (
        "e1",
        "MODIFY",
        "aws:dynamodb",
    )
    change = shaped["dynamodb"]
    assert change["ApproximateCreationDateTime"] == created.timestamp()
    assert change["NewImage"]["digest"] == {"B": base64.b64encode(b"\x00\xff").decode()}
    assert change["NewImage"]["parts"]["L"][0]["M"]["tag"] == {"BS": ["AQ=="]}
    assert change["NewImage"]["parts"]["L"][1] == {"N": "5"}
    assert change["NewImage"]["metadata"] == {"M": {}}
    assert change["OldImage"] == {"pk": {"S": "ACCOUNT#a"}, "version": {"N": "1"}}
    assert (change["SequenceNumber"], change["SizeBytes"]) == ("000000000000000000007", 42)
    assert change["StreamViewType"] == "NEW_AND_OLD_IMAGES"


@pytest.mark.parametrize("response", [None, {}, {"batchItemFailures": []}])
def test_no_reported_failure_means_the_whole_batch_succeeded(response: object) -> None:
    assert first_failure(_batch(1, 2), response) is None


def test_the_first_failure_is_the_lowest_failed_record_whatever_the_order() -> None:
    # GIVEN a batch where the consumer reports two failures, the later one first
    records = _batch(1, 2, 3, 4)
    response = {
        "batchItemFailures": [
            {"itemIdentifier": records[3]["dynamodb"]["SequenceNumber"]},
            {"itemIdentifier": records[1]["dynamodb"]["SequenceNumber"]},
        ]
    }

    # THEN the next attempt starts at the earlier one
    assert first_failure(records, response) == 1


@pytest.mark.parametrize(
    "response",
    [
        ["not", "an", "object"],
        {"batchItemFailures": "nope"},
        {"batchItemFailures": [{"itemIdentifier": "999"}]},
        {"batchItemFailures": [{"itemIdentifier": None}]},
        {"batchItemFailures": ["000000000000000000001"]},
    ],
)
def test_a_response_naming_no_record_of_the_batch_is_malformed(response: object) -> None:
    with pytest.raises(MalformedBatchResponse):
        first_failure(_batch(1, 2), response)


def test_a_handled_batch_moves_the_checkpoint_to_its_last_record() -> None:
    records = _batch(1, 2, 3)

    settlement = settle(records, None, Failing(records[0]["dynamodb"]["SequenceNumber"], 1), 3)

    assert settlement.checkpoint == records[2]["dynamodb"]["SequenceNumber"]
    assert (settlement.retry, settlement.given_up, settlement.failing) == (False, (), None)


def test_a_failure_keeps_the_records_before_it_and_retries_from_it() -> None:
    # GIVEN a batch whose third record fails for the first time
    records = _batch(1, 2, 3, 4)

    # WHEN the attempt is settled
    settlement = settle(records, 2, None, 3)

    # THEN the first two are done, and the next attempt starts at the third
    assert settlement.checkpoint == records[1]["dynamodb"]["SequenceNumber"]
    assert settlement.retry
    assert settlement.failing == Failing(records[2]["dynamodb"]["SequenceNumber"], 1)
    assert settlement.given_up == ()


def test_a_failure_of_the_first_record_moves_nothing_on() -> None:
    records = _batch(5, 6)

    settlement = settle(records, 0, None, 3)

    assert (settlement.checkpoint, settlement.retry) == (None, True)


def test_after_the_last_attempt_the_records_from_the_failure_are_given_up() -> None:
    # GIVEN a record that failed on two attempts already
    records = _batch(1, 2, 3)
    failed = records[1]["dynamodb"]["SequenceNumber"]

    # WHEN it fails on the third and last
    settlement = settle(records, 1, Failing(failed, 2), 3)

    # THEN the records from it on are given up and the consumer goes on after the batch
    assert settlement.given_up == tuple(records[1:])
    assert settlement.checkpoint == records[2]["dynamodb"]["SequenceNumber"]
    assert (settlement.retry, settlement.failing) == (False, None)


def test_a_failure_on_another_record_counts_its_attempts_afresh() -> None:
    # GIVEN a record that failed twice, then succeeded, and a later one fails
    records = _batch(2, 3, 4)
    earlier = _batch(1)[0]["dynamodb"]["SequenceNumber"]

    settlement = settle(records, 1, Failing(earlier, 2), 3)

    assert settlement.retry
    assert settlement.failing == Failing(records[1]["dynamodb"]["SequenceNumber"], 1)


def test_one_attempt_at_most_gives_up_at_the_first_failure() -> None:
    records = _batch(1, 2)

    settlement = settle(records, 0, None, 1)

    assert settlement.given_up == tuple(records)
    assert not settlement.retry


def test_a_child_shard_waits_until_its_parent_is_drained() -> None:
    # GIVEN a closed parent with two children, and a shard whose parent was trimmed away
    shards = [
        {"ShardId": "parent"},
        {"ShardId": "left", "ParentShardId": "parent"},
        {"ShardId": "right", "ParentShardId": "parent"},
        {"ShardId": "orphan", "ParentShardId": "trimmed"},
    ]

    # THEN the children are read only once the parent is finished
    assert readable_shards(shards, set()) == ["parent", "orphan"]
    assert readable_shards(shards, {"parent"}) == ["left", "right", "orphan"]
    assert readable_shards(shards, {"parent", "left", "orphan"}) == ["right"]
