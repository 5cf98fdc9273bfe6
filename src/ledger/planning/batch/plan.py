"""Atomic batches: many operations as one transaction, each account updated once (pure)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ledger.domain import limits
from ledger.domain.errors import LedgerError, ValidationError
from ledger.domain.ids import new_entry_id
from ledger.domain.model import Actor, Entry
from ledger.planning.batch.net import net_transfers
from ledger.planning.batch.operations import BatchOperation
from ledger.planning.batch.parse import Drafted, attributed, draft_operation
from ledger.planning.commands import EntryOptions, NewEntry, entry_command
from ledger.planning.entries import plan_entry
from ledger.planning.hashing import request_hash
from ledger.planning.steps import ApplyDelta, DeltaShare, PutNew, Target, WritePlan


@dataclass(frozen=True)
class BatchPlan:
    """A batch's entries and its one plan; `owners` maps accounts to the first operation
    that moves them, so a refusal names its operation."""

    entries: list[Entry]
    plan: WritePlan
    owners: dict[str, int]
    items_saved: int


def plan_batch(
    operations: Sequence[BatchOperation | Mapping[str, Any]],
    idempotency_key: str | None,
    net: bool,
    now: datetime,
    actor: Actor | None = None,
) -> BatchPlan:
    """All operations as one plan: every entry, and one merged update per item. Each
    operation is a typed command, or a mapping that is parsed into one. Every entry carries
    the batch's actor, which is no part of the batch's digest."""
    if not 1 <= len(operations) <= limits.batch_operations_max:
        raise ValidationError(
            "operations", f"a batch has 1 to {limits.batch_operations_max} operations"
        )
    drafted = [
        attributed(index, draft_operation, index, operation)
        for index, operation in enumerate(operations)
    ]
    ledger_id = drafted[0].lines[0].account.ledger_id
    netted = net_transfers(drafted) if net else drafted
    batch_hash = _fingerprint(drafted, net)
    entries: list[Entry] = []
    deltas: list[tuple[int, ApplyDelta]] = []
    owners: dict[str, int] = {}
    for position, draft in enumerate(netted):
        key = None if idempotency_key is None else f"{idempotency_key}\0{position}"
        command = attributed(draft.index, _command, draft, ledger_id, key, batch_hash, actor)
        entry, plan = attributed(draft.index, plan_entry, command, now)
        entries.append(entry)
        for step in plan.steps:
            if isinstance(step, ApplyDelta):
                deltas.append((draft.index, step))
                owners.setdefault(step.account_id, draft.index)
    merged = _merge(deltas)
    if len(entries) + len(merged) > limits.transaction_items_max:
        raise ValidationError(
            "operations",
            f"the batch writes {len(entries) + len(merged)} items; "
            f"one transaction holds {limits.transaction_items_max}",
        )
    plan = WritePlan((*(PutNew(entry) for entry in entries), *merged))
    return BatchPlan(entries, plan, owners, len(drafted) - len(netted))


def operation_of(error: LedgerError, owners: dict[str, int]) -> LedgerError:
    """The error with the index of the operation it concerns, where an account names it:
    the first operation that moves the account, unless the error named its own."""
    account_id = error.details.get("account_id", error.details.get("id"))
    if account_id in owners:
        error.details.setdefault("operation_index", owners[account_id])
    return error


def _command(
    draft: Drafted, ledger_id: str, key: str | None, batch_hash: str, actor: Actor | None
) -> NewEntry:
    options: EntryOptions = {**draft.options, "actor": actor}
    return entry_command(
        new_entry_id(ledger_id, key),
        ledger_id,
        draft.kind,
        draft.lines,
        options,
        pending=draft.pending,
        batch_hash=batch_hash,
    )


def _fingerprint(drafted: list[Drafted], net: bool) -> str:
    """The batch's meaning after validation: amounts in minor units, so "10" and "10.00"
    are the same batch."""
    return request_hash(
        {
            "net": net,
            "operations": [
                {
                    "kind": draft.kind,
                    "lines": [[line.account.id, line.side, line.amount] for line in draft.lines],
                    "options": dict(draft.options),
                    "expires_in": None if draft.pending is None else draft.pending.expires_in,
                }
                for draft in drafted
            ],
        }
    )


def _merge(deltas: list[tuple[int, ApplyDelta]]) -> list[ApplyDelta]:
    """One update per item: the sum of an account's changes (of a sharded account's, per
    shard), guarded by its total outflow, with each operation's share kept so a refusal can
    name the operation to blame."""
    merged: dict[Target, ApplyDelta] = {}
    for index, delta in deltas:
        share = DeltaShare(index, delta.headroom)
        before = merged.get(delta.target)
        if before is None:
            merged[delta.target] = replace(delta, shares=(share,))
            continue
        headroom = before.headroom + delta.headroom
        merged[delta.target] = replace(
            delta,
            totals=before.totals + delta.totals,
            headroom=headroom,
            outflow=max(0, -headroom),
            shares=(*before.shares, share),
            entry_ids=(*(before.entry_ids or (before.entry_id,)), delta.entry_id),
        )
    return list(merged.values())
