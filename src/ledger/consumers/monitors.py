"""The monitors consumer: each balance change evaluated against its account's monitors.

A balance monitor is edge-triggered: a crossing (ok -> triggered, triggered -> ok) is one
transaction, the monitor's new state on the condition that it was evaluated at an older
version, with its `ledger.monitor.triggered|resolved` outbox event. A change that keeps the
state writes nothing. An `entry_amount` monitor puts one outbox event per entry that
satisfies it, once by its key. (docs/monitors.md, ADR 0028.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from ledger.consumers.batch import entries_named, process_batch, read_budget
from ledger.consumers.history import balance_change
from ledger.consumers.observability import logger, metrics
from ledger.consumers.stream import ChangeRecord, change_of
from ledger.domain import events
from ledger.domain.ids import parse_account_id
from ledger.domain.model import Account, Entry
from ledger.domain.money import format_amount
from ledger.domain.monitors import Monitor, MonitorField, MonitorState
from ledger.environment import table_name
from ledger.planning.event_details import balance_detail, monitor_detail
from ledger.planning.history import BalanceChange, release_kinds
from ledger.planning.monitors import crossing, entry_amount, fires_for
from ledger.store.dynamodb.client import default_client
from ledger.store.dynamodb.monitor_events import put_event, read_account, write_crossing
from ledger.store.dynamodb.monitors import query_monitors, read_monitor

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

crossing_metric = "MonitorCrossings"
entry_metric = "MonitorEntryEvents"
Held = dict[str, dict[str, Monitor]]


class MonitorsConsumer:
    """Evaluates monitors from stream batches: one Query of monitors per changed account
    per batch, one entry read per batch where an `entry_amount` monitor needs it."""

    def __init__(
        self,
        table: str,
        client: DynamoDBClient,
        *,
        metrics: Metrics = metrics,
        logger: Logger = logger,
    ) -> None:
        self.table = table
        self.client = client
        self.metrics = metrics
        self.logger = logger

    def handle(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        """One Lambda batch; failed records are answered in `batchItemFailures`."""
        budget = read_budget()
        held: Held = {
            account_id: {monitor.id: monitor for monitor in monitors}
            for account_id, monitors in (
                (account_id, query_monitors(self.client, self.table, account_id, budget))
                for account_id in _changed_accounts(event)
            )
            if monitors
        }
        watched = {
            account_id
            for account_id, monitors in held.items()
            if any(monitor.field is MonitorField.ENTRY_AMOUNT for monitor in monitors.values())
        }

        def entry_ids(change: ChangeRecord) -> tuple[str, ...]:
            balance = balance_change(change)
            if balance is None or balance.account_id not in watched:
                return ()
            return _applied_entries(balance)

        entries = (
            entries_named(self.client, self.table, event, entry_ids, budget) if watched else {}
        )

        def handle_change(change: ChangeRecord) -> None:
            self.record(change, held, entries)

        return process_batch(event, context, handle_change)

    def record(self, change: ChangeRecord, held: Held, entries: Mapping[str, Entry]) -> None:
        """Evaluate one change against its account's monitors (`held`, kept up to date)."""
        balance = balance_change(change)
        monitors = None if balance is None else held.get(balance.account_id)
        if balance is None or not monitors:
            return
        account = self._account(change, balance)
        if account is None:
            return
        for monitor in list(monitors.values()):
            if monitor.field.watches_balance:
                self._evaluate(monitor, account, balance, monitors)
            else:
                self._entries(monitor, account, balance, entries)

    def _account(self, change: ChangeRecord, balance: BalanceChange) -> Account | None:
        """The account as the record left it: its own image, or for a sharded account every
        item read now (its summed version only grows, so it orders evaluations as well)."""
        image = change.new
        if isinstance(image, Account) and image.shards == 1:
            return image
        shards = parse_account_id(balance.account_id).shards
        return read_account(self.client, self.table, balance.account_id, shards, read_budget())

    def _evaluate(
        self,
        monitor: Monitor,
        account: Account,
        balance: BalanceChange,
        monitors: dict[str, Monitor],
    ) -> None:
        state = crossing(monitor, account.balance())
        if state is None:
            return
        crossed = replace(monitor, state=state, evaluated_version=account.version)
        detail_type = (
            events.monitor_triggered if state is MonitorState.TRIGGERED else events.monitor_resolved
        )
        event = events.OutboxEvent(
            event_id=events.event_id(monitor.id, str(account.version), state.value),
            detail_type=detail_type,
            ledger_id=monitor.ledger_id,
            time=account.updated_at,
            detail=_detail(crossed, account, balance.entry_id),
        )
        if write_crossing(
            self.client, self.table, monitor, state=state, version=account.version, event=event
        ):
            monitors[monitor.id] = crossed
            self.metrics.add_metric(name=crossing_metric, unit=MetricUnit.Count, value=1)
            return
        # Evaluated at this version or a newer one already, or removed: take it as it stands.
        current = read_monitor(
            self.client, self.table, monitor.account_id, monitor.id, read_budget()
        )
        if current is None:
            del monitors[monitor.id]
        else:
            monitors[monitor.id] = current

    def _entries(
        self,
        monitor: Monitor,
        account: Account,
        balance: BalanceChange,
        entries: Mapping[str, Entry],
    ) -> None:
        for entry_id in _applied_entries(balance):
            entry = entries.get(entry_id)
            if entry is None:
                raise LookupError(f"entry {entry_id} of {balance.account_id} was not found")
            if not fires_for(monitor, entry):
                continue
            detail = _detail(monitor, account, entry_id)
            amount = entry_amount(entry, monitor.account_id)
            detail["amount"] = format_amount(amount, monitor.currency)
            event = events.OutboxEvent(
                event_id=events.event_id(monitor.id, entry_id),
                detail_type=events.monitor_triggered,
                ledger_id=monitor.ledger_id,
                time=entry.created_at,
                detail=detail,
            )
            if put_event(self.client, self.table, event):
                self.metrics.add_metric(name=entry_metric, unit=MetricUnit.Count, value=1)


def _detail(monitor: Monitor, account: Account, entry_id: str | None) -> dict[str, Any]:
    """The event's detail: the monitor, the balance that moved it, and what orders it."""
    return {
        "monitor": monitor_detail(monitor),
        "balance": balance_detail(account.balance()),
        "ledger_id": monitor.ledger_id,
        "account_id": monitor.account_id,
        "version": account.version,
        "entry_id": entry_id,
    }


def _applied_entries(balance: BalanceChange) -> tuple[str, ...]:
    """The entries a change applied to the account: a void's or an expiry's release of a
    pending entry applies nothing new, so its entry is left out."""
    if balance.entry_kind in release_kinds:
        return balance.entry_ids[:-1]
    return balance.entry_ids


def _changed_accounts(event: Mapping[str, Any]) -> list[str]:
    """The accounts whose balance items the batch changed, each once, in batch order; a
    record that does not decode is skipped here and fails on its own later."""
    accounts: dict[str, None] = {}
    for raw in event.get("Records", []):
        try:
            balance = balance_change(change_of(raw))
        except (KeyError, TypeError, ValueError):
            continue
        if balance is not None:
            accounts[balance.account_id] = None
    return list(accounts)


@cache
def consumer() -> MonitorsConsumer:
    """The container's consumer, built on first use from `LEDGER_TABLE_NAME` (required)."""
    return MonitorsConsumer(table_name(), default_client())


@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The monitors function's entry point: a DynamoDB Streams batch."""
    return consumer().handle(event, context)
