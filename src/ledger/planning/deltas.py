"""How one line of an entry moves its account: the balance delta a plan applies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.domain.ids import AccountRef, parse_account_id, shard_of
from ledger.domain.model import Entry, EntryKind, Side, Totals
from ledger.planning.steps import ApplyDelta

# The first line of a hold or escrow is the payer's; its pending outflow is also counted
# in the payer's `held` or `escrowed`.
reserving_kinds = (EntryKind.HOLD, EntryKind.ESCROW)


@dataclass(frozen=True)
class Movement:
    """How one line moves its account: signed changes to the totals of the line's side."""

    posted: int = 0
    pending: int = 0
    reserved: int = 0


def line_delta(
    account: AccountRef,
    side: Side,
    movement: Movement,
    entry: Entry,
    now: datetime,
    *,
    purpose: EntryKind | None = None,
    require_active: bool = True,
    shard_key: str | None = None,
    entry_kind: str | None = None,
    effective_at: datetime | None = None,
) -> ApplyDelta:
    """Posted amounts raise headroom on the account's normal side and lower it on the other;
    pending amounts lower it only on the other (pending inflows never count). Whatever lowers
    headroom must be covered by it.

    A sharded account is moved on the shard `shard_key` (default: the entry's id) picks;
    resolving a pending entry passes the pending entry's id, so what it releases comes off
    the shard that holds it.

    The item it moves records `entry_kind` (default: the entry's kind) and `effective_at`
    (default: the entry's), which the history consumer dates the change by."""
    shard = shard_of(shard_key or entry.id, account.shards)
    is_inflow = side is account.normal_balance
    headroom = movement.posted if is_inflow else -(movement.posted + movement.pending)
    is_debit = side is Side.DEBIT
    reserving = purpose or entry.kind
    return ApplyDelta(
        account_id=account.id,
        ledger_id=entry.ledger_id,
        currency=account.currency.code,
        entry_id=entry.id,
        at=now,
        totals=Totals(
            posted_debits=movement.posted if is_debit else 0,
            posted_credits=0 if is_debit else movement.posted,
            pending_debits=movement.pending if is_debit else 0,
            pending_credits=0 if is_debit else movement.pending,
            held=movement.reserved if reserving is EntryKind.HOLD else 0,
            escrowed=movement.reserved if reserving is EntryKind.ESCROW else 0,
        ),
        headroom=headroom,
        outflow=max(0, -headroom),
        require_active=require_active,
        shard=shard,
        shards=account.shards,
        opens_shard=account.is_world and shard > 0,
        entry_kind=entry_kind or entry.kind,
        effective_at=effective_at or entry.effective_at,
    )


def entry_deltas(entry: Entry, now: datetime) -> list[ApplyDelta]:
    """How a new entry (or reversal) moves its accounts: posted, or pending when it was
    created pending, the first line of a hold or escrow also reserving its amount."""
    deltas = []
    for index, line in enumerate(entry.lines):
        reserved = line.amount if index == 0 and entry.kind in reserving_kinds else 0
        movement = (
            Movement(pending=line.amount, reserved=reserved)
            if entry.was_pending
            else Movement(posted=line.amount)
        )
        deltas.append(
            line_delta(parse_account_id(line.account_id), line.side, movement, entry, now)
        )
    return deltas


def posting_deltas(pending: Entry, posting: Entry, now: datetime) -> list[ApplyDelta]:
    """How posting a pending entry moves its accounts: each line's pending amount out and
    its posted amount in, on the shard the pending entry picked."""
    deltas = []
    for index, (held, posted) in enumerate(zip(pending.lines, posting.lines, strict=True)):
        reserved = -held.amount if index == 0 and pending.kind in reserving_kinds else 0
        movement = Movement(posted=posted.amount, pending=-held.amount, reserved=reserved)
        deltas.append(
            line_delta(
                parse_account_id(held.account_id),
                held.side,
                movement,
                posting,
                now,
                purpose=pending.kind,
                shard_key=pending.id,
            )
        )
    return deltas


def release_deltas(pending: Entry, now: datetime, kind: str) -> list[ApplyDelta]:
    """How voiding or expiring (`kind`) a pending entry moves its accounts: each line's
    pending amount out, on any account status; the release takes effect when it happens."""
    deltas = []
    for index, line in enumerate(pending.lines):
        reserved = -line.amount if index == 0 and pending.kind in reserving_kinds else 0
        movement = Movement(pending=-line.amount, reserved=reserved)
        deltas.append(
            line_delta(
                parse_account_id(line.account_id),
                line.side,
                movement,
                pending,
                now,
                require_active=False,
                entry_kind=kind,
                effective_at=now,
            )
        )
    return deltas
