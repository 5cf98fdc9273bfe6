"""Events the ledger publishes: their types, and the derived ones kept in the outbox.

An entry or an account change is published from its own item's stream record. An event
that is no image of a table change (a monitor crossing, a reconciliation result, an
expiring warning) is an `OutboxEvent`, written in the same transaction as the change that
causes it and published from the stream like the rest (DESIGN.md §7).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

source = "ledger"

entry_posted = "ledger.entry.posted"
entry_pending = "ledger.entry.pending"
entry_voided = "ledger.entry.voided"
entry_expired = "ledger.entry.expired"
entry_reversed = "ledger.entry.reversed"
entry_expiring = "ledger.entry.expiring"
account_created = "ledger.account.created"
account_updated = "ledger.account.updated"
monitor_triggered = "ledger.monitor.triggered"
monitor_resolved = "ledger.monitor.resolved"
reconciliation_completed = "ledger.reconciliation.completed"
reconciliation_mismatch = "ledger.reconciliation.mismatch"

detail_types = (
    entry_posted,
    entry_pending,
    entry_voided,
    entry_expired,
    entry_reversed,
    entry_expiring,
    account_created,
    account_updated,
    monitor_triggered,
    monitor_resolved,
    reconciliation_completed,
    reconciliation_mismatch,
)


def event_id(*facts: str) -> str:
    """A stable event id from the facts that make the event unique: the same change gives
    the same id on every delivery, which is what a consumer deduplicates by."""
    digest = hashlib.sha256("\x1f".join(facts).encode()).hexdigest()
    return f"evt_{digest[:32]}"


@dataclass(frozen=True)
class OutboxEvent:
    """A derived event, as the transaction that causes it writes it.

    `detail` is JSON-ready: the public view of the object the event is about plus
    `ledger_id` (and `account_id`, `version` for account-scoped events); `event_id` is
    added to it on publication. `trace_header` is the X-Ray trace of the change's cause.
    """

    event_id: str
    detail_type: str
    ledger_id: str
    time: datetime
    detail: dict[str, Any] = field(default_factory=dict)
    trace_header: str | None = None
