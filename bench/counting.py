"""Count the DynamoDB calls and items written by one operation, via botocore's event hooks."""

from __future__ import annotations

import statistics
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeVar

from ledger.store.dynamodb.table import partition_key, sort_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

T = TypeVar("T")

# A TransactWriteItems action of these kinds writes one item; a ConditionCheck writes none.
transact_write_kinds = ("Put", "Update", "Delete")
single_item_writes = frozenset({"PutItem", "UpdateItem", "DeleteItem"})
read_operations = frozenset({"GetItem", "BatchGetItem", "TransactGetItems", "Query", "Scan"})

# Per API call, before its request is built: the caller's parameters, as a dict.
parameters_event = "before-parameter-build.dynamodb"
# Per API call, once, just before it is sent (botocore's own retries do not repeat it).
call_event = "before-call.dynamodb"
# Per HTTP attempt, retries included.
send_event = "before-send.dynamodb"
# Per API call that got an HTTP answer, errors included.
answer_event = "after-call.dynamodb"
http_status_error_min = 300
nanoseconds_per_ms = 1_000_000
cpu_ms_decimals = 3


class InconsistentCounts(RuntimeError):
    """Repetitions of one operation made different calls: its count is not one number."""


def is_consistent_read(operation: str, params: Mapping[str, Any]) -> bool:
    """Whether a GetItem or Query asks for a strongly consistent read."""
    return operation in ("GetItem", "Query") and params.get("ConsistentRead") is True


@dataclass(frozen=True)
class Written:
    """One item a successful call wrote: where, its key, and whether in a transaction."""

    table_name: str
    key: dict[str, Any]
    transactional: bool
    deleted: bool = False
    # The whole item before the call, when the counter was asked to keep it (None: absent).
    before: dict[str, Any] | None = None


def _key_of(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: item[name] for name in (partition_key, sort_key) if name in item}


def targets_of(operation: str, params: Mapping[str, Any]) -> list[Written]:
    """The items a call writes if it succeeds, by key."""
    if operation == "TransactWriteItems":
        return [
            Written(
                action[kind]["TableName"],
                _key_of(action[kind]["Item"] if kind == "Put" else action[kind]["Key"]),
                transactional=True,
                deleted=kind == "Delete",
            )
            for action in params.get("TransactItems", [])
            for kind in transact_write_kinds
            if kind in action
        ]
    if operation in single_item_writes:
        key = _key_of(params["Item"] if operation == "PutItem" else params["Key"])
        return [Written(params["TableName"], key, False, deleted=operation == "DeleteItem")]
    if operation == "BatchWriteItem":
        return [
            Written(
                table,
                _key_of(request["PutRequest"]["Item"])
                if "PutRequest" in request
                else _key_of(request["DeleteRequest"]["Key"]),
                transactional=False,
                deleted="DeleteRequest" in request,
            )
            for table, requests in params.get("RequestItems", {}).items()
            for request in requests
        ]
    return []


def items_written_by(operation: str, params: Mapping[str, Any]) -> int:
    """How many items a call writes if it succeeds."""
    if operation == "TransactWriteItems":
        return sum(
            1
            for action in params.get("TransactItems", [])
            for kind in transact_write_kinds
            if kind in action
        )
    if operation in single_item_writes:
        return 1
    if operation == "BatchWriteItem":
        return sum(len(requests) for requests in params.get("RequestItems", {}).values())
    return 0


@dataclass(frozen=True)
class Sample:
    """What one run of an operation cost: calls by name, HTTP attempts, items, CPU time."""

    calls: dict[str, int]
    http_requests: int
    items_written: int
    items_attempted: int
    cpu_ns: int
    consistent_reads: int = 0
    # Not a count: the keys of the items written, to size them afterwards.
    written: tuple[Written, ...] = ()

    @property
    def reads(self) -> int:
        """Calls that read items."""
        return sum(count for name, count in self.calls.items() if name in read_operations)

    def counts(self) -> tuple[tuple[tuple[str, int], ...], int, int, int, int]:
        """Everything but the CPU time: what must be the same on every repetition."""
        return (
            tuple(sorted(self.calls.items())),
            self.http_requests,
            self.items_written,
            self.items_attempted,
            self.consistent_reads,
        )


