"""The event bus locally: a file of the events an EventBridge target would receive.

`FileBus` answers `put_events(Entries=[...])` as the boto3 EventBridge client does, and
appends each accepted entry to `<data-dir>/events.jsonl` as one line holding exactly the
JSON object a rule's target gets. Entries PutEvents refuses are refused here the same way:
a failed entry with its ErrorCode and ErrorMessage, or a ValidationException for a
request PutEvents rejects whole (more than 10 entries, over 256 KB).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ledger.consumers.publish import call_bytes_max, entries_per_call_max, entry_size
from ledger.json_lines import append_lines
from ledger.local.events import account_id, region

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

events_file_name = "events.jsonl"
events_file_variable = "LEDGER_EVENTS_FILE"
_time_format = "%Y-%m-%dT%H:%M:%SZ"


class FileBus:
    """A stand-in for the EventBridge client's `put_events`, writing to `path`."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def put_events(self, *, Entries: Sequence[Mapping[str, Any]]) -> dict[str, Any]:  # noqa: N803
        """Append the entries PutEvents would accept; answer as PutEvents does."""
        entries = list(Entries)
        if not 1 <= len(entries) <= entries_per_call_max:
            raise _validation_error(
                f"1 validation error detected: Value at 'entries' failed to satisfy "
                f"constraint: Member must have length between 1 and {entries_per_call_max}"
            )
        if sum(entry_size(entry) for entry in entries) > call_bytes_max:
            raise _validation_error("Total size of the entries in the request is over the limit.")
        results: list[dict[str, str]] = []
        received: list[dict[str, Any]] = []
        for entry in entries:
            refusal = entry_refusal(entry)
            if refusal is not None:
                results.append(refusal)
                continue
            event = target_event(entry, str(uuid.uuid4()), datetime.now(UTC))
            received.append(event)
            results.append({"EventId": event["id"]})
        append_lines(self.path, received)
        return {
            "FailedEntryCount": sum("ErrorCode" in result for result in results),
            "Entries": results,
        }


def entry_refusal(entry: Mapping[str, Any]) -> dict[str, str] | None:
    """The failed entry PutEvents answers for `entry`, or None when it accepts it."""
    for name in ("Source", "DetailType", "Detail"):
        if not entry.get(name):
            return {
                "ErrorCode": "InvalidArgument",
                "ErrorMessage": f"Parameter {name} is not valid. Reason: {name} is a required "
                "argument.",
            }
    try:
        detail = json.loads(entry["Detail"])
    except (TypeError, ValueError):
        detail = None
    if not isinstance(detail, dict):
        return {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is malformed."}
    return None


def target_event(entry: Mapping[str, Any], event_id: str, now: datetime) -> dict[str, Any]:
    """The event a target receives for an accepted entry: its time the entry's Time, or
    `now`, in RFC 3339 UTC to the second."""
    given = entry.get("Time")
    moment = now if given is None else _moment(given)
    return {
        "version": "0",
        "id": event_id,
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": account_id,
        "time": moment.astimezone(UTC).strftime(_time_format),
        "region": region,
        "resources": list(entry.get("Resources") or ()),
        "detail": json.loads(entry["Detail"]),
    }


def _moment(value: datetime | float | int | str) -> datetime:
    """A Time as boto3 takes it: a datetime, epoch seconds, or an ISO 8601 text."""
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, str):
        return _moment(datetime.fromisoformat(value))
    return datetime.fromtimestamp(value, UTC)


def _validation_error(message: str) -> ClientError:
    return ClientError({"Error": {"Code": "ValidationException", "Message": message}}, "PutEvents")
