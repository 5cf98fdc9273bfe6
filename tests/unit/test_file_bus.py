"""The local event bus: PutEvents' answers, and exactly the events a target receives."""

from __future__ import annotations

import json
import multiprocessing
import re
import secrets
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from ledger.consumers.publish import call_bytes_max, entry_size
from ledger.json_lines import append_lines
from ledger.local.bus import FileBus

if TYPE_CHECKING:
    from pathlib import Path

target_fields = ["version", "id", "detail-type", "source", "account", "time", "region"]
time_format = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def entry(**overrides: Any) -> dict[str, Any]:
    detail = {"ledger_id": f"ldg_{secrets.token_hex(8)}", "event_id": f"evt_{secrets.token_hex(8)}"}
    return {
        "Source": "ledger",
        "DetailType": "ledger.entry.posted",
        "Detail": json.dumps(detail),
        "EventBusName": "ledger-events",
        "TraceHeader": "Root=1-00000000-000000000000000000000000",
        **overrides,
    }


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_each_entry_is_appended_as_the_event_a_target_receives(tmp_path: Path) -> None:
    # GIVEN a bus file and two entries, one with resources and a time
    path = tmp_path / "events.jsonl"
    first = entry()
    second = entry(
        DetailType="ledger.account.created",
        Resources=["acc_1"],
        Time=datetime(2026, 1, 31, 13, 0, 5, 999, tzinfo=timezone(timedelta(hours=1))),
    )

    # WHEN they are put as PutEvents takes them
    answer = FileBus(path).put_events(Entries=[first, second])

    # THEN the answer is PutEvents' with one event id per entry
    assert answer["FailedEntryCount"] == 0
    ids = [result["EventId"] for result in answer["Entries"]]
    assert [uuid.UUID(identifier).version for identifier in ids] == [4, 4]
    # AND each line is exactly a target's event: its fields, in UTC to the second
    written = lines_of(path)
    assert [list(event) for event in written] == [
        [
            "version",
            "id",
            "detail-type",
            "source",
            "account",
            "time",
            "region",
            "resources",
            "detail",
        ]
    ] * 2
    assert written[1] == {
        "version": "0",
        "id": ids[1],
        "detail-type": "ledger.account.created",
        "source": "ledger",
        "account": "000000000000",
        "time": "2026-01-31T12:00:05Z",
        "region": "us-east-1",
        "resources": ["acc_1"],
        "detail": json.loads(second["Detail"]),
    }
    assert written[0]["id"] == ids[0]
    assert written[0]["resources"] == []
    assert written[0]["detail"] == json.loads(first["Detail"])
    assert time_format.fullmatch(written[0]["time"])


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (datetime(2026, 3, 1, 8, 30), "2026-03-01T08:30:00Z"),
        (datetime(2026, 3, 1, 8, 30, tzinfo=UTC).timestamp(), "2026-03-01T08:30:00Z"),
        ("2026-03-01T09:30:00+01:00", "2026-03-01T08:30:00Z"),
    ],
)
def test_a_time_given_in_any_form_boto3_takes_is_written_in_utc(
    tmp_path: Path, given: object, expected: str
) -> None:
    # GIVEN / WHEN an entry with a Time as a naive datetime, epoch seconds or ISO text
    FileBus(tmp_path / "events.jsonl").put_events(Entries=[entry(Time=given)])

    # THEN the event's time is that moment in UTC
    assert lines_of(tmp_path / "events.jsonl")[0]["time"] == expected


@pytest.mark.parametrize(
    ("overrides", "code", "message"),
    [
        ({"Detail": "[1, 2]"}, "MalformedDetail", "Detail is malformed."),
        ({"Detail": "{not json"}, "MalformedDetail", "Detail is malformed."),
        (
            {"Source": ""},
            "InvalidArgument",
            "Parameter Source is not valid. Reason: Source is a required argument.",
        ),
        (
            {"DetailType": None},
            "InvalidArgument",
            "Parameter DetailType is not valid. Reason: DetailType is a required argument.",
        ),
        (
            {"Detail": ""},
            "InvalidArgument",
            "Parameter Detail is not valid. Reason: Detail is a required argument.",
        ),
    ],
)
def test_an_entry_putevents_refuses_is_a_failed_entry_and_is_not_written(
    tmp_path: Path, overrides: dict[str, Any], code: str, message: str
) -> None:
    # GIVEN a good entry and one PutEvents refuses
    path = tmp_path / "events.jsonl"
    good = entry()

    # WHEN both are put
    answer = FileBus(path).put_events(Entries=[entry(**overrides), good])

    # THEN the refused one is a failed entry with PutEvents' code and message
    assert answer["FailedEntryCount"] == 1
    assert answer["Entries"][0] == {"ErrorCode": code, "ErrorMessage": message}
    # AND only the good one is written
    written = lines_of(path)
    assert [event["id"] for event in written] == [answer["Entries"][1]["EventId"]]
    assert written[0]["detail"] == json.loads(good["Detail"])


def test_a_request_over_256_kb_is_refused_whole_as_putevents_does(tmp_path: Path) -> None:
    # GIVEN two entries which together are one byte over PutEvents' bound
    path = tmp_path / "events.jsonl"
    small = entry()
    padding = call_bytes_max - entry_size(small) - entry_size(entry(Detail='{"x": ""}')) + 1
    large = entry(Detail=json.dumps({"x": "y" * padding}))
    assert entry_size(small) + entry_size(large) == call_bytes_max + 1

    # WHEN they are put / THEN the request fails as boto3's would, and nothing is written
    with pytest.raises(ClientError) as raised:
        FileBus(path).put_events(Entries=[small, large])
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "over the limit" in raised.value.response["Error"]["Message"]
    assert not path.exists()


@pytest.mark.parametrize("count", [0, 11])
def test_a_request_of_no_entries_or_more_than_ten_is_refused(tmp_path: Path, count: int) -> None:
    # GIVEN / WHEN a request of `count` entries / THEN it is a ValidationException
    with pytest.raises(ClientError, match="between 1 and 10"):
        FileBus(tmp_path / "events.jsonl").put_events(Entries=[entry() for _ in range(count)])


def test_the_size_putevents_counts_includes_time_and_resources() -> None:
    # GIVEN an entry with a time and resources, in UTF-8 wider than ASCII
    sized = entry(Detail='{"é": 1}', Resources=["ab", "c"], Time=datetime.now(UTC))

    # WHEN / THEN its size is its texts' UTF-8 bytes plus 14 for the time
    assert entry_size(sized) == len("ledger") + len("ledger.entry.posted") + 9 + 3 + 14


def _put_many(path: Path, count: int) -> None:
    bus = FileBus(path)
    for _ in range(count):
        bus.put_events(Entries=[entry(Detail=json.dumps({"pad": "z" * 5000}))] * 3)


def test_processes_appending_at_once_never_interleave_their_lines(tmp_path: Path) -> None:
    # GIVEN one bus file / WHEN three processes put events into it at the same time
    path = tmp_path / "events.jsonl"
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_put_many, args=(path, 20)) for _ in range(3)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)

    # THEN every line is one whole event, and none is lost
    assert [process.exitcode for process in processes] == [0, 0, 0]
    written = lines_of(path)
    assert len(written) == 3 * 20 * 3
    assert len({event["id"] for event in written}) == len(written)


def test_appending_no_lines_makes_no_file(tmp_path: Path) -> None:
    # GIVEN / WHEN nothing is appended / THEN the file is not even made
    append_lines(tmp_path / "events.jsonl", [])
    assert not (tmp_path / "events.jsonl").exists()
