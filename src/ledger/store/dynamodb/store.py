"""The DynamoDB store: a plan is one TransactWriteItems; reads are consistent GetItems."""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ledger.domain import limits
from ledger.domain.errors import GuardMismatch
from ledger.domain.ids import parse_account_id
from ledger.domain.model import Account, AccountShard, Entry, Page, Totals
from ledger.planning.history import HistoryRecord
from ledger.planning.invariants import check_balanced, checked
from ledger.planning.steps import Step, Target, WritePlan, account_target, shows_applied
from ledger.store import R
from ledger.store.deadline import Clock, current_deadline
from ledger.store.dynamodb.audit_reads import DynamoDBAuditReads
from ledger.store.dynamodb.client import default_client as default_client  # noqa: PLC0414
from ledger.store.dynamodb.codec import Record, decode, string
from ledger.store.dynamodb.expiring import notice_expiring
from ledger.store.dynamodb.external import TableExternalChecks
from ledger.store.dynamodb.history import query_aggregates, query_history
from ledger.store.dynamodb.matches import TableMatches
from ledger.store.dynamodb.monitors import TableMonitors
from ledger.store.dynamodb.outbox import put_outbox
from ledger.store.dynamodb.reads import batch_get, query_keys
from ledger.store.dynamodb.rebuild import replace_history
from ledger.store.dynamodb.retries import (
    Budget,
    Outcome,
    condition_failed,
    known_reasons,
    read,
    transact,
)
from ledger.store.dynamodb.rules import DynamoDBRules
from ledger.store.dynamodb.schema import IndexQuery, index_query, item_key, paged
from ledger.store.dynamodb.secret import TableSeal
from ledger.store.dynamodb.transact import render
from ledger.store.history import HistoryQuery
from ledger.store.listings import Listing

if TYPE_CHECKING:
    from datetime import datetime

    from mypy_boto3_dynamodb.client import DynamoDBClient

    from ledger.domain.events import OutboxEvent


class _Seen(Enum):
    """What a failed condition shows, when it is no refusal."""

    # The item is what this plan leaves behind: an earlier attempt of it committed.
    APPLIED = "applied"
    # No item came back and a fresh read passes the check: the state moved on since.
    MOVED_ON = "moved_on"


