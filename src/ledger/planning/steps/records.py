"""Steps that create records and check the records they depend on."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.domain.errors import (
    CodeTaken,
    IdempotencyKeyReused,
    NotFound,
    TypeMismatch,
    ValidationError,
)
from ledger.domain.model import Account, AccountShard, AccountType, Entry, LedgerRecord
from ledger.domain.money import Currency
from ledger.planning.steps.targets import (
    Claim,
    Duplicate,
    Stored,
    Target,
    account_target,
    claim_id,
    ledger_claim,
    ledger_mismatch,
)


@dataclass(frozen=True)
class PutNew:
    """Create a ledger, account (or one of its shards) or entry; exists already -> the same
    idempotency key came back."""

    record: LedgerRecord | Account | AccountShard | Entry

    @property
    def target(self) -> Target:
        """The item written."""
        record = self.record
        if isinstance(record, LedgerRecord):
            return Target("ledger", record.id)
        if isinstance(record, Account):
            return Target("account", record.id)
        if isinstance(record, AccountShard):
            return account_target(record.account_id, record.index)
        return Target("entry", record.id)

    def violation(self, current: Stored) -> Exception | None:
        """Why the put cannot happen, if it cannot."""
        return None if current is None else Duplicate(current)


@dataclass(frozen=True)
class ClaimUnique:
    """Take a code (taken -> code_taken) or an account key (taken -> idempotency_key_reused)."""

    claim: Claim

    @property
    def target(self) -> Target:
        """The item written."""
        return Target(self.claim.kind, claim_id(self.claim.ledger_id, self.claim.value))

    def violation(self, current: Stored) -> Exception | None:
        """Why the claim cannot happen, if it cannot."""
        if current is None:
            return None
        if self.claim.kind == "key":
            opened = "ledger" if self.claim.value == ledger_claim else "account"
            return IdempotencyKeyReused(
                f"this idempotency key was already used to open another {opened}"
            )
        return CodeTaken(
            f"code {self.claim.value!r} is taken in ledger {self.claim.ledger_id}",
            {"field": "code", "code": self.claim.value},
        )


@dataclass(frozen=True)
class EnsureWorld:
    """Create the ledger's `world` account of a currency unless it exists; never fails."""

    account: Account

    @property
    def target(self) -> Target:
        """The item written."""
        return Target("account", self.account.id)

    def violation(self, current: Stored) -> Exception | None:
        """Creating or finding the world account cannot fail."""
        return None


@dataclass(frozen=True)
class RequireLedger:
    """The ledger exists and, for a registered currency, has it with this scale."""

    ledger_id: str
    registered_currency: Currency | None

    @property
    def target(self) -> Target:
        """The item checked."""
        return Target("ledger", self.ledger_id)

    def violation(self, current: Stored) -> Exception | None:
        """Why the check fails, if it does."""
        if not isinstance(current, LedgerRecord):
            return NotFound("ledger", self.ledger_id)
        currency = self.registered_currency
        if currency is not None and current.currencies.get(currency.code) != currency.scale:
            return ValidationError(
                "currency", f"currency {currency.code} is not registered in this ledger"
            )
        return None


@dataclass(frozen=True)
class RequireParent:
    """The parent account exists in the same ledger with the same type."""

    parent_id: str
    ledger_id: str
    type: AccountType

    @property
    def target(self) -> Target:
        """The item checked."""
        return Target("account", self.parent_id)

    def violation(self, current: Stored) -> Exception | None:
        """Why the check fails, if it does."""
        if not isinstance(current, Account):
            return NotFound("account", self.parent_id)
        if current.ledger_id != self.ledger_id:
            return ledger_mismatch(self.parent_id, current.ledger_id, self.ledger_id, "parent_id")
        if current.type is not self.type:
            return TypeMismatch(
                f"parent account {self.parent_id} is {current.type}, not {self.type}",
                {"field": "parent_id"},
            )
        return None
