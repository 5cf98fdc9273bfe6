"""Pure planning: a validated command becomes one atomic plan of conditional writes."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from ledger.domain import limits
from ledger.domain.errors import (
    AlreadyResolved,
    AlreadyReversed,
    AmountExceedsPending,
    CurrencyMismatch,
    NotPending,
    PendingExpired,
    TypeMismatch,
    UnbalancedEntry,
    ValidationError,
)
from ledger.domain.ids import AccountRef, parse_account_id, world_account_id
from ledger.domain.model import (
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
from ledger.domain.money import Currency, format_amount
from ledger.planning.invariants import check_entry
from ledger.planning.steps import (
    ApplyDelta,
    ChangeOverdraft,
    Claim,
    ClaimUnique,
    EnsureWorld,
    MarkReversed,
    PutNew,
    RequireLedger,
    RequireParent,
    ResolvePending,
    Step,
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
    steps: list[Step] = [
        PutNew(account),
        RequireLedger(command.ledger_id, registered),
        EnsureWorld(world_account(command.ledger_id, command.currency, now)),
    ]
    if command.code is not None:
        steps.append(ClaimUnique(Claim(command.ledger_id, "code", command.code, account.id)))
    if command.key_digest is not None:
        claim = Claim(command.ledger_id, "key", command.key_digest, account.id)
        steps.append(ClaimUnique(claim))
    if parent is not None:
        steps.append(RequireParent(parent.id, command.ledger_id, command.type))
    return account, WritePlan(tuple(steps))


@dataclass(frozen=True)
class LineDraft:
    """A line before planning: the account's facts come from its id."""

    account: AccountRef
    side: Side
    amount: int


@dataclass(frozen=True)
class NewEntry:
    """A validated request to post a journal entry, or to create it pending."""

    entry_id: str
    ledger_id: str
    kind: EntryKind
    lines: Sequence[LineDraft]
    description: str | None
    reference: str | None
    metadata: Metadata
    effective_at: datetime | None
    pending: bool = False
    expires_in: int | None = None
    # Entries of one batch carry the batch's digest, so no entry of a changed batch replays.
    batch_hash: str | None = None


def plan_entry(command: NewEntry, now: datetime) -> tuple[Entry, WritePlan]:
    """Post a balanced entry (or create it pending): one guarded update per account and the
    entry itself."""
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
    expires_in = command.expires_in
    entry = Entry(
        id=command.entry_id,
        ledger_id=command.ledger_id,
        kind=command.kind,
        status=EntryStatus.PENDING if command.pending else EntryStatus.POSTED,
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
                "pending": command.pending,
                "expires_in": expires_in,
                "batch": command.batch_hash,
            }
        ),
        description=command.description,
        reference=command.reference,
        metadata=command.metadata,
        expires_at=None if expires_in is None else now + timedelta(seconds=expires_in),
    )
    check_entry(entry)
    deltas = []
    for index, line in enumerate(lines):
        reserved = line.amount if index == 0 and command.kind in _reserving_kinds else 0
        movement = (
            _Movement(pending=line.amount, reserved=reserved)
            if command.pending
            else _Movement(posted=line.amount)
        )
        deltas.append(_delta(line.account, line.side, movement, entry, now))
    return entry, WritePlan((PutNew(entry), *deltas))


# The first line of a hold or escrow is the payer's; its pending outflow is also counted
# in the payer's `held` or `escrowed`.
_reserving_kinds = (EntryKind.HOLD, EntryKind.ESCROW)


def posting_request_hash(pending_id: str, amount: int | None) -> str:
    """What identifies a request to post a pending entry."""
    return request_hash({"pending_id": pending_id, "amount": amount})


def reversal_request_hash(original_id: str, description: str | None) -> str:
    """What identifies a request to reverse an entry."""
    return request_hash({"reverses": original_id, "description": description})


def plan_post(
    pending: Entry, posting_entry_id: str, amount: int | None, now: datetime
) -> tuple[Entry, Entry, WritePlan]:
    """Post a pending entry, fully or (two lines only) for less, releasing the rest."""
    _check_resolvable(pending)
    if pending.expires_at is not None and pending.expires_at <= now:
        raise PendingExpired(
            f"entry {pending.id} expired and can no longer be posted", {"entry_id": pending.id}
        )
    if amount is not None and len(pending.lines) != 2:
        raise ValidationError("amount", "only a two-line pending entry can be posted for less")
    if amount is not None and amount > pending.lines[0].amount:
        raise AmountExceedsPending(
            f"entry {pending.id} holds less than the amount to post", {"entry_id": pending.id}
        )
    posted_lines = tuple(
        replace(line, amount=line.amount if amount is None else amount) for line in pending.lines
    )
    posting = Entry(
        id=posting_entry_id,
        ledger_id=pending.ledger_id,
        kind=EntryKind.POST,
        status=EntryStatus.POSTED,
        lines=posted_lines,
        effective_at=now,
        created_at=now,
        request_hash=posting_request_hash(pending.id, amount),
        description=pending.description,
        reference=pending.reference,
        pending_id=pending.id,
    )
    check_entry(posting)
    whole = _single_amount(pending)
    posted_amount = whole if amount is None or whole is None else amount
    released_amount = None if whole is None or posted_amount is None else whole - posted_amount
    resolve = ResolvePending(
        pending.id, EntryStatus.POSTED, now, posting.id, posted_amount, released_amount
    )
    resolved = _resolved(pending, resolve)
    deltas = []
    for index, (held, posted) in enumerate(zip(pending.lines, posted_lines, strict=True)):
        reserved = -held.amount if index == 0 and pending.kind in _reserving_kinds else 0
        movement = _Movement(posted=posted.amount, pending=-held.amount, reserved=reserved)
        account = parse_account_id(held.account_id)
        deltas.append(_delta(account, held.side, movement, posting, now, purpose=pending.kind))
    return posting, resolved, WritePlan((PutNew(posting), resolve, *deltas))


