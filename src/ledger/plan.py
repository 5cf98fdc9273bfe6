"""Pure planning: a validated command becomes one atomic plan of conditional writes."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger import limits
from ledger.errors import CurrencyMismatch, TypeMismatch, UnbalancedEntry, ValidationError
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
from ledger.operations import (
    ApplyDelta,
    Claim,
    ClaimUnique,
    EnsureWorld,
    Operation,
    PutNew,
    RequireLedger,
    RequireParent,
    WritePlan,
    ledger_mismatch,
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
            raise ledger_mismatch(parent.id, parent.ledger_id, command.ledger_id, "parent_id")
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
            raise ledger_mismatch(
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
