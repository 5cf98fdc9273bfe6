"""Planning entries: a validated entry command, or a reversal, becomes one atomic plan."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from ledger.domain import limits
from ledger.domain.errors import AlreadyReversed, NotPending, UnbalancedEntry, ValidationError
from ledger.domain.model import Actor, Entry, EntryKind, EntryStatus, Line, Side
from ledger.domain.money import Currency, format_amount
from ledger.planning.commands import LineDraft, NewEntry
from ledger.planning.deltas import entry_deltas
from ledger.planning.hashing import request_hash, reversal_request_hash
from ledger.planning.invariants import check_entry
from ledger.planning.steps import MarkReversed, PutNew, WritePlan, ledger_mismatch


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
        request_hash=command.request_hash
        or request_hash(
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
        actor=command.actor,
        posting_rule=command.posting_rule,
    )
    check_entry(entry)
    deltas = entry_deltas(entry, now)
    return entry, WritePlan((PutNew(entry), *deltas))


def plan_reversal(
    original: Entry,
    reversal_id: str,
    description: str | None,
    now: datetime,
    actor: Actor | None = None,
) -> tuple[Entry, WritePlan]:
    """Mirror a posted entry's lines in a new entry, linked both ways; guards still apply.
    The reversal carries the actor of the call that reverses, not the original's."""
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
        actor=actor,
    )
    check_entry(original)
    check_entry(reversal)
    deltas = entry_deltas(reversal, now)
    return reversal, WritePlan((PutNew(reversal), MarkReversed(original.id, reversal.id), *deltas))


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
