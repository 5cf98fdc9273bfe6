"""Planning the resolution of a pending entry: post (all or part) or void."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from ledger.domain.errors import (
    AlreadyResolved,
    AmountExceedsPending,
    NotPending,
    PendingExpired,
    ValidationError,
)
from ledger.domain.model import Actor, Entry, EntryKind, EntryStatus, Side
from ledger.planning.deltas import posting_deltas, release_deltas
from ledger.planning.hashing import posting_request_hash
from ledger.planning.invariants import check_entry
from ledger.planning.steps import PutNew, ResolvePending, WritePlan

# The kind a release records on the items it moves: a void by a caller, or an expiry.
release_kinds = {EntryStatus.VOIDED: "void", EntryStatus.EXPIRED: "expire"}


def plan_post(
    pending: Entry,
    posting_entry_id: str,
    amount: int | None,
    now: datetime,
    actor: Actor | None = None,
) -> tuple[Entry, Entry, WritePlan]:
    """Post a pending entry, fully or (two lines only) for less, releasing the rest. The
    posting entry carries the actor of the call that posts; the pending entry keeps its own."""
    _check_resolvable(pending)
    if pending.expires_at is not None and pending.expires_at <= now:
        raise PendingExpired(
            f"entry {pending.id} expired and can no longer be posted", {"entry_id": pending.id}
        )
    if amount is not None and len(pending.lines) != 2:
        raise ValidationError("amount", "only a two-line pending entry can be posted for less")
    if amount is not None and amount > pending.lines[0].amount:
        raise AmountExceedsPending(
            f"entry {pending.id} holds less than the amount to post", {"entry_id": pending.id}
        )
    posted_lines = tuple(
        replace(line, amount=line.amount if amount is None else amount) for line in pending.lines
    )
    posting = Entry(
        id=posting_entry_id,
        ledger_id=pending.ledger_id,
        kind=EntryKind.POST,
        status=EntryStatus.POSTED,
        lines=posted_lines,
        effective_at=now,
        created_at=now,
        request_hash=posting_request_hash(pending.id, amount),
        description=pending.description,
        reference=pending.reference,
        pending_id=pending.id,
        actor=actor,
    )
    check_entry(posting)
    whole = _single_amount(pending)
    posted_amount = whole if amount is None or whole is None else amount
    released_amount = None if whole is None or posted_amount is None else whole - posted_amount
    resolve = ResolvePending(
        pending.id, EntryStatus.POSTED, now, posting.id, posted_amount, released_amount
    )
    resolved = _resolved(pending, resolve)
    deltas = posting_deltas(pending, posting, now)
    return posting, resolved, WritePlan((PutNew(posting), resolve, *deltas))


def plan_void(
    pending: Entry, now: datetime, status: EntryStatus = EntryStatus.VOIDED
) -> tuple[Entry, WritePlan]:
    """Release a pending entry, voided by a caller or expired by the sweeper. A void creates
    no entry: the pending entry keeps the actor that created it."""
    _check_resolvable(pending)
    deltas = release_deltas(pending, now, release_kinds[status])
    whole = _single_amount(pending)
    resolve = ResolvePending(pending.id, status, now, None, None if whole is None else 0, whole)
    return _resolved(pending, resolve), WritePlan((resolve, *deltas))


def _single_amount(entry: Entry) -> int | None:
    """What an entry moves: the sum of its debit lines; None when its lines hold several
    currencies, which no one amount can describe."""
    if len({line.currency for line in entry.lines}) > 1:
        return None
    return sum(line.amount for line in entry.lines if line.side is Side.DEBIT)


def _resolved(pending: Entry, resolve: ResolvePending) -> Entry:
    """The pending entry as its resolution leaves it."""
    return replace(
        pending,
        status=resolve.status,
        posting_entry_id=resolve.posting_entry_id,
        posted_amount=resolve.posted_amount,
        released_amount=resolve.released_amount,
        resolved_at=resolve.at,
    )


def _check_resolvable(pending: Entry) -> None:
    check_entry(pending)
    if not pending.was_pending:
        raise NotPending(f"entry {pending.id} was never pending", {"entry_id": pending.id})
    if pending.status is not EntryStatus.PENDING:
        raise AlreadyResolved(
            f"entry {pending.id} is {pending.status} already", {"entry_id": pending.id}
        )
