"""The monitors consumer: each balance change evaluated against its account's monitors.

A balance monitor is edge-triggered: the crossings of one change (ok -> triggered,
triggered -> ok) are one transaction, the monitors' new states and their
`ledger.monitor.triggered|resolved` outbox events, on the condition that the account's
monitors were evaluated at an older version. A change that crosses nothing writes nothing
itself; the batch marks the account evaluated at its newest such version once, at its end.
An `entry_amount` monitor puts one outbox event per entry that satisfies it, once by its
key. (docs/monitors.md, ADR 0028.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from ledger.consumers.batch import TableConsumer, entries_named, process_batch, read_budget
from ledger.consumers.history import balance_change
from ledger.consumers.observability import metrics
from ledger.consumers.stream import ChangeRecord, change_of
from ledger.domain import events
from ledger.domain.ids import parse_account_id
from ledger.domain.model import Account, Entry
from ledger.domain.money import format_amount
from ledger.domain.monitors import Monitor, MonitorField, MonitorState
from ledger.domain.views import balance_view, monitor_view
from ledger.environment import table_name
from ledger.planning.history import BalanceChange, release_kinds
from ledger.planning.monitors import crossing, entry_amount, fires_for
from ledger.store.dynamodb.client import default_client
from ledger.store.dynamodb.monitor_codec import Watch
from ledger.store.dynamodb.monitor_events import (
    mark_evaluated,
    put_event,
    read_account,
    write_crossings,
)
from ledger.store.dynamodb.monitors import query_watch

if TYPE_CHECKING:
    pass

crossing_metric = "MonitorCrossings"
entry_metric = "MonitorEntryEvents"
crossing_attempts_max = 2


class EarlierChangeFailed(RuntimeError):
    """A change of the same account failed earlier in this batch: this one waits for it, so
    the account's changes are always evaluated in their order."""


@dataclass
class _Batch:
    """What one batch knows: each changed account's watch (kept up to date as it writes),
    the versions evaluated but not yet marked, the accounts whose change failed, and the
    sharded accounts as read once (the read saw every change of the batch)."""

    watches: dict[str, Watch]
    entries: Mapping[str, Entry]
    unmarked: dict[str, int] = field(default_factory=dict)
    failed: set[str] = field(default_factory=set)
    read: dict[str, Account | None] = field(default_factory=dict)


