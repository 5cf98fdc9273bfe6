"""The audit consumer: one chained audit record per version of every balance item, and a
critical audit event for any financial item removed (ADR 0025)."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit

from ledger.consumers.batch import TableConsumer, entries_named, process_batch, read_budget
from ledger.consumers.observability import metrics
from ledger.consumers.stream import ChangeRecord
from ledger.domain.audit import chained, genesis_hash
from ledger.domain.errors import NotFound
from ledger.domain.ids import entry_ledger_id, parse_account_id
from ledger.domain.model import Account, AccountShard, Entry
from ledger.domain.results import AuditLink
from ledger.domain.timestamps import timestamp
from ledger.environment import table_name
from ledger.planning.audit import ItemChange, audit_record
from ledger.store.dynamodb.audit import (
    PutOutcome,
    RemovalEvent,
    put_link,
    put_removal_event,
    read_link,
)
from ledger.store.dynamodb.client import default_client

if TYPE_CHECKING:
    pass

removed_metric = "FinancialItemRemoved"
conflict_metric = "AuditRecordConflict"
# The partitions of items that hold or record money: a REMOVE of any is a critical event.
financial_prefixes = ("ACCOUNT#", "ENTRY#", "HISTORY#", "AUDIT#")
ItemVersion = tuple[str, int, int]


class PreviousRecordMissing(LookupError):
    """The record before a version is not in the chain yet: the consumer is behind, or
    records came out of order. The record fails and is retried."""


def item_change(change: ChangeRecord) -> ItemChange | None:
    """The change of a balance item that starts its chain (an INSERT) or steps its
    version; None for anything else (a details change keeps the version)."""
    new, old = change.new, change.old
    if change.event_name == "REMOVE" or not isinstance(new, Account | AccountShard):
        return None
    previous = old if isinstance(old, Account | AccountShard) else None
    if previous is not None and new.version <= previous.version:
        return None
    return ItemChange(before=previous, after=new)


def removed_ledger_id(change: ChangeRecord) -> str | None:
    """The ledger of a financial item a REMOVE took away; None for anything else."""
    pk, _ = change.keys
    if change.event_name != "REMOVE" or not pk.startswith(financial_prefixes):
        return None
    prefix, _, rest = pk.partition("#")
    if prefix == "AUDIT" and rest.startswith("LEDGER#"):
        return rest.removeprefix("LEDGER#")
    identifier = rest.split("#", 1)[0]
    try:
        if prefix == "ENTRY":
            return entry_ledger_id(identifier)
        return parse_account_id(identifier).ledger_id
    except NotFound:
        return f"unknown:{identifier}"


class AuditConsumer(TableConsumer):
    """Writes the audit chain from stream batches: one entry read per batch, one put per
    record, a read of the record before only when it is not in the same batch."""

    def handle(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        """One Lambda batch; failed records are answered in `batchItemFailures`."""
        entries = self._entries_of(event)
        hashes: dict[ItemVersion, str] = {}

        def handle_change(change: ChangeRecord) -> None:
            self.record(change, entries, hashes)

        return process_batch(event, context, handle_change)

    def record(
        self,
        change: ChangeRecord,
        entries: Mapping[str, Entry],
        hashes: dict[ItemVersion, str],
    ) -> None:
        """Append the audit record of one change, or record a removal; `hashes` holds the
        chain hashes the batch has written or found so far."""
        ledger_id = removed_ledger_id(change)
        if ledger_id is not None:
            self._removed(change, ledger_id)
            return
        item = item_change(change)
        if item is None:
            return
        entry_id = item.entry_id
        if entry_id is not None and entry_id not in entries:
            raise LookupError(f"entry {entry_id} of {item.account_id} was not found")
        record = audit_record(item, entries)
        previous_hash = self._previous_hash(item, hashes)
        link = AuditLink(record, previous_hash, chained(previous_hash, record))
        outcome = put_link(self.client, self.table, link)
        key = (record.account_id, record.shard, record.version)
        if outcome is PutOutcome.DIFFERENT:
            stored = read_link(self.client, self.table, *key)
            self.logger.error(
                "audit record differs from the one stored",
                extra={"account_id": key[0], "shard": key[1], "version": key[2]},
            )
            self.metrics.add_metric(name=conflict_metric, unit=MetricUnit.Count, value=1)
            if stored is not None:
                hashes[key] = stored.hash
            return
        hashes[key] = link.hash

    def _previous_hash(self, item: ItemChange, hashes: Mapping[ItemVersion, str]) -> str:
        previous_version = item.previous_version
        if previous_version is None:
            return genesis_hash
        key = (item.account_id, item.shard, previous_version)
        if key in hashes:
            return hashes[key]
        stored = read_link(self.client, self.table, *key)
        if stored is None:
            raise PreviousRecordMissing(f"audit record {key[0]}/{key[1]}/{key[2]} is not there yet")
        return stored.hash

    def _removed(self, change: ChangeRecord, ledger_id: str) -> None:
        pk, sk = change.keys
        event = RemovalEvent(
            ledger_id=ledger_id,
            event_id=change.event_id,
            removed_pk=pk,
            removed_sk=sk,
            recorded_at=timestamp(change.approximate_created_at),
        )
        if put_removal_event(self.client, self.table, event):
            self.logger.error(
                "financial item removed",
                extra={"ledger_id": ledger_id, "pk": pk, "sk": sk, "event_id": change.event_id},
            )
            self.metrics.add_metric(name=removed_metric, unit=MetricUnit.Count, value=1)

    def _entries_of(self, event: Mapping[str, Any]) -> dict[str, Entry]:
        """Every entry the batch's balance changes name: one BatchGetItem per 100."""
        return entries_named(self.client, self.table, event, _entry_ids, read_budget())


def _entry_ids(change: ChangeRecord) -> tuple[str, ...]:
    item = item_change(change)
    return () if item is None or item.entry_id is None else (item.entry_id,)


@cache
def consumer() -> AuditConsumer:
    """The container's consumer, built on first use from `LEDGER_TABLE_NAME` (required)."""
    return AuditConsumer(table_name(), default_client())


@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The audit function's entry point: a DynamoDB Streams batch."""
    return consumer().handle(event, context)
