"""The reference store: plans applied under one lock, for embedding and model-based tests.

It has no stream, so it keeps the history and the effective-time aggregates itself, as
the history consumer does on DynamoDB (ADR 0024), in the same step as the plan: reads of
history answer here what they answer there once the consumer has caught up."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, cast

from ledger.domain.model import (
    Account,
    AccountShard,
    AccountStatus,
    Entry,
    EntryStatus,
    LedgerRecord,
    Page,
    Totals,
)
from ledger.planning.history import (
    HistoryRecord,
    change_between,
    history_record,
    pending_of_postings,
)
from ledger.planning.invariants import check_balanced, checked
from ledger.planning.steps import (
    ApplyDelta,
    ChangeOverdraft,
    ClaimUnique,
    EnsureWorld,
    MarkReversed,
    PutNew,
    RegisterCurrency,
    RequireLedger,
    RequireParent,
    ResolvePending,
    SetDetails,
    SetStatus,
    Step,
    Stored,
    Target,
    WritePlan,
    account_target,
)
from ledger.store import R
from ledger.store.cursors import new_secret
from ledger.store.dynamodb.history import aggregate_additions
from ledger.store.dynamodb.schema import ListingSeal, index_query, item_key, paged
from ledger.store.history import HistoryQuery, sort_key
from ledger.store.listings import Listing
from ledger.store.rules import MemoryRules

if TYPE_CHECKING:
    from datetime import datetime

    from ledger.domain.events import OutboxEvent
from ledger.store.memory_external import MemoryExternalChecks
from ledger.store.memory_matches import MemoryMatches
from ledger.store.memory_monitors import MemoryMonitors

Record = LedgerRecord | Account | Entry
ItemKey = tuple[str, str]
BalanceItem = tuple[str, int]


class MemoryStore(MemoryMonitors, MemoryMatches, MemoryExternalChecks):
    """Keeps every item in a dict; checks a whole plan, then applies it, under one lock."""

    def __init__(self) -> None:
        self._items: dict[ItemKey, Stored] = {}
        self._lock = threading.Lock()
        # Its cursors are good for this store's life only, as its items are.
        self._cursors = ListingSeal(new_secret())
        self._history: dict[BalanceItem, list[HistoryRecord]] = {}
        self._aggregates: dict[BalanceItem, dict[str, Totals]] = {}
        # Derived events, in the order written; an embedding caller publishes them.
        self.outbox: list[OutboxEvent] = []
        self.rules = MemoryRules(self._stored)
        self._monitors = {}
        self._matches = {}
        self._external_checks = {}

    @property
    def projections(self) -> tuple[str, ...]:
        """History, written with each plan; no audit chain."""
        return ("history",)

    def execute(self, plan: WritePlan) -> None:
        """Apply every step of the plan, or none; raise the first violation."""
        check_balanced(plan)
        with self._lock:
            for step in plan.steps:
                violation = step.violation(self._items.get(self._key(step)))
                if violation is not None:
                    raise violation
            before = {self._key(step): self._items.get(self._key(step)) for step in plan.steps}
            for step in plan.steps:
                key = self._key(step)
                self._items[key] = _applied(step, self._items.get(key))
            for key, old in before.items():
                self._record(old, self._items.get(key))
            self._evaluate_monitors(self._moved_accounts(plan))

    def _moved_accounts(self, plan: WritePlan) -> list[Account]:
        """The accounts whose balance items the plan wrote, each summed with its shards."""
        moved: dict[str, Account] = {}
        for step in plan.steps:
            item = self._items.get(self._key(step))
            if not isinstance(item, Account | AccountShard):
                continue
            account_id = item.id if isinstance(item, Account) else item.account_id
            owner = self._items.get(_item_key(Target("account", account_id)))
            if isinstance(owner, Account) and account_id not in moved:
                moved[account_id] = self._with_shards(owner)
        return list(moved.values())

    def _record(self, old: Stored, new: Stored) -> None:
        """The history record and aggregate additions of one item's change, as the history
        consumer writes them from the stream."""
        change = change_between(old, new)
        if change is None:
            return
        entries = self._entries(change.entry_ids)
        entries.update(self._entries(pending_of_postings(entries)))
        record = history_record(change, entries)
        item = (record.account_id, record.shard)
        self._history.setdefault(item, []).append(record)
        aggregates = self._aggregates.setdefault(item, {})
        for (_, position), totals in aggregate_additions(record).items():
            aggregates[position] = aggregates.get(position, Totals()) + totals

    def _entries(self, entry_ids: tuple[str, ...]) -> dict[str, Entry]:
        found = (self._items.get(_item_key(Target("entry", entry_id))) for entry_id in entry_ids)
        return {entry.id: entry for entry in found if isinstance(entry, Entry)}

    def history(self, account_id: str, shard: int, query: HistoryQuery) -> list[HistoryRecord]:
        """One balance item's history records in the query's order and range."""
        with self._lock:
            records = list(self._history.get((account_id, shard), []))
        ordered = sorted(records, key=lambda record: sort_key(record, query.basis))
        if query.descending:
            ordered.reverse()
        kept = [record for record in ordered if query.keeps(sort_key(record, query.basis))]
        return kept[: query.limit]

    def replace_history(self, account_id: str, shard: int, records: Sequence[HistoryRecord]) -> int:
        """Replace the item's history with `records` and its aggregates with theirs."""
        aggregates: dict[str, Totals] = {}
        for record in records:
            for (_, position), totals in aggregate_additions(record).items():
                aggregates[position] = aggregates.get(position, Totals()) + totals
        with self._lock:
            self._history[(account_id, shard)] = list(records)
            self._aggregates[(account_id, shard)] = aggregates
        return len(records)

    def aggregates(self, account_id: str, shard: int, bounds: tuple[str, str]) -> dict[str, Totals]:
        """One balance item's effective-time aggregates with `low <= sort key < high`."""
        low, high = bounds
        with self._lock:
            aggregates = dict(self._aggregates.get((account_id, shard), {}))
        return {
            position: totals
            for position, totals in sorted(aggregates.items())
            if low <= position < high
        }

    def put_outbox(self, events: Sequence[OutboxEvent]) -> None:
        """Keep derived events, each once."""
        with self._lock:
            kept = {event.event_id for event in self.outbox}
            self.outbox.extend(event for event in events if event.event_id not in kept)

    def notice_expiring(self, entry_id: str, at: datetime, event: OutboxEvent) -> bool:
        """Mark a pending, unnoticed entry noticed and keep its event; False otherwise."""
        with self._lock:
            key = _item_key(Target("entry", entry_id))
            entry = self._items.get(key)
            if not isinstance(entry, Entry) or entry.status is not EntryStatus.PENDING:
                return False
            if entry.expiring_noticed_at is not None:
                return False
            self._items[key] = replace(entry, expiring_noticed_at=at)
            self.outbox.append(event)
            return True

    def entries(self, entry_ids: Sequence[str]) -> dict[str, Entry]:
        """The entries of these ids that exist, by id."""
        with self._lock:
            return self._entries(tuple(entry_ids))

    def seal(self, binding: bytes, payload: bytes) -> str:
        """An opaque cursor for `payload` that opens only for `binding`."""
        return self._cursors.seal_payload(binding, payload)

    def unseal(self, binding: bytes, cursor: str) -> bytes:
        """The payload of a cursor sealed for `binding`."""
        return self._cursors.open_payload(binding, cursor)

    def _stored(self, target: Target) -> Stored:
        with self._lock:
            return self._items.get(_item_key(target))

    @staticmethod
    def _key(step: Step) -> ItemKey:
        return _item_key(step.target)

    def get(self, target: Target, kind: type[R]) -> R | None:
        """The record at `target`, or None; an account with its shards summed."""
        with self._lock:
            item = self._items.get(_item_key(target))
            if isinstance(item, Account):
                item = self._with_shards(item)
        return checked(item) if isinstance(item, kind) else None

    def _with_shards(self, account: Account) -> Account:
        keys = (_item_key(account_target(account.id, index)) for index in range(1, account.shards))
        shards = [item for item in map(self._items.get, keys) if isinstance(item, AccountShard)]
        return account.with_shards(shards)

    def items(self, account_id: str, shards: int) -> list[Account | AccountShard]:
        """An account's balance items as they stand, each alone, own item first."""
        keys = [_item_key(account_target(account_id, index)) for index in range(shards)]
        with self._lock:
            found = [self._items.get(key) for key in keys]
        return [item for item in found if isinstance(item, Account | AccountShard)]

    def page(self, listing: Listing, limit: int, cursor: str | None, kind: type[R]) -> Page[R]:
        """Mimic the keys-only index query of the table's schema for the listing: sort-key
        order, resume strictly after the cursor, examine index items as `IndexQuery` says."""
        query = index_query(listing)
        after = None if cursor is None else self._cursors.open(cursor, query)
        with self._lock:
            records = [
                (key, self._with_shards(item) if isinstance(item, Account) else item)
                for key, item in self._items.items()
            ]
        items, last = paged(query.rows(records, kind), query, limit, after)
        next_cursor = None if last is None else self._cursors.seal(query, last)
        return Page([checked(item) for item in items], next_cursor)


