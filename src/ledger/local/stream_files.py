"""The stream poller's two files in the data dir: checkpoints, and the batches it gave up on."""

from __future__ import annotations

import json
import os
import tempfile
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

checkpoints_file_name = "stream-checkpoints.json"
failures_file_name = "stream-failures.jsonl"


class Checkpoints:
    """Per consumer and shard, the last sequence number handled completely, kept in a file.

    Checkpoints of another stream (the table was made again) mean nothing for this one
    and are dropped. Each save replaces the file whole, so a crash leaves the old or the
    new content, never half of one.
    """

    def __init__(self, path: Path, stream_arn: str) -> None:
        self._path = path
        self._stream_arn = stream_arn
        self._positions: dict[str, dict[str, str]] = {}
        if path.is_file():
            saved = json.loads(path.read_text())
            if saved.get("stream_arn") == stream_arn:
                self._positions = {
                    consumer: dict(shards) for consumer, shards in saved["consumers"].items()
                }

    def get(self, consumer: str, shard_id: str) -> str | None:
        """The last sequence number `consumer` handled on `shard_id`, None before its first."""
        return self._positions.get(consumer, {}).get(shard_id)

    def advance(self, consumer: str, shard_id: str, sequence_number: str) -> None:
        """Record that `consumer` handled everything up to `sequence_number`, and save."""
        self._positions.setdefault(consumer, {})[shard_id] = sequence_number
        self._save()

    def _save(self) -> None:
        content = json.dumps(
            {"stream_arn": self._stream_arn, "consumers": self._positions}, indent=2, sort_keys=True
        )
        self._path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self._path.parent, prefix=".checkpoints-")
        try:
            with os.fdopen(handle, "w") as file:
                file.write(content + "\n")
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self._path)
        except BaseException:
            os.unlink(temporary)
            raise


class FailureLog:
    """Appends one JSON line per batch given up on: the consumer, the records, the error."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def append(
        self,
        consumer: str,
        stream_arn: str,
        shard_id: str,
        records: Sequence[Mapping[str, Any]],
        error: str,
    ) -> None:
        """Add a line for `records`, which `consumer` failed on until the retries ran out."""
        line = {
            "consumer": consumer,
            "stream_arn": stream_arn,
            "shard_id": shard_id,
            "failed_at": datetime.now(UTC).isoformat(),
            "error": error,
            "records": list(records),
        }
        self._path.parent.mkdir(parents=True, exist_ok=True)
        with self._path.open("a") as file:
            file.write(json.dumps(line, sort_keys=True) + "\n")
