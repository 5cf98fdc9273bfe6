"""Balances of the past on both time axes, read from the history of an account's items.

- `at=K` (as recorded at K): per item, its latest record created at or before K.
- `effective_at=T` (as known now): per item, the month aggregates before T's month, the
  day aggregates of T's month before T's day, and the records of T's day at or before T.
- both: per item, the records recorded before K, or the effective balance at T less the
  records recorded after K, whichever are fewer (item versions count them beforehand).
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import islice

from ledger.domain import limits
from ledger.domain.errors import HistoryNotKept, ReportTooLarge
from ledger.domain.ids import parse_account_id
from ledger.domain.model import Account, Balance, Totals
from ledger.planning.history import HistoryRecord
from ledger.reporting.history import deltas_of, past_balance, summed
from ledger.store import Store
from ledger.store.history import (
    HistoryQuery,
    after,
    at_or_before,
    below,
    day_key,
    from_moment,
    month_key,
    sort_key,
)


def require_history(store: Store) -> None:
    """The store's reads find the balance history, or nothing read from it can be answered."""
    if "history" not in store.projections:
        raise HistoryNotKept(
            "this store keeps no balance history (its stream consumers do not run); "
            "balances of the past, statements and an account's entries are read from it"
        )


@dataclass(frozen=True)
class ItemAt:
    """One balance item as recorded at a moment: its totals, version and latest change."""

    totals: Totals
    version: int
    changed_at: datetime | None


def items_of(account_id: str) -> range:
    """The balance items of an account, by shard index; its id says how many."""
    return range(parse_account_id(account_id).shards)


def item_at(store: Store, account_id: str, shard: int, at: datetime) -> ItemAt:
    """The item as recorded at `at`: one indexed read of its latest record by then."""
    query = HistoryQuery("recorded", limit=1, high=at_or_before(at), descending=True)
    found = store.history(account_id, shard, query)
    if not found:
        return ItemAt(Totals(), 0, None)
    return ItemAt(found[0].totals, found[0].version, found[0].created_at)


@dataclass(frozen=True)
class Mark:
    """A place in an account's merged history: a sort key and a shard. Reading from a mark
    takes the record there, if any, and every record past it in the reading's order."""

    key: str
    shard: int


def merged(
    store: Store, account_id: str, query: HistoryQuery, start: Mark | None = None
) -> list[tuple[int, HistoryRecord]]:
    """The first `query.limit` records of the account's items in the query's range, from
    `start` on, merged in (sort key, shard) order (both reversed when descending), each
    with its shard: at most `query.limit` read from each item."""
    per_item: list[list[tuple[str, int, HistoryRecord]]] = []
    for shard in items_of(account_id):
        item_query = query if start is None else _from(query, start, shard)
        found = store.history(account_id, shard, item_query)
        per_item.append([(sort_key(record, query.basis), shard, record) for record in found])
    ordered = heapq.merge(*per_item, key=lambda each: (each[0], each[1]), reverse=query.descending)
    return [(shard, record) for _, shard, record in islice(ordered, query.limit)]


def _from(query: HistoryQuery, start: Mark, shard: int) -> HistoryQuery:
    """One item's part of a merged reading from `start`: at its sort key on the items at or
    before its shard in the reading's order, strictly past it on the others."""
    if query.descending:
        high = start.key if shard <= start.shard else below(start.key)
        return replace(query, high=min(query.high, high))
    low = start.key if shard >= start.shard else after(start.key)
    return replace(query, low=max(query.low, low))


def _too_large(count: int) -> ReportTooLarge:
    return ReportTooLarge(
        f"the balance would read {count} history records, more than "
        f"{limits.history_records_per_read_max}",
        {"records": count, "records_max": limits.history_records_per_read_max},
    )


def _bounded(store: Store, account_id: str, shard: int, query: HistoryQuery) -> list[HistoryRecord]:
    records = store.history(account_id, shard, query)
    if len(records) > limits.history_records_per_read_max:
        raise _too_large(len(records))
    return records


