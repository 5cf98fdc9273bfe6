"""The stream poller's files: checkpoints that survive a restart, failures one line per batch."""

from __future__ import annotations

import json
import secrets
from typing import TYPE_CHECKING, Any

import pytest

from ledger.local.stream_files import Checkpoints, FailureLog

if TYPE_CHECKING:
    from pathlib import Path


def _arn() -> str:
    return f"arn:aws:dynamodb:ddblocal:000000000000:table/t/stream/{secrets.token_hex(4)}"


def test_checkpoints_are_kept_per_consumer_and_shard_across_a_restart(tmp_path: Path) -> None:
    # GIVEN two consumers that have read different parts of two shards
    path = tmp_path / "stream-checkpoints.json"
    arn = _arn()
    checkpoints = Checkpoints(path, arn)
    checkpoints.advance("history", "shard-1", "000000000000000000010")
    checkpoints.advance("history", "shard-1", "000000000000000000012")
    checkpoints.advance("audit", "shard-1", "000000000000000000003")
    checkpoints.advance("audit", "shard-2", "000000000000000000020")

    # WHEN the file is read again
    reread = Checkpoints(path, arn)

    # THEN each keeps its own last position, and nothing else is known
    assert reread.get("history", "shard-1") == "000000000000000000012"
    assert reread.get("audit", "shard-1") == "000000000000000000003"
    assert reread.get("audit", "shard-2") == "000000000000000000020"
    assert reread.get("history", "shard-2") is None
    assert reread.get("other", "shard-1") is None
    assert [entry.name for entry in tmp_path.iterdir()] == [path.name]


def test_checkpoints_of_another_stream_are_dropped(tmp_path: Path) -> None:
    path = tmp_path / "stream-checkpoints.json"
    Checkpoints(path, _arn()).advance("history", "shard-1", "000000000000000000010")

    assert Checkpoints(path, _arn()).get("history", "shard-1") is None


def test_a_failed_save_leaves_the_old_checkpoints_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a saved checkpoint
    path = tmp_path / "stream-checkpoints.json"
    arn = _arn()
    checkpoints = Checkpoints(path, arn)
    checkpoints.advance("history", "shard-1", "000000000000000000010")

    # WHEN the next save fails before the file is replaced
    def refuse(source: str, target: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("ledger.local.stream_files.os.replace", refuse)
    with pytest.raises(OSError, match="disk full"):
        checkpoints.advance("history", "shard-1", "000000000000000000011")

    # THEN the file still holds the previous checkpoint, and no temporary file is left
    assert Checkpoints(path, arn).get("history", "shard-1") == "000000000000000000010"
    assert [entry.name for entry in tmp_path.iterdir()] == [path.name]


def test_each_batch_given_up_is_one_json_line(tmp_path: Path) -> None:
    # GIVEN two batches given up on
    path = tmp_path / "stream-failures.jsonl"
    log = FailureLog(path)
    arn = _arn()
    first: list[dict[str, Any]] = [{"eventID": "a", "dynamodb": {"SequenceNumber": "1"}}]
    second: list[dict[str, Any]] = [
        {"eventID": "b", "dynamodb": {"SequenceNumber": "5"}},
        {"eventID": "c", "dynamodb": {"SequenceNumber": "6"}},
    ]
    log.append("history", arn, "shard-1", first, "ValueError: bad")
    log.append("audit", arn, "shard-1", second, "the batch response reports 5 failed")

    # THEN the file has one line for each, with what a replay needs
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["consumer"] for line in lines] == ["history", "audit"]
    assert [line["records"] for line in lines] == [first, second]
    assert lines[0]["error"] == "ValueError: bad"
    assert (lines[1]["stream_arn"], lines[1]["shard_id"]) == (arn, "shard-1")
    assert lines[1]["failed_at"]