def plan_void(
    pending: Entry, now: datetime, status: EntryStatus = EntryStatus.VOIDED
) -> tuple[Entry, WritePlan]:
    """Release a pending entry, voided by a caller or expired by the sweeper."""
    _check_resolvable(pending)
    deltas = []
    for index, line in enumerate(pending.lines):
        reserved = -line.amount if index == 0 and pending.kind in _reserving_kinds else 0
        movement = _Movement(pending=-line.amount, reserved=reserved)
        account = parse_account_id(line.account_id)
        deltas.append(_delta(account, line.side, movement, pending, now, require_active=False))
    whole = _single_amount(pending)
    resolve = ResolvePending(pending.id, status, now, None, None if whole is None else 0, whole)
    return _resolved(pending, resolve), WritePlan((resolve, *deltas))


def _single_amount(entry: Entry) -> int | None:
    """What an entry moves: the sum of its debit lines; None when its lines hold several
    currencies, which no one amount can describe."""
    if len({line.currency for line in entry.lines}) > 1:
        return None
    return sum(line.amount for line in entry.lines if line.side is Side.DEBIT)


def _resolved(pending: Entry, resolve: ResolvePending) -> Entry:
    """The pending entry as its resolution leaves it."""
    return replace(
        pending,
        status=resolve.status,
        posting_entry_id=resolve.posting_entry_id,
        posted_amount=resolve.posted_amount,
        released_amount=resolve.released_amount,
    )


def _check_resolvable(pending: Entry) -> None:
    check_entry(pending)
    if not pending.was_pending:
        raise NotPending(f"entry {pending.id} was never pending", {"entry_id": pending.id})
    if pending.status is not EntryStatus.PENDING:
        raise AlreadyResolved(
            f"entry {pending.id} is {pending.status} already", {"entry_id": pending.id}
        )


def plan_reversal(
    original: Entry, reversal_id: str, description: str | None, now: datetime
) -> tuple[Entry, WritePlan]:
    """Mirror a posted entry's lines in a new entry, linked both ways; guards still apply."""
    if original.reversed_by is not None:
        raise AlreadyReversed(
            f"entry {original.id} was reversed by {original.reversed_by}",
            {"entry_id": original.id, "reversed_by": original.reversed_by},
        )
    if original.was_pending:
        target = "its posting entry" if original.posting_entry_id else "void it"
        raise NotPending(
            f"entry {original.id} was created pending: reverse {target} instead",
            {"entry_id": original.id, "posting_entry_id": original.posting_entry_id},
        )
    reversal = Entry(
        id=reversal_id,
        ledger_id=original.ledger_id,
        kind=EntryKind.REVERSAL,
        status=EntryStatus.POSTED,
        lines=tuple(replace(line, side=line.side.opposite) for line in original.lines),
        effective_at=now,
        created_at=now,
        request_hash=reversal_request_hash(original.id, description),
        description=description,
        reference=original.reference,
        reverses=original.id,
    )
    check_entry(original)
    check_entry(reversal)
    deltas = [
        _delta(
            parse_account_id(line.account_id),
            line.side,
            _Movement(posted=line.amount),
            reversal,
            now,
        )
        for line in reversal.lines
    ]
    return reversal, WritePlan((PutNew(reversal), MarkReversed(original.id, reversal.id), *deltas))


def plan_overdraft_change(account: Account, overdraft: Overdraft, now: datetime) -> WritePlan:
    """Replace an account's overdraft policy; its headroom moves by the change of limit."""
    if account.system:
        raise ValidationError("overdraft", "a system account's overdraft cannot change")
    return WritePlan((ChangeOverdraft(account.id, account.overdraft, overdraft, now),))


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


@dataclass(frozen=True)
class _Movement:
    """How one line moves its account: signed changes to the totals of the line's side."""

    posted: int = 0
    pending: int = 0
    reserved: int = 0


def _delta(
    account: AccountRef,
    side: Side,
    movement: _Movement,
    entry: Entry,
    now: datetime,
    *,
    purpose: EntryKind | None = None,
    require_active: bool = True,
) -> ApplyDelta:
    """Posted amounts raise headroom on the account's normal side and lower it on the other;
    pending amounts lower it only on the other (pending inflows never count). Whatever lowers
    headroom must be covered by it."""
    is_inflow = side is account.normal_balance
    headroom = movement.posted if is_inflow else -(movement.posted + movement.pending)
    is_debit = side is Side.DEBIT
    reserving = purpose or entry.kind
    return ApplyDelta(
        account_id=account.id,
        ledger_id=entry.ledger_id,
        currency=account.currency.code,
        entry_id=entry.id,
        at=now,
        totals=Totals(
            posted_debits=movement.posted if is_debit else 0,
            posted_credits=0 if is_debit else movement.posted,
            pending_debits=movement.pending if is_debit else 0,
            pending_credits=0 if is_debit else movement.pending,
            held=movement.reserved if reserving is EntryKind.HOLD else 0,
            escrowed=movement.reserved if reserving is EntryKind.ESCROW else 0,
        ),
        headroom=headroom,
        outflow=max(0, -headroom),
        require_active=require_active,
    )


def check_currency(line_currency: str | None, account: AccountRef, field: str) -> None:
    """A line that names its currency must name its account's."""
    if line_currency is not None and line_currency != account.currency.code:
        raise CurrencyMismatch(
            f"account {account.id} holds {account.currency.code}, not {line_currency}",
            {"field": field, "account_id": account.id},
        )
