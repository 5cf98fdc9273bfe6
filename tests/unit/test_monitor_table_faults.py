"""The monitors' table operations against a scripted client: contention is retried, a
cancellation they cannot read is raised, a lost answer is read as applied, and the
consumer's writes take a failed condition as done and raise anything else."""

from __future__ import annotations

from datetime import UTC, datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Any, cast

import pytest
from botocore.exceptions import ClientError
from store_fakes import cancelled, client_error

from ledger.domain import events
from ledger.domain.money import builtin_currencies
from ledger.domain.monitors import Monitor, MonitorField, MonitorState, Operator
from ledger.store.deadline import deadline_in
from ledger.store.dynamodb.monitor_events import mark_evaluated, put_event, write_crossings
from ledger.store.dynamodb.monitors import TableMonitors, query_watch
from ledger.store.dynamodb.retries import Budget
from ledger.store.monitors import AccountMoved

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_dynamodb.client import DynamoDBClient

now = datetime(2026, 1, 1, tzinfo=UTC)
account_id = "acc_abcdefghijklmnop_USD-2-c_qrstuvwxyzabcdef"
monitor = Monitor(
    id="mon_abcdefghijklmnop",
    account_id=account_id,
    ledger_id="ldg_abcdefghijklmnop",
    currency=builtin_currencies["USD"],
    field=MonitorField.AVAILABLE,
    operator=Operator.LT,
    threshold=Fraction(1000),
    description=None,
    state=MonitorState.OK,
    evaluated_version=1,
    created_at=now,
    request_hash="",
)
event = events.OutboxEvent("evt_1", events.monitor_triggered, monitor.ledger_id, now)


class Scripted:
    """Raises the scripted errors of each call in turn, then answers."""

    def __init__(self, *outcomes: Exception | None, pages: list[dict[str, Any]] | None = None):
        self.outcomes = list(outcomes)
        self.calls = 0
        self.pages = list(pages or [])

    def _next(self) -> dict[str, Any]:
        self.calls += 1
        outcome = self.outcomes.pop(0) if self.outcomes else None
        if outcome is not None:
            raise outcome
        return {}

    def transact_write_items(self, **_: Any) -> dict[str, Any]:
        return self._next()

    def update_item(self, **_: Any) -> dict[str, Any]:
        return self._next()

    def put_item(self, **_: Any) -> dict[str, Any]:
        return self._next()

    def get_item(self, **_: Any) -> dict[str, Any]:
        return {}

    def query(self, **_: Any) -> dict[str, Any]:
        return self.pages.pop(0)


class Table(TableMonitors):
    def __init__(self, client: Scripted) -> None:
        self.client = cast("DynamoDBClient", client)
        self.table_name = "ledger-unit"

    def _budget(self) -> Budget:
        return Budget(deadline_in(10_000), lambda _seconds: None)


def test_a_creation_that_meets_contention_is_tried_again() -> None:
    # GIVEN a first attempt cancelled by a conflicting transaction
    client = Scripted(cancelled("TransactionConflict", "None", "None"))
    # WHEN the monitor is added THEN the second attempt commits it
    Table(client).add_monitor(monitor, (1,))
    assert client.calls == 2


@pytest.mark.parametrize(
    "error",
    [
        cancelled("ConditionalCheckFailed"),
        cancelled("ValidationError", "None", "None"),
    ],
)
def test_a_cancellation_the_creation_cannot_read_is_raised(error: ClientError) -> None:
    # GIVEN a cancellation with too few reasons, or one no rule explains
    # WHEN the monitor is added THEN the error comes out as it came
    with pytest.raises(ClientError):
        Table(Scripted(error)).add_monitor(monitor, (1,))


def test_a_creation_whose_monitor_vanished_meanwhile_is_evaluated_again() -> None:
    # GIVEN a monitor put refused, and no monitor there when read
    client = Scripted(cancelled("ConditionalCheckFailed", "None", "None"))
    # WHEN it is added THEN it is taken as an account moved on, to evaluate again
    with pytest.raises(AccountMoved):
        Table(client).add_monitor(monitor, (1,))


def test_removals_read_their_cancellations() -> None:
    # GIVEN a removal of a monitor that is not there, one that met contention, one whose
    # first answer was lost, and one whose count is broken
    gone = Scripted(cancelled("ConditionalCheckFailed", "None"))
    contended = Scripted(cancelled("TransactionConflict", "None"))
    lost = Scripted(
        client_error("InternalServerError"), cancelled("ConditionalCheckFailed", "None")
    )
    broken = Scripted(cancelled("None", "ConditionalCheckFailed"))
    # WHEN each is removed THEN each answer follows from what the cancellation shows
    assert Table(gone).remove_monitor(account_id, monitor.id) is False
    assert Table(contended).remove_monitor(account_id, monitor.id) is True
    assert Table(lost).remove_monitor(account_id, monitor.id) is True
    with pytest.raises(ClientError):
        Table(broken).remove_monitor(account_id, monitor.id)


def test_an_account_s_watch_follows_the_query_s_pages() -> None:
    # GIVEN the count item on a second page
    count = {"entity": {"S": "monitor_count"}, "evaluated_version": {"N": "7"}}
    client = Scripted(
        pages=[{"Items": [], "LastEvaluatedKey": {"pk": {"S": "x"}}}, {"Items": [count]}]
    )
    # WHEN the watch is read THEN its version is found
    budget = Budget(deadline_in(10_000), lambda _seconds: None)
    watch = query_watch(cast("DynamoDBClient", client), "ledger-unit", account_id, budget)
    assert (watch.monitors, watch.evaluated_version) == ((), 7)


def test_the_consumer_s_writes_take_a_failed_condition_as_done_and_raise_the_rest() -> None:
    # GIVEN each write refused by its condition, then by something else
    failed_condition = client_error("ConditionalCheckFailedException")
    other = client_error("ValidationException")

    def client(*outcomes: Exception | None) -> DynamoDBClient:
        return cast("DynamoDBClient", Scripted(*outcomes))

    crossed = [(monitor, MonitorState.TRIGGERED)]
    # WHEN each is written THEN a failed condition is False, anything else raised
    assert mark_evaluated(client(failed_condition), "t", account_id, 2) is False
    assert mark_evaluated(client(), "t", account_id, 2) is True
    assert put_event(client(failed_condition), "t", event) is False
    writes: list[Callable[[], bool]] = [
        lambda: mark_evaluated(client(other), "t", account_id, 2),
        lambda: put_event(client(other), "t", event),
        lambda: write_crossings(
            client(cancelled("ValidationError")),
            "t",
            account_id,
            version=2,
            crossed=crossed,
            events=[event],
        ),
    ]
    for write in writes:
        with pytest.raises(ClientError):
            write()
