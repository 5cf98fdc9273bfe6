"""Warnings before expiry: one `ledger.entry.expiring` per pending entry, a set time before
its `expires_at`, so the system that made a hold can confirm or extend it in time."""

from __future__ import annotations

from datetime import datetime, timedelta

from ledger.domain import events, limits
from ledger.domain.errors import ValidationError
from ledger.domain.events import OutboxEvent
from ledger.domain.model import Entry
from ledger.domain.views import entry_view
from ledger.service.base import LedgerBase
from ledger.store.outbox import KeepsOutbox

default_notice_s = 3600


class Expiring(LedgerBase):
    """The expiring notices of pending entries."""

    def notice_expiring(self, notice_s: int = default_notice_s) -> int:
        """Write the expiring event of every pending entry that expires within `notice_s`
        seconds and has had none, in bounded pages; returns how many were written. An
        entry already past its expiry is the expiry sweep's, not a notice's."""
        if not 0 < notice_s <= limits.expires_in_s_max:
            raise ValidationError("notice_s", "the notice is a positive number of seconds")
        store = self._store
        if not isinstance(store, KeepsOutbox):
            raise TypeError(f"{type(store).__name__} cannot write expiring notices")
        now = self._clock()
        horizon = now + timedelta(seconds=notice_s)
        return sum(
            store.notice_expiring(entry.id, now, expiring_event(entry, now))
            for entry in self._pending_expiring_by(horizon)
            if _due(entry, now)
        )


def _due(entry: Entry, now: datetime) -> bool:
    expires_at = entry.expires_at
    return entry.expiring_noticed_at is None and expires_at is not None and expires_at > now


def expiring_event(entry: Entry, now: datetime) -> OutboxEvent:
    """The expiring event of a pending entry: the entry as it stands, dated now."""
    return OutboxEvent(
        event_id=events.event_id(entry.id, events.entry_expiring),
        detail_type=events.entry_expiring,
        ledger_id=entry.ledger_id,
        time=now,
        detail=entry_view(entry),
        trace_header=None if entry.actor is None else entry.actor.trace_header,
    )
