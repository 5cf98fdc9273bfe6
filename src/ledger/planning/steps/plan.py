"""The operations of a write plan; each states its guard as a pure `violation` check.

The memory store runs `violation` to decide; the DynamoDB store renders the same rule as a
condition expression and, when DynamoDB cancels, calls `violation` on the returned item to
explain why.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ledger.domain.errors import (
    AccountInactive,
    AccountNotEmpty,
    AlreadyResolved,
    AlreadyReversed,
    CodeTaken,
    Conflict,
    CreditLimitInUse,
    CurrencyMismatch,
    IdempotencyKeyReused,
    InsufficientFunds,
    LedgerMismatch,
    NotFound,
    NotPending,
    PendingExpired,
    TypeMismatch,
    ValidationError,
)
from ledger.domain.model import (
    Account,
    AccountStatus,
    AccountType,
    Entry,
    EntryStatus,
    LedgerRecord,
    Metadata,
    Overdraft,
    OverdraftMode,
    Totals,
)
from ledger.domain.money import Currency, format_amount

ClaimKind = Literal["code", "key"]
ItemKind = Literal["ledger", "account", "entry", "code", "key"]


@dataclass(frozen=True)
class Claim:
    """An item that makes a value unique within a ledger: an account code, or the digest of
    the idempotency key that opened an account (whose id also depends on its currency)."""

    ledger_id: str
    kind: ClaimKind
    value: str
    account_id: str


Stored = LedgerRecord | Account | Entry | Claim | None


class Duplicate(Exception):
    """The item a plan creates exists already: the same idempotency key came back."""

    def __init__(self, existing: LedgerRecord | Account | Entry | Claim) -> None:
        super().__init__(f"{type(existing).__name__} exists already")
        self.existing = existing


@dataclass(frozen=True)
class Target:
    """The one item an operation writes or checks."""

    kind: ItemKind
    id: str


def claim_id(ledger_id: str, value: str) -> str:
    """The id of the uniqueness item for `value` in `ledger_id`."""
    return f"{ledger_id}#{value}"


@dataclass(frozen=True)
class PutNew:
    """Create a ledger, account or entry; exists already -> the same idempotency key came back."""

    record: LedgerRecord | Account | Entry

    @property
    def target(self) -> Target:
        """The item written."""
        record = self.record
        if isinstance(record, LedgerRecord):
            return Target("ledger", record.id)
        if isinstance(record, Account):
            return Target("account", record.id)
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
            return IdempotencyKeyReused(
                "this idempotency key was already used to open another account"
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


@dataclass(frozen=True)
class DeltaStep:
    """One batch operation's share of a merged delta: how it moves the account's headroom."""

    operation_index: int
    headroom: int


@dataclass(frozen=True)
class ApplyDelta:
    """Move one account's totals by an entry; `outflow` is what its headroom must cover.
    A batch's merged delta lists its operations' `steps`, in operation order."""

    account_id: str
    ledger_id: str
    currency: str
    entry_id: str
    at: datetime
    totals: Totals
    headroom: int
    outflow: int
    # Releasing a pending amount only ever gives money back, so it works on any account.
    require_active: bool = True
    steps: tuple[DeltaStep, ...] = ()

    @property
    def target(self) -> Target:
        """The item updated."""
        return Target("account", self.account_id)

    def violation(self, current: Stored) -> Exception | None:
        """Why the account cannot take this delta, if it cannot."""
        if not isinstance(current, Account):
            return NotFound("account", self.account_id)
        if self.require_active and current.status is not AccountStatus.ACTIVE:
            return AccountInactive(
                f"account {self.account_id} is {current.status}", {"account_id": self.account_id}
            )
        if current.currency.code != self.currency:
            return CurrencyMismatch(
                f"account {self.account_id} holds {current.currency.code}, not {self.currency}",
                {"account_id": self.account_id},
            )
        if current.ledger_id != self.ledger_id:
            return ledger_mismatch(self.account_id, current.ledger_id, self.ledger_id, None)
        is_floored = current.overdraft.mode is not OverdraftMode.ALLOW
        if self.outflow > 0 and is_floored and current.headroom < self.outflow:
            return self._insufficient(current)
        return None

    def _insufficient(self, current: Account) -> InsufficientFunds:
        currency = current.currency
        if not self.steps:
            return InsufficientFunds(
                f"account {self.account_id} cannot cover "
                f"{format_amount(self.outflow, currency)} {currency.code}",
                {"account_id": self.account_id},
            )
        step, spendable = _lasting_breach(self.steps, current.headroom)
        return InsufficientFunds(
            f"account {self.account_id} cannot cover "
            f"{format_amount(-step.headroom, currency)} {currency.code} "
            f"in operation {step.operation_index}: it could spend "
            f"{format_amount(max(0, spendable), currency)} {currency.code}",
            {"account_id": self.account_id, "operation_index": step.operation_index},
        )


def _lasting_breach(steps: tuple[DeltaStep, ...], headroom: int) -> tuple[DeltaStep, int]:
    """The step from which the headroom stays below zero to the end, and the headroom just
    before it. A batch is judged by its end state, so a dip that later operations make good
    breaks nothing; the step that starts the final dip is the one to blame."""
    before = [headroom]
    for step in steps[:-1]:
        before.append(before[-1] + step.headroom)
    first = len(steps) - 1
    while first > 0 and before[first] < 0:
        first -= 1
    return steps[first], before[first]


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


@dataclass(frozen=True)
class ChangeOverdraft:
    """Replace an account's overdraft policy, conditional on the one it had."""

    account_id: str
    previous: Overdraft
    overdraft: Overdraft
    at: datetime

    @property
    def target(self) -> Target:
        """The item updated."""
        return Target("account", self.account_id)

    @property
    def headroom_change(self) -> int:
        """Headroom moves by exactly the change of the credit limit."""
        return self.overdraft.credit_limit - self.previous.credit_limit

    @property
    def headroom_needed(self) -> int | None:
        """What the headroom must be now so it stays at or above zero; None for no floor."""
        if self.overdraft.mode is OverdraftMode.ALLOW:
            return None
        return -self.headroom_change

    def violation(self, current: Stored) -> Exception | None:
        """Why the policy cannot change, if it cannot."""
        if not isinstance(current, Account):
            return NotFound("account", self.account_id)
        if current.overdraft != self.previous:
            return Conflict(
                "the account's overdraft changed meanwhile; try again",
                {"outcome": "not_applied"},
            )
        needed = self.headroom_needed
        if needed is not None and current.headroom < needed:
            return CreditLimitInUse(
                f"account {self.account_id} uses more credit than the new limit allows",
                {"account_id": self.account_id, "field": "credit_limit"},
            )
        return None


