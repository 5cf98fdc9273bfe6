"""The history consumer: one history record per version of every balance item, checked
against its entries' lines, with the effective-time aggregates in the same transaction."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from ledger.consumers.batch import TableConsumer, entries_named, process_batch, read_budget
from ledger.consumers.observability import metrics
from ledger.consumers.stream import ChangeRecord
from ledger.domain.model import Entry
from ledger.environment import table_name
from ledger.planning.history import (
    BalanceChange,
    change_between,
    history_record,
    pending_of_postings,
)
from ledger.store.dynamodb.client import default_client
from ledger.store.dynamodb.history import read_entries, write_history

if TYPE_CHECKING:
    pass

mismatch_metric = "HistoryMismatch"


def balance_change(change: ChangeRecord) -> BalanceChange | None:
    """The change of a balance item whose version grew; None for anything else (a details
    change keeps the version, a REMOVE is the audit's business)."""
    if change.event_name == "REMOVE":
        return None
    return change_between(change.old, change.new)


class HistoryConsumer(TableConsumer):
    """Writes history from stream batches: one entry read per batch, one transaction per
    record; a redelivered record or a replayed batch writes nothing."""

    def handle(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        """One Lambda batch; failed records are answered in `batchItemFailures`."""
        entries = self._entries_of(event)

        def handle_change(change: ChangeRecord) -> None:
            self.record(change, entries)

        return process_batch(event, context, handle_change)

    def record(self, change: ChangeRecord, entries: Mapping[str, Entry]) -> None:
        """Write the history record of one change, if it is a balance change."""
        balance = balance_change(change)
        if balance is None:
            return
        missing = [entry_id for entry_id in balance.entry_ids if entry_id not in entries]
        if missing:
            raise LookupError(f"entries {missing} of {balance.account_id} were not found")
        record = history_record(balance, entries)
        written = write_history(self.client, self.table, record)
        if written and record.mismatch:
            self.logger.error(
                "history record does not match its entries",
                extra={
                    "account_id": record.account_id,
                    "shard": record.shard,
                    "version": record.version,
                    "entry_id": record.entry_id,
                    "deltas": record.deltas.__dict__,
                    "expected": None if record.expected is None else record.expected.__dict__,
                },
            )
            self.metrics.add_metric(name=mismatch_metric, unit=MetricUnit.Count, value=1)

    def _entries_of(self, event: Mapping[str, Any]) -> dict[str, Entry]:
        """Every entry the batch's balance changes name, and the pending entries of the
        postings among them: one BatchGetItem, and one more only if there are postings."""
        budget = read_budget()
        entries = entries_named(self.client, self.table, event, _entry_ids, budget)
        pending = set(pending_of_postings(entries)) - entries.keys()
        if pending:
            entries.update(read_entries(self.client, self.table, pending, budget))
        return entries


def _entry_ids(change: ChangeRecord) -> tuple[str, ...]:
    balance = balance_change(change)
    return () if balance is None else tuple(balance.entry_ids)


@cache
def consumer() -> HistoryConsumer:
    """The container's consumer, built on first use from `LEDGER_TABLE_NAME` (required)."""
    return HistoryConsumer(table_name(), default_client())


@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The history function's entry point: a DynamoDB Streams batch."""
    return consumer().handle(event, context)