class MonitorsConsumer(TableConsumer):
    """Evaluates monitors from stream batches: one Query per changed account per batch,
    one entry read per batch where an `entry_amount` monitor needs it; a crossing is one
    transaction, and a batch marks each account evaluated with at most one more write."""

    def handle(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        """One Lambda batch; failed records are answered in `batchItemFailures`."""
        budget = read_budget()
        watches = {
            account_id: query_watch(self.client, self.table, account_id, budget)
            for account_id in _changed_accounts(event)
        }
        watched = {
            account_id
            for account_id, watch in watches.items()
            if any(monitor.field is MonitorField.ENTRY_AMOUNT for monitor in watch.monitors)
        }

        def entry_ids(change: ChangeRecord) -> tuple[str, ...]:
            balance = balance_change(change)
            if balance is None or balance.account_id not in watched:
                return ()
            return _applied_entries(balance)

        entries = (
            entries_named(self.client, self.table, event, entry_ids, budget) if watched else {}
        )
        batch = _Batch(watches, entries)

        def handle_change(change: ChangeRecord) -> None:
            self.record(change, batch)

        response = process_batch(event, context, handle_change)
        for account_id, version in batch.unmarked.items():
            mark_evaluated(self.client, self.table, account_id, version)
        return response

    def record(self, change: ChangeRecord, batch: _Batch) -> None:
        """Evaluate one change against its account's monitors; once a change of an account
        fails, its later ones in the batch fail too, to be retried in order."""
        balance = balance_change(change)
        if balance is None:
            return
        account_id = balance.account_id
        if account_id in batch.failed:
            raise EarlierChangeFailed(f"an earlier change of {account_id} failed in this batch")
        try:
            self._record(change, balance, batch)
        except Exception:
            batch.failed.add(account_id)
            raise

    def _record(self, change: ChangeRecord, balance: BalanceChange, batch: _Batch) -> None:
        watch = batch.watches.get(balance.account_id)
        if watch is None or not watch.monitors:
            return
        account = self._account(change, balance, batch)
        if account is None:
            return
        for monitor in watch.monitors:
            if not monitor.field.watches_balance:
                self._entries(monitor, account, balance, batch.entries)
        for _ in range(crossing_attempts_max):
            if self._evaluate(account, balance, batch):
                return
        raise MonitorsChanged(f"the monitors of {balance.account_id} kept changing")

    def _account(
        self, change: ChangeRecord, balance: BalanceChange, batch: _Batch
    ) -> Account | None:
        """The account as the record left it: its own image; or for a sharded account every
        item read now, once per batch (the read sees every change of the batch, and its
        summed version only grows, so it orders evaluations as well)."""
        image = change.new
        if isinstance(image, Account) and image.shards == 1:
            return image
        if balance.account_id in batch.read:
            return batch.read[balance.account_id]
        shards = parse_account_id(balance.account_id).shards
        account = read_account(self.client, self.table, balance.account_id, shards, read_budget())
        batch.read[balance.account_id] = account
        return account

    def _evaluate(self, account: Account, balance: BalanceChange, batch: _Batch) -> bool:
        """Write the crossings of the account's balance monitors at its version, if any;
        False if the monitors changed meanwhile (read again, to evaluate once more)."""
        watch = batch.watches[account.id]
        version = account.version
        watches_balance = any(monitor.field.watches_balance for monitor in watch.monitors)
        if version <= watch.evaluated_version or not watches_balance:
            return True
        figures = account.balance()
        crossed = [
            (monitor, state)
            for monitor in watch.monitors
            if (state := crossing(monitor, figures)) is not None
        ]
        after = {
            monitor.id: replace(monitor, state=state, evaluated_version=version)
            for monitor, state in crossed
        }
        monitors = tuple(after.get(monitor.id, monitor) for monitor in watch.monitors)
        if not crossed:
            batch.unmarked[account.id] = version
            batch.watches[account.id] = Watch(monitors, version)
            return True
        events_of = [
            _crossing_event(after[monitor.id], account, balance.entry_id) for monitor, _ in crossed
        ]
        written = write_crossings(
            self.client, self.table, account.id, version=version, crossed=crossed, events=events_of
        )
        if written:
            batch.unmarked.pop(account.id, None)
            batch.watches[account.id] = Watch(monitors, version)
            self.metrics.add_metric(name=crossing_metric, unit=MetricUnit.Count, value=len(crossed))
            return True
        # Evaluated at this version or a newer one already, or a monitor added or removed
        # meanwhile: read them as they stand.
        batch.watches[account.id] = query_watch(self.client, self.table, account.id, read_budget())
        return False

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


class MonitorsChanged(RuntimeError):
    """The account's monitors changed under every attempt to write a crossing: the record
    fails and is retried."""


def _crossing_event(monitor: Monitor, account: Account, entry_id: str | None) -> events.OutboxEvent:
    """The event of a monitor's crossing at the account's version: the same id and time on
    every delivery of the change."""
    triggered = monitor.state is MonitorState.TRIGGERED
    return events.OutboxEvent(
        event_id=events.event_id(monitor.id, str(account.version), monitor.state.value),
        detail_type=events.monitor_triggered if triggered else events.monitor_resolved,
        ledger_id=monitor.ledger_id,
        time=account.updated_at,
        detail=_detail(monitor, account, entry_id),
    )


def _detail(monitor: Monitor, account: Account, entry_id: str | None) -> dict[str, Any]:
    """The event's detail: the monitor, the balance that moved it, and the account version
    that orders it."""
    return {
        **monitor_view(monitor),
        "balance": balance_view(account.balance()),
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