class DynamoDBStore(TableMonitors, TableMatches, TableExternalChecks):
    """Executes plans as single transactions on one table; every guard is a condition."""

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Clock = time.monotonic,
        projections: tuple[str, ...] = ("history", "audit"),
    ) -> None:
        self.table_name = table_name
        self._projections = projections
        self.client = client or default_client()
        self._sleep = sleep
        self._clock = clock
        self._cursors = TableSeal(self.client, table_name)

    def _budget(self) -> Budget:
        return Budget(current_deadline(self._clock), self._sleep)

    @property
    def projections(self) -> tuple[str, ...]:
        """What the table's stream consumers write: history and the audit chain where they
        run (as deployed, and under `ledger dev`); none for a table without them."""
        return self._projections

    @property
    def audit(self) -> DynamoDBAuditReads:
        """The audit chain's reads on this table (the audit consumer writes it)."""
        return DynamoDBAuditReads(self.client, self.table_name, self._cursors, self._budget)

    @property
    def rules(self) -> DynamoDBRules:
        """The posting rules on this table."""
        return DynamoDBRules(self.client, self.table_name, self._cursors, self._budget)

    def execute(self, plan: WritePlan) -> None:
        """Apply the plan atomically; explain a cancellation by the failed condition; out of
        attempts or time, 503 `conflict` saying whether an attempt may have landed."""
        check_balanced(plan)
        actions = [render(step, self.table_name) for step in plan.steps]
        budget = self._budget()

        def settle(error: ClientError, outcome: Outcome) -> bool:
            return self._settled(plan, error, budget, outcome)

        transact(self.client, actions, budget, settle)

    def _settled(
        self, plan: WritePlan, error: ClientError, budget: Budget, outcome: Outcome
    ) -> bool:
        """Read a cancellation: raise the first refusal in plan order; True if it shows this
        plan committed by an earlier attempt; False if trying again may pass."""
        reasons: list[Any] = list(error.response.get("CancellationReasons", []))
        codes = {reason.get("Code", "None") for reason in reasons}
        # One reason per action, each one known, or the cancellation cannot be read at all.
        if len(reasons) != len(plan.steps) or not codes <= known_reasons:
            raise error
        seen: list[Exception | _Seen] = [
            self._explain(step, reason, budget, outcome)
            for step, reason in zip(plan.steps, reasons, strict=True)
            if reason.get("Code") == condition_failed
        ]
        for explanation in seen:
            if isinstance(explanation, Exception):
                raise explanation from error
        return bool(seen) and all(explanation is _Seen.APPLIED for explanation in seen)

    def _explain(
        self, step: Step, reason: dict[str, Any], budget: Budget, outcome: Outcome
    ) -> Exception | _Seen:
        """Why one condition failed: a refusal, this plan's own earlier commit, or a state
        that has moved on. A returned item that passes the check is a bug, never retried."""
        returned = "Item" in reason
        if returned:
            current: Record | None = decode(reason["Item"])
        else:
            current = self._get_record(step.target, budget, outcome)
        if outcome is Outcome.UNKNOWN and shows_applied(step, current):
            return _Seen.APPLIED
        violation = step.violation(current)
        if violation is not None:
            return violation
        if returned:
            target = step.target
            name = type(step).__name__
            raise GuardMismatch(name, f"{target.kind} {target.id}", outcome.value)
        return _Seen.MOVED_ON

    def _get_record(
        self, target: Target, budget: Budget, outcome: Outcome = Outcome.NOT_APPLIED
    ) -> Record | None:
        key = {name: string(value) for name, value in item_key(target).items()}
        response = read(
            budget,
            lambda: self.client.get_item(TableName=self.table_name, Key=key, ConsistentRead=True),
            outcome,
        )
        return checked(decode(response["Item"])) if "Item" in response else None

    def get(self, target: Target, kind: type[R]) -> R | None:
        """The record at `target`: one strongly consistent GetItem, or for a sharded account
        (its id says so) one strongly consistent BatchGetItem of all its items, summed."""
        budget = self._budget()
        shards = parse_account_id(target.id).shards if target.kind == "account" else 1
        if shards == 1:
            record = self._get_record(target, budget)
        else:
            keys = [item_key(account_target(target.id, index)) for index in range(shards)]
            merged = _summed(self._batch_get(keys, budget))
            record = merged.get((keys[0]["pk"], keys[0]["sk"]))
        return record if isinstance(record, kind) else None

    def items(self, account_id: str, shards: int) -> list[Account | AccountShard]:
        """An account's balance items as they stand, each alone: one strongly consistent
        BatchGetItem."""
        return self.audit.items(account_id, shards)

    def history(self, account_id: str, shard: int, query: HistoryQuery) -> list[HistoryRecord]:
        """One balance item's history records in the query's order and range: Query pages
        of its history index (the index follows the table within a second or so)."""
        return query_history(
            self.client, self.table_name, (account_id, shard), query, self._budget()
        )

    def aggregates(self, account_id: str, shard: int, bounds: tuple[str, str]) -> dict[str, Totals]:
        """One balance item's effective-time aggregates with `low <= sort key < high`: one
        strongly consistent Query."""
        return query_aggregates(
            self.client, self.table_name, (account_id, shard), bounds, self._budget()
        )

    def replace_history(self, account_id: str, shard: int, records: Sequence[HistoryRecord]) -> int:
        """Drop the item's history and aggregates, then write `records` as the consumer
        writes them; the number written (ADR 0026)."""
        return replace_history(
            self.client, self.table_name, (account_id, shard), records, self._budget()
        )

    def put_outbox(self, events: Sequence[OutboxEvent]) -> None:
        """Write derived events to the outbox, all in one transaction, each once."""
        put_outbox(self.client, self.table_name, events)

    def notice_expiring(self, entry_id: str, at: datetime, event: OutboxEvent) -> bool:
        """Mark a pending, unnoticed entry noticed and put its event in the outbox, one
        transaction; False if it was resolved, noticed or contended."""
        return notice_expiring(self.client, self.table_name, entry_id, at, event)

    def entries(self, entry_ids: Sequence[str]) -> dict[str, Entry]:
        """The entries of these ids that exist, by id: strongly consistent BatchGetItems of
        at most the most keys one takes."""
        budget = self._budget()
        keys = [item_key(Target("entry", entry_id)) for entry_id in dict.fromkeys(entry_ids)]
        found: dict[str, Entry] = {}
        for first in range(0, len(keys), limits.batch_get_keys_max):
            batch = self._batch_get(keys[first : first + limits.batch_get_keys_max], budget)
            found.update(
                {record.id: record for record in batch.values() if isinstance(record, Entry)}
            )
        return found

    def seal(self, binding: bytes, payload: bytes) -> str:
        """An opaque cursor for `payload` under the table's secret, for `binding` only."""
        return self._cursors.seal_payload(binding, payload)

    def unseal(self, binding: bytes, cursor: str) -> bytes:
        """The payload of a cursor sealed for `binding`."""
        return self._cursors.open_payload(binding, cursor)

    def page(self, listing: Listing, limit: int, cursor: str | None, kind: type[R]) -> Page[R]:
        """Query the listing's keys from its index, then read the items themselves, strongly
        consistent, in index order: one Query for one key more than needed (to know whether
        more exist) and one BatchGetItem. A page the items leave short (a filter kept few)
        repeats that with doubling batches until it is full or has examined its bound of
        index items. A listing spread over N partitions makes its N Queries one after
        another, each for as many keys, and merges them."""
        query = index_query(listing)
        if query.named_ledgers is not None:
            return self._page_of_named(query, limit, cursor, kind)
        start = None if cursor is None else self._cursors.open(cursor, query)
        budget = self._budget()
        items: list[R] = []
        examined = 0
        batch_size = limit
        while True:
            size = min(
                batch_size,
                limits.batch_get_keys_max,
                limits.index_items_examined_per_page_max - examined,
            )
            keys = self._keys_after(query, size + 1, start, budget)
            batch = keys[:size]
            records = self._batch_get([{"pk": key["pk"], "sk": key["sk"]} for key in batch], budget)
            records = self._with_shards(records, budget)
            consumed = 0
            for key in batch:
                consumed += 1
                record = records.get((key["pk"], key["sk"]))
                if isinstance(record, kind) and query.keeps(record):
                    items.append(record)
                    if len(items) == limit:
                        break
            if consumed == len(keys):
                return Page(items, None)
            start = batch[consumed - 1]
            examined += consumed
            if len(items) == limit or examined == limits.index_items_examined_per_page_max:
                return Page(items, self._cursors.seal(query, start))
            batch_size *= 2

    def _page_of_named(
        self, query: IndexQuery, limit: int, cursor: str | None, kind: type[R]
    ) -> Page[R]:
        """A listing of named ledgers: they are read by id (BatchGetItem), never found
        through the index, so the page and its cursor reflect them alone."""
        after = None if cursor is None else self._cursors.open(cursor, query)
        budget = self._budget()
        keys = [
            item_key(Target("ledger", ledger_id)) for ledger_id in sorted(query.named_ledgers or ())
        ]
        records: dict[tuple[str, str], Record] = {}
        for first in range(0, len(keys), limits.batch_get_keys_max):
            records.update(self._batch_get(keys[first : first + limits.batch_get_keys_max], budget))
        items, last = paged(query.rows(records.items(), kind), query, limit, after)
        return Page(items, None if last is None else self._cursors.seal(query, last))

    def _keys_after(
        self, query: IndexQuery, count: int, start: dict[str, str] | None, budget: Budget
    ) -> list[dict[str, str]]:
        """The listing's first `count` index keys after `start`, in listing order."""
        if not query.spread:
            return self._query_keys(query, count, start, budget)
        sort = f"{query.index}sk"
        bound = None if start is None else start[sort]
        # The first `count` of the merge are among the first `count` of each partition.
        runs = [
            self._query_spread_keys(query, partition, count, bound, budget)
            for partition in query.spread
        ]
        merged = heapq.merge(*runs, key=lambda key: key[sort], reverse=query.descending)
        return list(itertools.islice(merged, count))

    def _query_keys(
        self, query: IndexQuery, count: int, start: dict[str, str] | None, budget: Budget
    ) -> list[dict[str, str]]:
        if query.sort_before is None:
            sort_condition, bound = "begins_with(#sort, :bound)", query.sort_prefix
        else:
            sort_condition, bound = "#sort < :bound", query.sort_before
        arguments = self._index_query(query, query.partition, sort_condition, bound)
        if start is not None:
            arguments["ExclusiveStartKey"] = {name: string(value) for name, value in start.items()}
        return query_keys(self.client, arguments, count, budget)

    def _query_spread_keys(
        self, query: IndexQuery, partition: str, count: int, after: str | None, budget: Budget
    ) -> list[dict[str, str]]:
        """Keys of one partition of a spread listing after a sort key: a position good in
        every partition, as they hold nothing but the listing's items."""
        if after is None:
            sort_condition, bound = "begins_with(#sort, :bound)", query.sort_prefix
        else:
            sort_condition = "#sort < :bound" if query.descending else "#sort > :bound"
            bound = after
        arguments = self._index_query(query, partition, sort_condition, bound)
        return query_keys(self.client, arguments, count, budget)

    def _index_query(
        self, query: IndexQuery, partition: str, sort_condition: str, bound: str
    ) -> dict[str, Any]:
        return {
            "TableName": self.table_name,
            "IndexName": query.index,
            "KeyConditionExpression": f"#partition = :partition AND {sort_condition}",
            "ExpressionAttributeNames": {
                "#partition": f"{query.index}pk",
                "#sort": f"{query.index}sk",
            },
            "ExpressionAttributeValues": {
                ":partition": string(partition),
                ":bound": string(bound),
            },
            "ScanIndexForward": not query.descending,
        }

    def _with_shards(
        self, records: dict[tuple[str, str], Record], budget: Budget
    ) -> dict[tuple[str, str], Record]:
        """The records with every sharded account's shards summed in: one more BatchGetItem
        of their keys (a page's accounts may hold up to 64 shards each), only where any is
        sharded."""
        keys = [
            item_key(account_target(record.id, index))
            for record in records.values()
            if isinstance(record, Account)
            for index in range(1, record.shards)
        ]
        shards: dict[tuple[str, str], Record] = {}
        for first in range(0, len(keys), limits.batch_get_keys_max):
            shards.update(self._batch_get(keys[first : first + limits.batch_get_keys_max], budget))
        return {
            pair: record
            for pair, record in _summed({**records, **shards}).items()
            if pair in records
        }

    def _batch_get(
        self, keys: list[dict[str, str]], budget: Budget
    ) -> dict[tuple[str, str], Record]:
        pairs = [(key["pk"], key["sk"]) for key in keys]
        items = batch_get(self.client, self.table_name, pairs, budget)
        return {pair: checked(decode(item)) for pair, item in items.items()}


def _summed(records: dict[tuple[str, str], Record]) -> dict[tuple[str, str], Record]:
    """The records with each sharded account's shards among them summed into it."""
    shards: dict[str, list[AccountShard]] = {}
    for record in records.values():
        if isinstance(record, AccountShard):
            shards.setdefault(record.account_id, []).append(record)
    return {
        pair: record.with_shards(shards.get(record.id, []))
        if isinstance(record, Account)
        else record
        for pair, record in records.items()
    }