def _item_key(target: Target) -> ItemKey:
    key = item_key(target)
    return key["pk"], key["sk"]


def _applied(step: Step, current: Stored) -> Stored:
    """The item after the step. Its check passed, so an update's item exists and has
    the type the check demanded."""
    match step:
        case PutNew(record=record):
            return record
        case ApplyDelta() if current is None:
            return _moved(_opened(step), step)
        case ClaimUnique(claim=claim):
            return claim
        case EnsureWorld(account=world):
            return current or world
        case ApplyDelta():
            return _moved(cast(Account | AccountShard, current), step)
        case SetStatus(status=status, at=at):
            item = cast(Account | AccountShard, current)
            return replace(item, status=status, version=item.version + 1, updated_at=at)
        case SetDetails(name=name, metadata=metadata, at=at):
            account = cast(Account, current)
            # No version step: it numbers the changes that bear on balances, which history keys on.
            return replace(
                account,
                name=account.name if name is None else name,
                metadata=account.metadata if metadata is None else metadata,
                updated_at=at,
            )
        case RegisterCurrency(currency=currency):
            ledger = cast(LedgerRecord, current)
            return replace(ledger, currencies={**ledger.currencies, currency.code: currency.scale})
        case ResolvePending():
            return replace(
                cast(Entry, current),
                status=step.status,
                posting_entry_id=step.posting_entry_id,
                posted_amount=step.posted_amount,
                released_amount=step.released_amount,
                resolved_at=step.at,
            )
        case MarkReversed(reversal_id=reversal_id):
            return replace(cast(Entry, current), reversed_by=reversal_id)
        case ChangeOverdraft():
            account = cast(Account, current)
            return replace(
                account,
                overdraft=step.overdraft,
                headroom=account.headroom + step.headroom_change,
                version=account.version + 1,
                updated_at=step.at,
            )
        case RequireLedger() | RequireParent():
            return current


def _opened(delta: ApplyDelta) -> AccountShard:
    """A `world` shard as its first write finds it: at zero, with the facts of its id."""
    return AccountShard(
        account_id=delta.account_id,
        index=delta.shard,
        ledger_id=delta.ledger_id,
        currency=delta.currency,
        status=AccountStatus.ACTIVE,
        updated_at=delta.at,
    )


def _moved(account: Account | AccountShard, delta: ApplyDelta) -> Account | AccountShard:
    return replace(
        account,
        totals=account.totals + delta.totals,
        headroom=account.headroom + delta.headroom,
        version=account.version + 1,
        last_entry_id=delta.entry_id,
        last_entry_kind=delta.entry_kind,
        last_effective_at=delta.effective_at,
        last_entry_ids=delta.entry_ids,
        updated_at=delta.at,
    )