def effective_totals(store: Store, account_id: str, shard: int, moment: datetime) -> Totals:
    """The item's totals counting every change effective at or before `moment`, as known
    now: bounded by the days and months it has changes in, not by its number of changes."""
    utc = moment.astimezone(UTC)
    months = store.aggregates(account_id, shard, ("MONTH#", month_key(utc)))
    days = store.aggregates(account_id, shard, (day_key(utc.replace(day=1)), day_key(utc)))
    day_start = utc.replace(hour=0, minute=0, second=0, microsecond=0)
    query = HistoryQuery(
        "effective",
        limit=limits.history_records_per_read_max + 1,
        low=from_moment(day_start),
        high=at_or_before(utc),
    )
    today = _bounded(store, account_id, shard, query)
    return summed(months.values()) + summed(days.values()) + deltas_of(today)


def latest_effective(
    store: Store, account_id: str, shard: int, moment: datetime
) -> datetime | None:
    """The effective time of the item's newest change effective at or before `moment`."""
    query = HistoryQuery("effective", limit=1, high=at_or_before(moment), descending=True)
    found = store.history(account_id, shard, query)
    return found[0].effective_at if found else None


def effective_as_recorded(
    store: Store, account_id: str, shard: int, effective_at: datetime, at: datetime
) -> tuple[Totals, ItemAt]:
    """The item's totals effective at `effective_at` as recorded at `at`, exactly: from the
    records recorded by then, or from the effective totals now less the records recorded
    since, whichever are fewer."""
    then = item_at(store, account_id, shard, at)
    now = item_at(store, account_id, shard, datetime.max.replace(tzinfo=UTC))
    since = now.version - then.version
    if min(since, then.version) > limits.history_records_per_read_max:
        raise _too_large(min(since, then.version))
    limit = limits.history_records_per_read_max + 1
    if then.version <= since:
        query = HistoryQuery("recorded", limit=limit, high=at_or_before(at))
        recorded = _bounded(store, account_id, shard, query)
        counted = [record for record in recorded if record.effective_at <= effective_at]
        return deltas_of(counted), then
    query = HistoryQuery("recorded", limit=limit, low=at_or_before(at))
    later = _bounded(store, account_id, shard, query)
    uncounted = [record for record in later if record.effective_at <= effective_at]
    current = effective_totals(store, account_id, shard, effective_at)
    return current + deltas_of_negated(uncounted), then


def deltas_of_negated(records: list[HistoryRecord]) -> Totals:
    """The records' deltas, summed, with every sign turned: what to add to take them away."""
    total = deltas_of(records)
    return Totals(
        posted_debits=-total.posted_debits,
        posted_credits=-total.posted_credits,
        pending_debits=-total.pending_debits,
        pending_credits=-total.pending_credits,
        held=-total.held,
        escrowed=-total.escrowed,
    )


def past(
    store: Store,
    account: Account,
    *,
    at: datetime | None,
    effective_at: datetime | None,
) -> Balance:
    """The account's balance at `at` and/or effective at `effective_at`, summed over its items."""
    require_history(store)
    totals: list[Totals] = []
    versions: list[int] = []
    moments: list[datetime] = []
    for shard in items_of(account.id):
        if effective_at is None and at is not None:
            then = item_at(store, account.id, shard, at)
            totals.append(then.totals)
            versions.append(then.version)
            moments += [] if then.changed_at is None else [then.changed_at]
        elif at is None and effective_at is not None:
            totals.append(effective_totals(store, account.id, shard, effective_at))
            latest = latest_effective(store, account.id, shard, effective_at)
            moments += [] if latest is None else [latest]
        elif at is not None and effective_at is not None:
            item_totals, then = effective_as_recorded(store, account.id, shard, effective_at, at)
            totals.append(item_totals)
            versions.append(then.version)
            moments += [] if then.changed_at is None else [then.changed_at]
    version = sum(versions) if versions else account.version
    asked = [moment for moment in (at, effective_at) if moment is not None]
    as_of = max(moments) if moments else min(asked)
    return past_balance(account, summed(totals), version, as_of, at=at, effective_at=effective_at)