class CallCounter:
    """Hooks a client's events and tallies DynamoDB calls since the last reset."""

    def __init__(self, reader: DynamoDBClient | None = None) -> None:
        # Another client (its calls are not counted) that reads each item before it is written,
        # while `keep_before` is set; its CPU time is left out of the sample's.
        self.reader = reader
        self.keep_before = False
        self._excluded_ns = 0
        self._calls: Counter[str] = Counter()
        self._http_requests = 0
        self._items_written = 0
        self._items_attempted = 0
        self._consistent_reads = 0
        self._written: list[Written] = []
        # Keyed by the id of botocore's per-call context dict, which every event of a call shares.
        self._parameters: dict[int, Mapping[str, Any]] = {}
        self._in_flight: dict[int, int] = {}
        self._targets: dict[int, list[Written]] = {}

    def reset(self) -> None:
        """Forget everything counted so far."""
        self._calls.clear()
        self._http_requests = 0
        self._items_written = 0
        self._items_attempted = 0
        self._consistent_reads = 0
        self._written.clear()
        self._excluded_ns = 0
        self._parameters.clear()
        self._in_flight.clear()
        self._targets.clear()

    def sample(self, cpu_ns: int) -> Sample:
        """The tallies since the last reset, with the CPU time measured around them."""
        return Sample(
            calls=dict(self._calls),
            http_requests=self._http_requests,
            items_written=self._items_written,
            items_attempted=self._items_attempted,
            cpu_ns=cpu_ns - self._excluded_ns,
            consistent_reads=self._consistent_reads,
            written=tuple(self._written),
        )

    def on_parameters(self, params: Mapping[str, Any], context: dict[str, Any], **_: Any) -> None:
        """Keep the caller's parameters until the call is really sent."""
        self._parameters[id(context)] = params

    def on_call(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        """Count one API call and the items it would write."""
        name: str = model.name
        self._calls[name] += 1
        params = self._parameters.pop(id(context), {})
        self._consistent_reads += int(is_consistent_read(name, params))
        items = items_written_by(name, params)
        self._items_attempted += items
        self._in_flight[id(context)] = items
        targets = targets_of(name, params)
        if self.keep_before and self.reader is not None:
            start_ns = time.process_time_ns()
            targets = [replace(target, before=self._read(target)) for target in targets]
            self._excluded_ns += time.process_time_ns() - start_ns
        self._targets[id(context)] = targets

    def _read(self, target: Written) -> dict[str, Any] | None:
        assert self.reader is not None
        answer = self.reader.get_item(
            TableName=target.table_name, Key=target.key, ConsistentRead=True
        )
        return dict(answer["Item"]) if "Item" in answer else None

    def on_send(self, **_: Any) -> None:
        """Count one HTTP attempt."""
        self._http_requests += 1

    def on_answer(self, http_response: Any, context: dict[str, Any], **_: Any) -> None:
        """Credit the items only if the call succeeded: a cancelled transaction writes none."""
        items = self._in_flight.pop(id(context), 0)
        targets = self._targets.pop(id(context), [])
        if http_response.status_code < http_status_error_min:
            self._items_written += items
            self._written += targets

    @contextmanager
    def attached(self, client: DynamoDBClient) -> Iterator[CallCounter]:
        """Count the client's calls while inside; the hooks are removed on leaving."""
        hooks: list[tuple[str, Callable[..., None]]] = [
            (parameters_event, self.on_parameters),
            (call_event, self.on_call),
            (send_event, self.on_send),
            (answer_event, self.on_answer),
        ]
        events = client.meta.events
        for event, handler in hooks:
            events.register(event, handler)
        try:
            yield self
        finally:
            for event, handler in hooks:
                events.unregister(event, handler)


def measure(counter: CallCounter, operation: Callable[[], T]) -> tuple[T, Sample]:
    """Run the operation once, counting its calls and its CPU time in this process."""
    counter.reset()
    start_ns = time.process_time_ns()
    result = operation()
    cpu_ns = time.process_time_ns() - start_ns
    return result, counter.sample(cpu_ns)


@dataclass(frozen=True)
class OperationResult:
    """The counts of one operation (the same on every repetition) and its median CPU time."""

    calls: dict[str, int]
    http_requests: int
    items_written: int
    items_attempted: int
    cpu_ms_median: float
    repetitions: int
    consistent_reads: int = 0
    # Sizes of the items written (as DynamoDB sizes them), and their write units.
    item_bytes: tuple[int, ...] = ()
    write_units: int = 0
    write_units_floor: int = 0

    @property
    def reads(self) -> int:
        """Calls that read items."""
        return sum(count for name, count in self.calls.items() if name in read_operations)

    def as_json(self) -> dict[str, Any]:
        """The results.json shape of one operation."""
        return {
            "calls": dict(sorted(self.calls.items())),
            "items_written": self.items_written,
            "cpu_ms_median": self.cpu_ms_median,
            "reads": self.reads,
            "consistent_reads": self.consistent_reads,
            "http_requests": self.http_requests,
            "items_attempted": self.items_attempted,
            "repetitions": self.repetitions,
            "item_bytes": list(self.item_bytes),
            "write_units": self.write_units,
            "write_units_floor": self.write_units_floor,
        }


def summarize(operation: str, samples: Sequence[Sample]) -> OperationResult:
    """One result from the repetitions; raise InconsistentCounts if their counts differ."""
    if not samples:
        raise ValueError(f"{operation}: no samples")
    first = samples[0]
    for index, sample in enumerate(samples):
        if sample.counts() != first.counts():
            raise InconsistentCounts(
                f"{operation}: repetition {index} counted {sample.counts()}, "
                f"repetition 0 counted {first.counts()}"
            )
    median_ns = statistics.median(sample.cpu_ns for sample in samples)
    return OperationResult(
        calls=first.calls,
        http_requests=first.http_requests,
        items_written=first.items_written,
        items_attempted=first.items_attempted,
        cpu_ms_median=round(median_ns / nanoseconds_per_ms, cpu_ms_decimals),
        repetitions=len(samples),
        consistent_reads=first.consistent_reads,
    )
