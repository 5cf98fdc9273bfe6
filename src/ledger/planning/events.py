"""Which event a change of an entry or an account publishes, if any (API.md, "Events").

One change, at most one event, so a subscriber never sees one fact twice under two names:
- an entry created posted: `posted`; a reversal: `reversed` (it carries `reverses`);
  created pending (a hold, an escrow): `pending`; the posting entry of a pending one is
  created posted, so a confirmed hold is its posting entry's `posted`;
- a pending entry voided or expired: `voided` / `expired` (a void creates no entry);
- an account created: `created`; any later change of it: `updated`, with its version.

A sharded account's balance is the sum of its items, which no single item's image holds:
its own item publishes its changes of details, status and limits, not of money; the
entries that move it publish those.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.domain import events
from ledger.domain.model import Account, Entry, EntryKind, EntryStatus
from ledger.domain.timestamps import timestamp

_resolutions = {
    EntryStatus.VOIDED: events.entry_voided,
    EntryStatus.EXPIRED: events.entry_expired,
}


@dataclass(frozen=True)
class Publication:
    """An event to publish about one record: its type, stable id, and when it happened."""

    detail_type: str
    event_id: str
    record: Entry | Account
    time: datetime


def entry_publication(old: Entry | None, new: Entry) -> Publication | None:
    """The event of an entry's change: its creation, or its release from pending."""
    if old is None:
        if new.status is EntryStatus.PENDING:
            detail_type = events.entry_pending
        elif new.kind is EntryKind.REVERSAL:
            detail_type = events.entry_reversed
        else:
            detail_type = events.entry_posted
        return Publication(detail_type, events.event_id(new.id, detail_type), new, new.created_at)
    resolution = _resolutions.get(new.status)
    if old.status is not EntryStatus.PENDING or resolution is None:
        return None
    time = new.resolved_at or new.created_at
    return Publication(resolution, events.event_id(new.id, resolution), new, time)


def account_publication(old: Account | None, new: Account) -> Publication | None:
    """The event of an account's change; none for a sharded account's money."""
    if old is None:
        detail_type = events.account_created
    elif new == old or (new.shards > 1 and new.totals != old.totals):
        return None
    else:
        detail_type = events.account_updated
    event_id = events.event_id(new.id, detail_type, str(new.version), timestamp(new.updated_at))
    return Publication(detail_type, event_id, new, new.updated_at)
