"""What a store offers to warn of a pending entry's expiry: the notice and its event, once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from datetime import datetime

    from ledger.domain.events import OutboxEvent


@runtime_checkable
class NoticesExpiring(Protocol):
    """A store that can mark a pending entry noticed and write its event atomically."""

    def notice_expiring(self, entry_id: str, at: datetime, event: OutboxEvent) -> bool:
        """Mark the entry noticed at `at` and write `event` to the outbox, in one write,
        only if it is still pending and not noticed yet; whether this call wrote them."""
