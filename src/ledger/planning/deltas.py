"""How one line of an entry moves its account: the balance delta a plan applies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.domain.ids import AccountRef, shard_of
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
) -> ApplyDelta:
    """Posted amounts raise headroom on the account's normal side and lower it on the other;
    pending amounts lower it only on the other (pending inflows never count). Whatever lowers
    headroom must be covered by it.

    A sharded account is moved on the shard `shard_key` (default: the entry's id) picks;
    resolving a pending entry passes the pending entry's id, so what it releases comes off
    the shard that holds it."""
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
    )
