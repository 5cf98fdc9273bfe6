"""History rebuilt from the journal, for a balance item whose stream records were lost.

The journal says which entries moved an item, and when: an entry when it was created, a
posting when it was created, and a void or expiry when the pending entry resolved
(`resolved_at`; an entry resolved before that time was recorded falls back on its expiry
for an expiry, and on its creation for a void). Entries of one item at one instant were
one batch update, one version. Each such step becomes one history record, made by the
consumer's own `history_record` from the planner's own deltas, so a rebuilt record is what
the consumer would have written, marked `rebuilt`.

The item's version also counts steps no entry made (status and overdraft changes), which
the journal does not know: they are numbered after the last money step, dated at the
item's last update, moving nothing (ADR 0026). A journal that does not add up to the item,
or that has more steps than the item has versions, is refused: a rebuild never papers over
a mismatch, reconciliation reports it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from ledger.domain.model import (
    Entry,
    EntryKind,
    EntryStatus,
    Totals,
    totals_fields,
)
from ledger.planning.audit import BalanceItem, item_account_id, item_shard
from ledger.planning.deltas import entry_deltas, posting_deltas, release_deltas
from ledger.planning.history import BalanceChange, HistoryRecord, history_record, status_kind
from ledger.planning.steps import ApplyDelta


class RebuildRefused(ValueError):
    """The journal does not explain a balance item as it stands: a history rebuilt from it
    would contradict the item. Reconcile and investigate instead (ADR 0026). Raised only
    by a rebuild, never over HTTP."""


@dataclass(frozen=True)
class _Move:
    """One entry's change of one item: when, which entry, as what kind, by how much."""

    at: datetime
    entry_id: str
    kind: str
    totals: Totals


def rebuilt_history(
    item: BalanceItem, candidates: Iterable[Entry], entries: Mapping[str, Entry]
) -> list[HistoryRecord]:
    """The item's history records, versions 1 to its version, from `candidates` (the
    entries with a line on its account); `entries` holds them and the pending entries
    their postings resolve."""
    account_id, shard = item_account_id(item), item_shard(item)
    steps: dict[datetime, list[_Move]] = defaultdict(list)
    for move in _moves_of(account_id, shard, candidates, entries):
        steps[move.at].append(move)
    records: list[HistoryRecord] = []
    before = Totals()
    for version, at in enumerate(sorted(steps), start=1):
        moves = sorted(steps[at], key=lambda move: move.entry_id)
        after = sum((move.totals for move in moves), before)
        records.append(
            _rebuilt((account_id, shard, version), before, after, moves, at=at, entries=entries)
        )
        before = after
    _check_explains(item, before, len(records))
    for version in range(len(records) + 1, item.version + 1):
        step = (account_id, shard, version)
        records.append(_rebuilt(step, before, before, [], at=item.updated_at, entries=entries))
    return records


def _rebuilt(
    version: tuple[str, int, int],
    before: Totals,
    after: Totals,
    moves: list[_Move],
    *,
    at: datetime,
    entries: Mapping[str, Entry],
) -> HistoryRecord:
    """The record of one version of an item (account, shard, version) the consumer would
    have written, marked rebuilt; without moves, a step that moved nothing."""
    account_id, shard, number = version
    change = BalanceChange(
        account_id=account_id,
        shard=shard,
        version=number,
        previous_version=number - 1,
        before=before,
        after=after,
        entry_ids=tuple(move.entry_id for move in moves),
        entry_kind=moves[-1].kind if moves else status_kind,
        effective_at=None,
        updated_at=at,
    )
    return replace(history_record(change, entries), rebuilt=True)


def _check_explains(item: BalanceItem, totals: Totals, steps: int) -> None:
    account_id, shard = item_account_id(item), item_shard(item)
    if totals != item.totals:
        differences = ", ".join(
            f"{name} {getattr(totals, name)} by the journal, {getattr(item.totals, name)} held"
            for name in totals_fields
            if getattr(totals, name) != getattr(item.totals, name)
        )
        raise RebuildRefused(f"the journal does not add up to the item: {differences}")
    if steps > item.version:
        raise RebuildRefused(
            f"the journal has {steps} changes of {account_id} shard {shard}, "
            f"more than its {item.version} versions"
        )


def _moves_of(
    account_id: str, shard: int, candidates: Iterable[Entry], entries: Mapping[str, Entry]
) -> list[_Move]:
    """Every change `candidates` made to the item, each with its time and kind."""
    moves: list[_Move] = []
    for entry in candidates:
        for at, kind, deltas in _changes(entry, entries):
            totals = _on_item(deltas, account_id, shard)
            if totals is not None:
                moves.append(_Move(at, entry.id, kind, totals))
    return moves


def _changes(
    entry: Entry, entries: Mapping[str, Entry]
) -> list[tuple[datetime, str, list[ApplyDelta]]]:
    """When and how the entry moved balances: at its creation, and, once pending and then
    voided or expired, again at its release."""
    at = entry.created_at
    if entry.kind is EntryKind.POST and entry.pending_id is not None:
        pending = entries.get(entry.pending_id)
        if pending is None:
            raise RebuildRefused(f"posting {entry.id} resolves {entry.pending_id}, not found")
        changes = [(at, entry.kind.value, posting_deltas(pending, entry, at))]
    else:
        changes = [(at, entry.kind.value, entry_deltas(entry, at))]
    if entry.status in (EntryStatus.VOIDED, EntryStatus.EXPIRED):
        kind = "expire" if entry.status is EntryStatus.EXPIRED else "void"
        released_at = entry.resolved_at or _release_fallback(entry)
        changes.append((released_at, kind, release_deltas(entry, released_at, kind)))
    return changes


def _release_fallback(entry: Entry) -> datetime:
    """When an entry resolved before resolution times were recorded most likely released:
    an expiry at its expiry, a void (time unknown) at its creation."""
    if entry.status is EntryStatus.EXPIRED and entry.expires_at is not None:
        return entry.expires_at
    return entry.created_at


def _on_item(deltas: list[ApplyDelta], account_id: str, shard: int) -> Totals | None:
    """The sum of the deltas on this item; None if none of them is on it."""
    mine = [
        delta.totals for delta in deltas if (delta.account_id, delta.shard) == (account_id, shard)
    ]
    if not mine:
        return None
    return sum(mine, Totals())
