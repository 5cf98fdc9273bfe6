"""PutEvents in batches: at most 10 entries and 256 KB a call, only the failed entries
sent again, a bounded number of times.

`Bus` is what the events consumer needs of an EventBridge client: boto3's, or the file
bus of `ledger dev`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

entries_per_call_max = 10
call_bytes_max = 256 * 1024
# What EventBridge counts for an entry's Time, whatever it holds.
_time_bytes = 14
attempts_max = 4
backoff_base_s = 0.05
backoff_max_s = 1.0
# Failures a later attempt may not repeat (`Missing`: the response left the entry out);
# anything else (a malformed entry, a missing bus, access denied) fails the same way again.
_transient_errors = frozenset(
    {
        "ThrottlingException",
        "InternalException",
        "InternalFailure",
        "ServiceUnavailable",
        "Missing",
    }
)


class Bus(Protocol):
    """The PutEvents call of an EventBridge client."""

    def put_events(self, *, Entries: Sequence[PutEventsRequestEntryTypeDef]) -> Any:  # noqa: N803
        """Send the entries; the response names each entry's event id or error."""


@dataclass(frozen=True)
class Failure:
    """An entry that stayed unpublished, and the last reason given."""

    index: int
    code: str
    message: str


def entry_size(entry: Mapping[str, Any]) -> int:
    """The size EventBridge counts for an entry against the 256 KB of a call."""
    size = _time_bytes if "Time" in entry else 0
    for name in ("Source", "DetailType", "Detail"):
        size += len(str(entry.get(name, "")).encode())
    for resource in entry.get("Resources", []):
        size += len(resource.encode())
    return size


def chunks(
    entries: Sequence[PutEventsRequestEntryTypeDef], indexes: Sequence[int]
) -> list[list[int]]:
    """The entries (by index, in order) grouped into calls of at most 10 and 256 KB; an
    entry too large alone is a call of its own, which EventBridge refuses."""
    calls: list[list[int]] = []
    size = 0
    for index in indexes:
        entry_bytes = entry_size(entries[index])
        if (
            not calls
            or len(calls[-1]) == entries_per_call_max
            or size + entry_bytes > call_bytes_max
        ):
            calls.append([])
            size = 0
        calls[-1].append(index)
        size += entry_bytes
    return calls


class Publisher:
    """Publishes entries through a bus, retrying what failed with jittered backoff."""

    def __init__(
        self,
        bus: Bus,
        *,
        attempts_max: int = attempts_max,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if attempts_max < 1:
            raise ValueError("attempts_max is at least 1")
        self.bus = bus
        self.attempts_max = attempts_max
        self._sleep = sleep
        self.calls = 0

    def publish(self, entries: Sequence[PutEventsRequestEntryTypeDef]) -> list[Failure]:
        """Send every entry; the ones still failed after the last attempt, by index."""
        pending = list(range(len(entries)))
        failures: dict[int, Failure] = {}
        for attempt in range(self.attempts_max):
            if attempt:
                self._sleep(min(backoff_max_s, backoff_base_s * 2**attempt) * random.random())
            failures = {}
            for call in chunks(entries, pending):
                failures.update(self._call(entries, call))
            pending = [index for index, failure in failures.items() if _transient(failure)]
            if not pending:
                break
        return [failures[index] for index in sorted(failures)]

    def _call(
        self, entries: Sequence[PutEventsRequestEntryTypeDef], call: list[int]
    ) -> dict[int, Failure]:
        self.calls += 1
        try:
            response = self.bus.put_events(Entries=[entries[index] for index in call])
        except ClientError as error:
            details = error.response.get("Error", {})
            code, message = details.get("Code", "ClientError"), details.get("Message", str(error))
            return {index: Failure(index, code, message) for index in call}
        results: Sequence[Mapping[str, Any]] = response.get("Entries", [])
        failed: dict[int, Failure] = {}
        for position, index in enumerate(call):
            result = results[position] if position < len(results) else {"ErrorCode": "Missing"}
            if "ErrorCode" in result or "EventId" not in result:
                failed[index] = Failure(
                    index,
                    str(result.get("ErrorCode", "Missing")),
                    str(result.get("ErrorMessage", "")),
                )
        return failed


def _transient(failure: Failure) -> bool:
    return failure.code in _transient_errors
