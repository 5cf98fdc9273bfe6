"""What a store offers for derived events (DESIGN.md §7): the outbox, and the expiring
notice of a pending entry written with its event."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import datetime

    from ledger.domain.events import OutboxEvent


@runtime_checkable
class KeepsOutbox(Protocol):
    """A store with an outbox, from which the events consumer publishes."""

    def put_outbox(self, events: Sequence[OutboxEvent]) -> None:
        """Write the events, all or none; an event written already is left as it is."""

    def notice_expiring(self, entry_id: str, at: datetime, event: OutboxEvent) -> bool:
        """Mark the entry noticed at `at` and write `event` to the outbox, in one write,
        only if it is still pending and not noticed yet; whether this call wrote them."""
