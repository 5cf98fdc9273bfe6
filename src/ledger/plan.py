"""Pure planning: a validated command becomes one atomic plan of conditional writes.

Each operation states its guard twice: `violation` evaluates it on a stored record (the
memory store runs it, and the DynamoDB store uses it to explain a cancelled
transaction), and the DynamoDB store renders the same rule as a condition expression.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from ledger import limits
from ledger.errors import (
    AccountInactive,
    AccountNotEmpty,
    CodeTaken,
    CurrencyMismatch,
    IdempotencyKeyReused,
    InsufficientFunds,
    LedgerMismatch,
    NotFound,
    TypeMismatch,
    UnbalancedEntry,
    ValidationError,
)
from ledger.ids import AccountRef, world_account_id
from ledger.model import (
    Account,
    AccountStatus,
    AccountType,
    Entry,
    EntryKind,
    EntryStatus,
    LedgerRecord,
    Line,
    Metadata,
    Overdraft,
    OverdraftMode,
    Side,
    Totals,
)
from ledger.money import Currency, format_amount

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
            return _ledger_mismatch(self.parent_id, current.ledger_id, self.ledger_id, "parent_id")
        if current.type is not self.type:
            return TypeMismatch(
                f"parent account {self.parent_id} is {current.type}, not {self.type}",
                {"field": "parent_id"},
            )
        return None


@dataclass(frozen=True)
class ApplyDelta:
    """Move one account's totals by an entry; `outflow` is what its headroom must cover."""

    account_id: str
    ledger_id: str
    currency: str
    entry_id: str
    at: datetime
    totals: Totals
    headroom: int
    outflow: int

    @property
    def target(self) -> Target:
        """The item updated."""
        return Target("account", self.account_id)

    def violation(self, current: Stored) -> Exception | None:
        """Why the account cannot take this delta, if it cannot."""
        if not isinstance(current, Account):
            return NotFound("account", self.account_id)
        if current.status is not AccountStatus.ACTIVE:
            return AccountInactive(
                f"account {self.account_id} is {current.status}", {"account_id": self.account_id}
            )
        if current.currency.code != self.currency:
            return CurrencyMismatch(
                f"account {self.account_id} holds {current.currency.code}, not {self.currency}",
                {"account_id": self.account_id},
            )
        if current.ledger_id != self.ledger_id:
            return _ledger_mismatch(self.account_id, current.ledger_id, self.ledger_id, None)
        is_floored = current.overdraft.mode is not OverdraftMode.ALLOW
        if self.outflow > 0 and is_floored and current.headroom < self.outflow:
            return InsufficientFunds(
                f"account {self.account_id} cannot cover "
                f"{format_amount(self.outflow, current.currency)} {current.currency.code}",
                {"account_id": self.account_id},
            )
        return None


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


Operation = (
    PutNew
    | ClaimUnique
    | EnsureWorld
    | RequireLedger
    | RequireParent
    | ApplyDelta
    | SetStatus
    | RegisterCurrency
)


@dataclass(frozen=True)
class WritePlan:
    """Operations applied all together or not at all, checked in order."""

    operations: tuple[Operation, ...]


def _ledger_mismatch(
    account_id: str, actual: str, expected: str, field: str | None
) -> LedgerMismatch:
    details: dict[str, Any] = {"account_id": account_id}
    if field is not None:
        details["field"] = field
    return LedgerMismatch(
        f"account {account_id} belongs to ledger {actual}, not {expected}", details
    )


def request_hash(payload: dict[str, Any]) -> str:
    """A digest of a request's meaning, to tell a replay from a reused idempotency key."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def plan_ledger(
    *, ledger_id: str, name: str, owner_id: str | None, metadata: Metadata, now: datetime
) -> tuple[LedgerRecord, WritePlan]:
    """Create a ledger."""
    record = LedgerRecord(
        id=ledger_id,
        name=name,
        owner_id=owner_id,
        metadata=metadata,
        currencies={},
        created_at=now,
        request_hash=request_hash({"name": name, "owner_id": owner_id, "metadata": metadata}),
    )
    return record, WritePlan((PutNew(record),))


def world_account(ledger_id: str, currency: Currency, now: datetime) -> Account:
    """The ledger's `world` account of `currency`: the outside, with no floor."""
    return Account(
        id=world_account_id(ledger_id, currency),
        ledger_id=ledger_id,
        name=f"World {currency.code}",
        type=AccountType.EQUITY,
        currency=currency,
        status=AccountStatus.ACTIVE,
        overdraft=Overdraft(OverdraftMode.ALLOW),
        created_at=now,
        updated_at=now,
        request_hash="",
        system=True,
    )


@dataclass(frozen=True)
class NewAccount:
    """A validated request to open an account."""

    account_id: str
    ledger_id: str
    name: str
    type: AccountType
    currency: Currency
    registered_currency: bool
    code: str | None
    parent: AccountRef | None
    owner_id: str | None
    overdraft: Overdraft
    metadata: Metadata
    key_digest: str | None


