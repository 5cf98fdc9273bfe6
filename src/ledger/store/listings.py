"""The listings a store answers, by name: what the service asks for, never how an index
finds it (each store maps a listing to its own indexes)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.domain.errors import ValidationError
from ledger.domain.model import AccountType


@dataclass(frozen=True)
class LedgersOf:
    """Ledgers oldest first: one owner's or every one, and only the named ones if named (a
    key's scope: nothing outside them is examined, paged past or named by a cursor)."""

    owner_id: str | None
    named_ledgers: frozenset[str] | None = None
    caller: str | None = None


@dataclass(frozen=True)
class AccountsOf:
    """A ledger's accounts, optionally of one type and one owner or one parent."""

    ledger_id: str
    account_type: AccountType | None = None
    owner_id: str | None = None
    parent_id: str | None = None
    caller: str | None = None

    def __post_init__(self) -> None:
        if self.owner_id is not None and self.parent_id is not None:
            raise ValidationError(
                "owner_id", "filter accounts by owner_id or by parent_id, not both"
            )


@dataclass(frozen=True)
class EntriesOf:
    """A ledger's entries, newest first, optionally only those with one reference, and of
    those only the ones with a line on one account. (One account's entries of every
    reference are read from its history, not listed.)"""

    ledger_id: str
    reference: str | None = None
    account_id: str | None = None
    caller: str | None = None

    def __post_init__(self) -> None:
        if self.account_id is not None and self.reference is None:
            raise ValueError("an account's entries without a reference are read from its history")


@dataclass(frozen=True)
class ExpiredPending:
    """Pending entries of one expiry shard whose expiry is at or before `now`, oldest first."""

    shard: int
    now: datetime


Listing = LedgersOf | AccountsOf | EntriesOf | ExpiredPending
"""Every listing a store pages through; a cursor is good only for the listing (and the
caller) it was given to."""
