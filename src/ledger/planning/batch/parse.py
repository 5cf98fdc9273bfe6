"""A batch's operations parsed into drafted entries; a refusal names the operation's index."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar, cast

from ledger.domain import limits, validate
from ledger.domain.errors import LedgerError, LedgerMismatch, ValidationError
from ledger.domain.inputs import Amount, LineInput
from ledger.domain.model import EntryKind
from ledger.planning.commands import (
    EntryOptions,
    LineDraft,
    PendingTerms,
    conversion_drafts,
    line_drafts,
    two_line_drafts,
)

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
class Drafted:
    """One operation turned into lines, before ids and validation of its options."""

    index: int
    kind: EntryKind
    lines: list[LineDraft]
    options: EntryOptions
    pending: PendingTerms | None


def attributed(index: int, function: Callable[..., T], *arguments: Any) -> T:
    """Call `function`; a refusal it raises names operation `index`."""
    try:
        return function(*arguments)
    except LedgerError as error:
        raise attributed_error(index, error) from None


def draft_operation(index: int, spec: Mapping[str, Any]) -> Drafted:
    """One operation of a batch as the lines of its entry, its options and pending terms."""
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
    return Drafted(index, _kinds[kind], lines, options, pending)


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


def attributed_error(index: int, error: LedgerError) -> LedgerError:
    """The error, naming operation `index` as the one refused."""
    error.details["operation_index"] = index
    return error
