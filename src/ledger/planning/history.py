"""History records of balance items, and the pair assertion on each.

An item that holds balances is an account's own item (shard 0) or one of its shard items.
Each has its own `version`, which numbers that item's changes, so a history record is keyed
by (account, shard, version)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime

from ledger.domain.model import Account, AccountShard, Entry, EntryKind, EntryStatus, Totals
from ledger.planning.deltas import entry_deltas, posting_deltas, release_deltas
from ledger.planning.steps import ApplyDelta

release_kinds = frozenset({"void", "expire"})
# A version step that no entry made: a status change (or an overdraft change).
status_kind = "status"


@dataclass(frozen=True)
class BalanceChange:
    """What the stream says of one change of a balance item."""

    account_id: str
    shard: int
    version: int
    previous_version: int
    before: Totals
    after: Totals
    entry_ids: tuple[str, ...]
    entry_kind: str | None
    effective_at: datetime | None
    updated_at: datetime

    @property
    def deltas(self) -> Totals:
        """The totals after minus the totals before, field by field."""
        return subtract(self.after, self.before)

    @property
    def entry_id(self) -> str | None:
        """The last entry that moved the item in this change; None for a status change."""
        return self.entry_ids[-1] if self.entry_ids else None


@dataclass(frozen=True)
class HistoryRecord:
    """One version of one balance item: what moved it, by how much, to what, and when.
    `periods` are the (effective time, deltas) the effective-time aggregates add."""

    account_id: str
    shard: int
    version: int
    kind: str
    entry_ids: tuple[str, ...]
    deltas: Totals
    totals: Totals
    created_at: datetime
    effective_at: datetime
    mismatch: bool
    expected: Totals | None
    periods: tuple[tuple[datetime, Totals], ...]
    # Written by a rebuild from the journal (ADR 0026), not by the consumer from the stream.
    rebuilt: bool = False

    @property
    def entry_id(self) -> str | None:
        """The entry of this version (the last one, for a merged batch update)."""
        return self.entry_ids[-1] if self.entry_ids else None


def subtract(after: Totals, before: Totals) -> Totals:
    """`after - before`, field by field."""
    return Totals(
        **{
            each.name: getattr(after, each.name) - getattr(before, each.name)
            for each in fields(Totals)
        }
    )


def change_between(old: object, new: object) -> BalanceChange | None:
    """The change from one image of a balance item to the next, if its version grew; None
    for anything else (a details change keeps the version)."""
    if not isinstance(new, Account | AccountShard):
        return None
    previous = old if isinstance(old, Account | AccountShard) else None
    previous_version = 0 if previous is None else previous.version
    if new.version <= previous_version:
        return None
    before = Totals() if previous is None else previous.totals
    previous_entry = None if previous is None else previous.last_entry_id
    # A version step with the totals and the last entry unchanged moved no money: a status
    # (or overdraft) change, recorded so that versions stay contiguous.
    moved_by_entry = new.totals != before or new.last_entry_id != previous_entry
    entry_ids: tuple[str, ...] = ()
    if moved_by_entry and new.last_entry_id is not None:
        entry_ids = new.last_entry_ids or (new.last_entry_id,)
    return BalanceChange(
        account_id=new.id if isinstance(new, Account) else new.account_id,
        shard=0 if isinstance(new, Account) else new.index,
        version=new.version,
        previous_version=previous_version,
        before=before,
        after=new.totals,
        entry_ids=entry_ids,
        entry_kind=new.last_entry_kind if entry_ids else status_kind,
        effective_at=new.last_effective_at if entry_ids else None,
        updated_at=new.updated_at,
    )


def pending_of_postings(entries: Mapping[str, Entry]) -> tuple[str, ...]:
    """The pending entries that posting entries among `entries` resolve: their lines say what
    each posting released."""
    return tuple(
        entry.pending_id
        for entry in entries.values()
        if entry.kind is EntryKind.POST and entry.pending_id is not None
    )


def history_record(change: BalanceChange, entries: Mapping[str, Entry]) -> HistoryRecord:
    """The change as a history record, checked against what its entries' lines move on this
    item (the planner's own deltas); a change they do not explain is a mismatch."""
    deltas = change.deltas
    moves: list[tuple[datetime, Totals]] = []
    for position, entry_id in enumerate(change.entry_ids):
        is_last = position == len(change.entry_ids) - 1
        kind = change.entry_kind if is_last else None
        for delta in _moves(entries[entry_id], kind, change, entries):
            moves.append((delta.effective_at or change.updated_at, delta.totals))
    expected = sum((totals for _, totals in moves), Totals())
    step_is_one = change.version == change.previous_version + 1
    mismatch = expected != deltas or not step_is_one
    effective_at = change.effective_at or (moves[-1][0] if moves else change.updated_at)
    periods = tuple(moves) if not mismatch else ((effective_at, deltas),)
    return HistoryRecord(
        account_id=change.account_id,
        shard=change.shard,
        version=change.version,
        kind=_kind(change, entries),
        entry_ids=change.entry_ids,
        deltas=deltas,
        totals=change.after,
        created_at=change.updated_at,
        effective_at=effective_at,
        mismatch=mismatch,
        expected=expected if mismatch else None,
        periods=tuple((moment, totals) for moment, totals in periods if totals != Totals()),
    )


def _kind(change: BalanceChange, entries: Mapping[str, Entry]) -> str:
    if change.entry_kind is not None:
        return change.entry_kind
    entry_id = change.entry_id
    return status_kind if entry_id is None else entries[entry_id].kind


def _moves(
    entry: Entry, kind: str | None, change: BalanceChange, entries: Mapping[str, Entry]
) -> list[ApplyDelta]:
    """The planner's deltas of `entry` on this change's item. An item written before kinds
    were recorded names no kind: a resolved pending entry then moved it by its release if
    the item's pending totals fell."""
    released = change.after.pending_debits + change.after.pending_credits < (
        change.before.pending_debits + change.before.pending_credits
    )
    if kind is None and released and entry.status in (EntryStatus.VOIDED, EntryStatus.EXPIRED):
        kind = "expire" if entry.status is EntryStatus.EXPIRED else "void"
    at = change.updated_at
    if kind is not None and kind in release_kinds:
        deltas = release_deltas(entry, at, kind)
    elif entry.kind is EntryKind.POST and entry.pending_id is not None:
        deltas = posting_deltas(entries[entry.pending_id], entry, at)
    else:
        deltas = entry_deltas(entry, at)
    return [
        delta
        for delta in deltas
        if delta.account_id == change.account_id and delta.shard == change.shard
    ]
