"""Atomic batches: many operations as one transaction, each account updated once (pure)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, fields, replace
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar, cast

from ledger.domain import limits, validate
from ledger.domain.errors import LedgerError, LedgerMismatch, ValidationError
from ledger.domain.ids import new_entry_id
from ledger.domain.model import Entry, EntryKind, Side, Totals
from ledger.planning.commands import (
    Amount,
    EntryOptions,
    LineDraft,
    LineInput,
    NewEntry,
    PendingTerms,
    conversion_drafts,
    entry_command,
    line_drafts,
    two_line_drafts,
)
from ledger.planning.entries import plan_entry
from ledger.planning.hashing import request_hash
from ledger.planning.steps import ApplyDelta, DeltaShare, PutNew, WritePlan

T = TypeVar("T")


class OperationType(StrEnum):
    """What a batch operation does: a preset, a conversion or a raw entry."""

    DEPOSIT = "deposit"
    REFUND = "refund"
    WITHDRAWAL = "withdrawal"
    SPEND = "spend"
    TRANSFER = "transfer"
    HOLD = "hold"
    ESCROW = "escrow"
    CONVERSION = "conversion"
    ENTRY = "entry"


_kinds = {
    OperationType.DEPOSIT: EntryKind.DEPOSIT,
    OperationType.REFUND: EntryKind.REFUND,
    OperationType.WITHDRAWAL: EntryKind.WITHDRAWAL,
    OperationType.SPEND: EntryKind.SPEND,
    OperationType.TRANSFER: EntryKind.TRANSFER,
    OperationType.HOLD: EntryKind.HOLD,
    OperationType.ESCROW: EntryKind.ESCROW,
    OperationType.CONVERSION: EntryKind.CONVERSION,
    OperationType.ENTRY: EntryKind.ENTRY,
}
_option_fields = ("description", "reference", "metadata", "effective_at")
_line_fields = frozenset({"account_id", "side", "amount", "currency"})

# Each operation type: the fields it takes besides the common options.
_fields: dict[str, frozenset[str]] = {
    "deposit": frozenset({"account_id", "amount", "counterparty_account_id"}),
    "refund": frozenset({"account_id", "amount", "counterparty_account_id"}),
    "withdrawal": frozenset({"account_id", "amount", "counterparty_account_id"}),
    "spend": frozenset({"account_id", "amount", "counterparty_account_id"}),
    "transfer": frozenset({"from_account_id", "to_account_id", "amount"}),
    "hold": frozenset({"account_id", "amount", "counterparty_account_id", "expires_in"}),
    "escrow": frozenset({"buyer_account_id", "seller_account_id", "amount", "expires_in"}),
    "conversion": frozenset({"from_account_id", "to_account_id", "from_amount", "to_amount"}),
    "entry": frozenset({"ledger_id", "lines"}),
}


@dataclass(frozen=True)
class BatchResult:
    """The entries a batch wrote, in operation order, and what netting saved."""

    entries: list[Entry]
    items_saved: int
    replayed: bool = False


@dataclass(frozen=True)
class _Drafted:
    """One operation turned into lines, before ids and validation of its options."""

    index: int
    kind: EntryKind
    lines: list[LineDraft]
    options: EntryOptions
    pending: PendingTerms | None


@dataclass(frozen=True)
class BatchPlan:
    """A batch's entries and its one plan; `owners` maps accounts to the first operation
    that moves them, so a refusal names its operation."""

    entries: list[Entry]
    plan: WritePlan
    owners: dict[str, int]
    items_saved: int


def plan_batch(
    operations: Sequence[Mapping[str, Any]], idempotency_key: str | None, net: bool, now: datetime
) -> BatchPlan:
    """All operations as one plan: every entry, and one merged update per account."""
    if not 1 <= len(operations) <= limits.batch_operations_max:
        raise ValidationError(
            "operations", f"a batch has 1 to {limits.batch_operations_max} operations"
        )
    drafted = [_attributed(index, _draft, index, spec) for index, spec in enumerate(operations)]
    ledger_id = drafted[0].lines[0].account.ledger_id
    netted = _net(drafted) if net else drafted
    batch_hash = _fingerprint(drafted, net)
    entries: list[Entry] = []
    deltas: list[tuple[int, ApplyDelta]] = []
    owners: dict[str, int] = {}
    for position, draft in enumerate(netted):
        key = None if idempotency_key is None else f"{idempotency_key}\0{position}"
        command = _attributed(draft.index, _command, draft, ledger_id, key, batch_hash)
        entry, plan = _attributed(draft.index, plan_entry, command, now)
        entries.append(entry)
        for step in plan.steps:
            if isinstance(step, ApplyDelta):
                deltas.append((draft.index, step))
                owners.setdefault(step.account_id, draft.index)
    merged = _merge(deltas)
    if len(entries) + len(merged) > limits.transaction_items_max:
        raise ValidationError(
            "operations",
            f"the batch writes {len(entries) + len(merged)} items; "
            f"one transaction holds {limits.transaction_items_max}",
        )
    plan = WritePlan((*(PutNew(entry) for entry in entries), *merged))
    return BatchPlan(entries, plan, owners, len(drafted) - len(netted))


def operation_of(error: LedgerError, owners: dict[str, int]) -> LedgerError:
    """The error with the index of the operation it concerns, where an account names it:
    the first operation that moves the account, unless the error named its own."""
    account_id = error.details.get("account_id", error.details.get("id"))
    if account_id in owners:
        error.details.setdefault("operation_index", owners[account_id])
    return error


def _attributed(index: int, function: Callable[..., T], *arguments: Any) -> T:
    """Call `function`; a refusal it raises names operation `index`."""
    try:
        return function(*arguments)
    except LedgerError as error:
        raise _attributed_error(index, error) from None


def _draft(index: int, spec: Mapping[str, Any]) -> _Drafted:
    if not isinstance(spec, Mapping):
        raise ValidationError("operations", "each operation is an object with a type")
    kind = validate.choice("type", OperationType, spec.get("type"))
    allowed = _fields[kind] | set(_option_fields) | {"type"}
    unknown = sorted(set(spec) - allowed)
    if unknown:
        raise ValidationError(unknown[0], f"a {kind} operation takes no field {unknown[0]!r}")
    options = cast("EntryOptions", {name: spec[name] for name in _option_fields if name in spec})
    pending = None
    if kind in (OperationType.HOLD, OperationType.ESCROW):
        pending = PendingTerms(spec.get("expires_in"))
    if kind is OperationType.CONVERSION:
        lines = conversion_drafts(
            _id(spec, "from_account_id"),
            _id(spec, "to_account_id"),
            _amount(spec, "from_amount"),
            _amount(spec, "to_amount"),
        )
    elif kind is OperationType.ENTRY:
        raw = spec.get("lines")
        if not isinstance(raw, list) or len(raw) < limits.lines_per_entry_min:
            raise ValidationError(
                "lines", f"an entry is a list of at least {limits.lines_per_entry_min} lines"
            )
        lines = line_drafts([_line(line) for line in raw])
        named = spec.get("ledger_id")
        if named is not None and named != lines[0].account.ledger_id:
            raise LedgerMismatch(
                f"the entry's lines belong to ledger {lines[0].account.ledger_id}, not {named}",
                {"field": "ledger_id"},
            )
    elif kind in (OperationType.TRANSFER, OperationType.ESCROW):
        payer, payee = ("from", "to") if kind is OperationType.TRANSFER else ("buyer", "seller")
        lines = two_line_drafts(
            _id(spec, f"{payer}_account_id"),
            _id(spec, f"{payee}_account_id"),
            _amount(spec, "amount"),
            inflow=False,
        )
    else:
        lines = two_line_drafts(
            _id(spec, "account_id"),
            _optional_id(spec, "counterparty_account_id"),
            _amount(spec, "amount"),
            inflow=kind in (OperationType.DEPOSIT, OperationType.REFUND),
        )
    return _Drafted(index, _kinds[kind], lines, options, pending)


def _id(spec: Mapping[str, Any], field: str) -> str:
    value = spec.get(field)
    if not isinstance(value, str):
        raise ValidationError(field, f"{field} is required")
    return value


def _optional_id(spec: Mapping[str, Any], field: str) -> str | None:
    return None if spec.get(field) is None else _id(spec, field)


def _amount(spec: Mapping[str, Any], field: str) -> Amount:
    value = spec.get(field)
    if value is None:
        raise ValidationError(field, f"{field} is required")
    return cast("Amount", value)


def _line(line: object) -> LineInput:
    if not isinstance(line, Mapping):
        raise ValidationError("lines", "each line is an object with account_id, side, amount")
    unknown = sorted(set(line) - _line_fields)
    if unknown:
        raise ValidationError(unknown[0], f"a line takes no field {unknown[0]!r}")
    return LineInput(
        _id(line, "account_id"),
        str(line.get("side")),
        _amount(line, "amount"),
        line.get("currency"),
    )


def _command(draft: _Drafted, ledger_id: str, key: str | None, batch_hash: str) -> NewEntry:
    return entry_command(
        new_entry_id(ledger_id, key),
        ledger_id,
        draft.kind,
        draft.lines,
        draft.options,
        pending=draft.pending,
        batch_hash=batch_hash,
    )


_NettingKey = tuple[frozenset[str], str]


def _net(drafted: list[_Drafted]) -> list[_Drafted]:
    """Replace the transfers between each pair of accounts that carry identical options by
    one entry of the net amount (none where they cancel out), in the place of the first of
    them: a netted entry keeps every reference, description, metadata and effective time.
    Direction is which account is debited, so accounts of either normal side net correctly."""
    totals: dict[_NettingKey, int] = {}
    firsts: dict[_NettingKey, _Drafted] = {}
    for draft in drafted:
        if draft.kind is EntryKind.TRANSFER:
            key = _netting_key(draft)
            first = firsts.setdefault(key, draft)
            same_way = _debited(draft) == _debited(first)
            amount = draft.lines[0].amount
            totals[key] = totals.get(key, 0) + (amount if same_way else -amount)
    netted = []
    for draft in drafted:
        if draft.kind is not EntryKind.TRANSFER:
            netted.append(draft)
            continue
        key = _netting_key(draft)
        total = totals[key]
        if firsts[key] is not draft or total == 0:
            continue
        if abs(total) > limits.amount_minor_max:
            raise _attributed_error(
                draft.index, ValidationError("amount", "the netted amount is larger than allowed")
            )
        # The other way round: the second account pays, so it comes first, as in a transfer.
        ordered = draft.lines if total > 0 else draft.lines[::-1]
        lines = [
            LineDraft(line.account, line.side if total > 0 else line.side.opposite, abs(total))
            for line in ordered
        ]
        netted.append(replace(draft, lines=lines))
    return netted


def _netting_key(draft: _Drafted) -> _NettingKey:
    """Transfers net together only between the same two accounts and with the same options
    (an option given as null is the option left out)."""
    options = {name: value for name, value in draft.options.items() if value is not None}
    return frozenset(line.account.id for line in draft.lines), request_hash(options)


def _debited(draft: _Drafted) -> str:
    return next(line.account.id for line in draft.lines if line.side is Side.DEBIT)


def _attributed_error(index: int, error: LedgerError) -> LedgerError:
    error.details["operation_index"] = index
    return error


def _fingerprint(drafted: list[_Drafted], net: bool) -> str:
    """The batch's meaning after validation: amounts in minor units, so "10" and "10.00"
    are the same batch."""
    return request_hash(
        {
            "net": net,
            "operations": [
                {
                    "kind": draft.kind,
                    "lines": [[line.account.id, line.side, line.amount] for line in draft.lines],
                    "options": dict(draft.options),
                    "expires_in": None if draft.pending is None else draft.pending.expires_in,
                }
                for draft in drafted
            ],
        }
    )


def _merge(deltas: list[tuple[int, ApplyDelta]]) -> list[ApplyDelta]:
    """One update per account: the sum of its changes, guarded by its total outflow, with
    each operation's share kept so a refusal can name the operation to blame."""
    merged: dict[str, ApplyDelta] = {}
    for index, delta in deltas:
        share = DeltaShare(index, delta.headroom)
        before = merged.get(delta.account_id)
        if before is None:
            merged[delta.account_id] = replace(delta, shares=(share,))
            continue
        totals = Totals(
            *(
                getattr(before.totals, field.name) + getattr(delta.totals, field.name)
                for field in fields(Totals)
            )
        )
        headroom = before.headroom + delta.headroom
        merged[delta.account_id] = replace(
            delta,
            totals=totals,
            headroom=headroom,
            outflow=max(0, -headroom),
            shares=(*before.shares, share),
        )
    return list(merged.values())
