"""Steps that resolve a pending entry or mark an entry reversed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.domain.errors import (
    AlreadyResolved,
    AlreadyReversed,
    NotFound,
    NotPending,
    PendingExpired,
)
from ledger.domain.model import Entry, EntryStatus
from ledger.planning.steps.targets import Stored, Target


@dataclass(frozen=True)
class ResolvePending:
    """Move a pending entry to posted, voided or expired, exactly once, recording how much of
    it was posted and how much released (None for an entry of several currencies)."""

    entry_id: str
    status: EntryStatus
    at: datetime
    posting_entry_id: str | None = None
    posted_amount: int | None = None
    released_amount: int | None = None

    @property
    def target(self) -> Target:
        """The item updated."""
        return Target("entry", self.entry_id)

    def violation(self, current: Stored) -> Exception | None:
        """Why the entry cannot resolve this way, if it cannot."""
        if not isinstance(current, Entry):
            return NotFound("entry", self.entry_id)
        if current.status is not EntryStatus.PENDING:
            return AlreadyResolved(
                f"entry {self.entry_id} is {current.status} already", {"entry_id": self.entry_id}
            )
        is_expired = current.expires_at is not None and current.expires_at <= self.at
        if self.status is EntryStatus.POSTED and is_expired:
            return PendingExpired(
                f"entry {self.entry_id} expired and can no longer be posted",
                {"entry_id": self.entry_id},
            )
        if self.status is EntryStatus.EXPIRED and not is_expired:
            return NotPending(
                f"entry {self.entry_id} has not reached its expiry", {"entry_id": self.entry_id}
            )
        return None


@dataclass(frozen=True)
class MarkReversed:
    """Link a posted entry to its reversal; an entry is reversed at most once."""

    entry_id: str
    reversal_id: str

    @property
    def target(self) -> Target:
        """The item updated."""
        return Target("entry", self.entry_id)

    def violation(self, current: Stored) -> Exception | None:
        """Why the entry cannot be reversed, if it cannot."""
        if not isinstance(current, Entry):
            return NotFound("entry", self.entry_id)
        if current.reversed_by is not None:
            return AlreadyReversed(
                f"entry {self.entry_id} was reversed by {current.reversed_by}",
                {"entry_id": self.entry_id, "reversed_by": current.reversed_by},
            )
        if current.was_pending:
            return NotPending(
                f"entry {self.entry_id} was created pending: it is posted or voided, not reversed",
                {"entry_id": self.entry_id},
            )
        return None
