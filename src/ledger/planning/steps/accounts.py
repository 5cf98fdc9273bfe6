"""Steps that change an account's status or details, or a ledger's currencies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.domain.errors import (
    AccountInactive,
    AccountNotEmpty,
    Conflict,
    NotFound,
    ValidationError,
)
from ledger.domain.model import Account, AccountShard, AccountStatus, LedgerRecord, Metadata
from ledger.domain.money import Currency
from ledger.planning.steps.targets import Stored, Target, account_target


@dataclass(frozen=True)
class SetStatus:
    """Change the status of an account's item (its own, or one `shard`'s); closed is final
    and needs zero balances. A sharded account's balances are the sum of its items, which
    no one item's condition can check: a close of one is planned from its balances as read
    and is conditional on each item still being at the `version` it was read at."""

    account_id: str
    status: AccountStatus
    at: datetime
    shard: int = 0
    version: int | None = None

    @property
    def target(self) -> Target:
        """The item updated."""
        return account_target(self.account_id, self.shard)

    def violation(self, current: Stored) -> Exception | None:
        """Why the status cannot change, if it cannot."""
        if not isinstance(current, Account | AccountShard):
            return NotFound("account", self.account_id)
        if current.status is AccountStatus.CLOSED:
            return AccountInactive(
                f"account {self.account_id} is closed", {"account_id": self.account_id}
            )
        if self.version is not None:
            if current.version != self.version:
                return Conflict(
                    f"account {self.account_id} moved while it was being closed; try again",
                    {"outcome": "not_applied"},
                )
            return None
        if self.status is AccountStatus.CLOSED and not current.totals.is_empty:
            return AccountNotEmpty(
                f"account {self.account_id} has a balance or pending entries",
                {"account_id": self.account_id},
            )
        return None


@dataclass(frozen=True)
class SetDetails:
    """Replace an account's name and/or metadata; None leaves that one as it is."""

    account_id: str
    name: str | None
    metadata: Metadata | None
    at: datetime

    @property
    def target(self) -> Target:
        """The item updated."""
        return Target("account", self.account_id)

    def violation(self, current: Stored) -> Exception | None:
        """Why the details cannot change, if they cannot: only a missing account."""
        if not isinstance(current, Account):
            return NotFound("account", self.account_id)
        return None


@dataclass(frozen=True)
class RegisterCurrency:
    """Add a currency to a ledger; registering the same scale again is a no-op."""

    ledger_id: str
    currency: Currency

    @property
    def target(self) -> Target:
        """The item updated."""
        return Target("ledger", self.ledger_id)

    def violation(self, current: Stored) -> Exception | None:
        """Why the currency cannot be registered, if it cannot."""
        if not isinstance(current, LedgerRecord):
            return NotFound("ledger", self.ledger_id)
        scale = current.currencies.get(self.currency.code)
        if scale is not None and scale != self.currency.scale:
            return ValidationError(
                "scale", f"currency {self.currency.code} is registered with scale {scale}"
            )
        return None
