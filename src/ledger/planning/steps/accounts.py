"""Steps that change an account's status or details, or a ledger's currencies."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.domain.errors import AccountInactive, AccountNotEmpty, NotFound, ValidationError
from ledger.domain.model import Account, AccountStatus, LedgerRecord, Metadata
from ledger.domain.money import Currency
from ledger.planning.steps.targets import Stored, Target


@dataclass(frozen=True)
class SetStatus:
    """Change an account's status; closed is final and needs zero balances."""

    account_id: str
    status: AccountStatus
    at: datetime

    @property
    def target(self) -> Target:
        """The item updated."""
        return Target("account", self.account_id)

    def violation(self, current: Stored) -> Exception | None:
        """Why the status cannot change, if it cannot."""
        if not isinstance(current, Account):
            return NotFound("account", self.account_id)
        if current.status is AccountStatus.CLOSED:
            return AccountInactive(
                f"account {self.account_id} is closed", {"account_id": self.account_id}
            )
        totals = current.totals
        is_empty = (
            totals.posted_debits == totals.posted_credits
            and totals.pending_debits == 0
            and totals.pending_credits == 0
        )
        if self.status is AccountStatus.CLOSED and not is_empty:
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