Operation = (
    PutNew
    | ClaimUnique
    | EnsureWorld
    | RequireLedger
    | RequireParent
    | ApplyDelta
    | SetStatus
    | SetDetails
    | RegisterCurrency
    | ResolvePending
    | MarkReversed
    | ChangeOverdraft
)


@dataclass(frozen=True)
class WritePlan:
    """Operations applied all together or not at all, checked in order."""

    operations: tuple[Operation, ...]


def ledger_mismatch(
    account_id: str, actual: str, expected: str, field: str | None
) -> LedgerMismatch:
    details: dict[str, Any] = {"account_id": account_id}
    if field is not None:
        details["field"] = field
    return LedgerMismatch(
        f"account {account_id} belongs to ledger {actual}, not {expected}", details
    )


def shows_applied(operation: Operation, current: Stored) -> bool:
    """Whether `current` is exactly what this operation leaves behind, for the operations a
    second application refuses: a resolution, a status change, an overdraft change. After an
    attempt whose outcome is unknown, such a refusal is that attempt's own success."""
    match operation:
        case ResolvePending(status=status, posting_entry_id=posting_entry_id):
            return (
                isinstance(current, Entry)
                and current.status is status
                and current.posting_entry_id == posting_entry_id
            )
        case SetStatus(status=status):
            return isinstance(current, Account) and current.status is status
        case ChangeOverdraft(overdraft=overdraft):
            return isinstance(current, Account) and current.overdraft == overdraft
        case _:
            return False