def plan_account(command: NewAccount, now: datetime) -> tuple[Account, WritePlan]:
    """Open an account, claim its code, and make sure its currency's `world` account exists."""
    parent = command.parent
    if parent is not None:
        if parent.ledger_id != command.ledger_id:
            raise _ledger_mismatch(parent.id, parent.ledger_id, command.ledger_id, "parent_id")
        if parent.is_world:
            raise ValidationError("parent_id", "a system account cannot be a parent")
        if parent.normal_balance is not command.type.normal_balance:
            raise TypeMismatch(
                f"parent account {parent.id} is not of type {command.type}", {"field": "parent_id"}
            )
    overdraft = command.overdraft
    account = Account(
        id=command.account_id,
        ledger_id=command.ledger_id,
        name=command.name,
        type=command.type,
        currency=command.currency,
        status=AccountStatus.ACTIVE,
        overdraft=overdraft,
        created_at=now,
        updated_at=now,
        request_hash=request_hash(
            {
                "ledger_id": command.ledger_id,
                "name": command.name,
                "type": command.type,
                "currency": [command.currency.code, command.currency.scale],
                "code": command.code,
                "parent_id": None if parent is None else parent.id,
                "owner_id": command.owner_id,
                "overdraft": [overdraft.mode, overdraft.credit_limit],
                "metadata": command.metadata,
            }
        ),
        code=command.code,
        parent_id=None if parent is None else parent.id,
        owner_id=command.owner_id,
        metadata=command.metadata,
        headroom=overdraft.credit_limit,
    )
    registered = command.currency if command.registered_currency else None
    operations: list[Operation] = [
        PutNew(account),
        RequireLedger(command.ledger_id, registered),
        EnsureWorld(world_account(command.ledger_id, command.currency, now)),
    ]
    if command.code is not None:
        operations.append(ClaimUnique(Claim(command.ledger_id, "code", command.code, account.id)))
    if command.key_digest is not None:
        claim = Claim(command.ledger_id, "key", command.key_digest, account.id)
        operations.append(ClaimUnique(claim))
    if parent is not None:
        operations.append(RequireParent(parent.id, command.ledger_id, command.type))
    return account, WritePlan(tuple(operations))


@dataclass(frozen=True)
class LineDraft:
    """A line before planning: the account's facts come from its id."""

    account: AccountRef
    side: Side
    amount: int


@dataclass(frozen=True)
class NewEntry:
    """A validated request to post a journal entry."""

    entry_id: str
    ledger_id: str
    kind: EntryKind
    lines: Sequence[LineDraft]
    description: str | None
    reference: str | None
    metadata: Metadata
    effective_at: datetime | None


def plan_entry(command: NewEntry, now: datetime) -> tuple[Entry, WritePlan]:
    """Post a balanced entry: one guarded update per account and the entry itself."""
    lines = command.lines
    _check_line_count(len(lines))
    seen: set[str] = set()
    for index, line in enumerate(lines):
        if line.account.ledger_id != command.ledger_id:
            raise _ledger_mismatch(
                line.account.id,
                line.account.ledger_id,
                command.ledger_id,
                f"lines[{index}].account_id",
            )
        if line.account.id in seen:
            raise ValidationError(
                f"lines[{index}].account_id",
                f"account {line.account.id} appears in more than one line",
            )
        seen.add(line.account.id)
    _check_balanced(lines)
    entry = Entry(
        id=command.entry_id,
        ledger_id=command.ledger_id,
        kind=command.kind,
        status=EntryStatus.POSTED,
        lines=tuple(
            Line(line.account.id, line.side, line.amount, line.account.currency.code)
            for line in lines
        ),
        effective_at=command.effective_at or now,
        created_at=now,
        request_hash=request_hash(
            {
                "ledger_id": command.ledger_id,
                "kind": command.kind,
                "lines": [[line.account.id, line.side, line.amount] for line in lines],
                "description": command.description,
                "reference": command.reference,
                "metadata": command.metadata,
                "effective_at": command.effective_at,
            }
        ),
        description=command.description,
        reference=command.reference,
        metadata=command.metadata,
    )
    deltas = tuple(_posted_delta(line, entry, now) for line in lines)
    return entry, WritePlan((PutNew(entry), *deltas))


def _check_line_count(count: int) -> None:
    if count < limits.lines_per_entry_min:
        raise ValidationError(
            "lines", f"an entry needs at least {limits.lines_per_entry_min} lines"
        )
    if count > limits.lines_per_entry_max:
        raise ValidationError("lines", f"an entry has at most {limits.lines_per_entry_max} lines")


def _check_balanced(lines: Sequence[LineDraft]) -> None:
    debits: dict[Currency, int] = defaultdict(int)
    credits: dict[Currency, int] = defaultdict(int)
    for line in lines:
        totals = debits if line.side is Side.DEBIT else credits
        totals[line.account.currency] += line.amount
    for currency in sorted(debits.keys() | credits.keys(), key=lambda each: each.code):
        if debits[currency] != credits[currency]:
            raise UnbalancedEntry(
                f"{currency.code} debits {format_amount(debits[currency], currency)} "
                f"do not equal credits {format_amount(credits[currency], currency)}",
                {
                    "currency": currency.code,
                    "debits": format_amount(debits[currency], currency),
                    "credits": format_amount(credits[currency], currency),
                },
            )


def _posted_delta(line: LineDraft, entry: Entry, now: datetime) -> ApplyDelta:
    """A posted line raises the account's headroom on its normal side and lowers it otherwise."""
    is_inflow = line.side is line.account.normal_balance
    return ApplyDelta(
        account_id=line.account.id,
        ledger_id=entry.ledger_id,
        currency=line.account.currency.code,
        entry_id=entry.id,
        at=now,
        totals=Totals(
            posted_debits=line.amount if line.side is Side.DEBIT else 0,
            posted_credits=line.amount if line.side is Side.CREDIT else 0,
        ),
        headroom=line.amount if is_inflow else -line.amount,
        outflow=0 if is_inflow else line.amount,
    )


def check_currency(line_currency: str | None, account: AccountRef, field: str) -> None:
    """A line that names its currency must name its account's."""
    if line_currency is not None and line_currency != account.currency.code:
        raise CurrencyMismatch(
            f"account {account.id} holds {account.currency.code}, not {line_currency}",
            {"field": field, "account_id": account.id},
        )
