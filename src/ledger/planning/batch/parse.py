"""A batch's operations as drafted entries; an operation given as a mapping (the library's
form, shaped like the HTTP body) is parsed into its typed command first. A refusal names the
operation's index."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any, TypeVar, cast

from ledger.domain import limits, validate
from ledger.domain.errors import LedgerError, ValidationError
from ledger.domain.inputs import Amount, LineInput
from ledger.domain.model import EntryKind
from ledger.planning.batch.operations import (
    BatchOperation,
    Conversion,
    Escrow,
    Hold,
    OperationType,
    Preset,
    RawEntry,
    Transfer,
    operation_classes,
    option_fields,
)
from ledger.planning.commands import EntryOptions, LineDraft, PendingTerms

T = TypeVar("T")

_line_fields = frozenset({"account_id", "side", "amount", "currency"})
_typed = tuple(operation_classes.values())


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


def draft_operation(index: int, operation: BatchOperation | Mapping[str, Any]) -> Drafted:
    """One operation of a batch as the lines of its entry, its options and pending terms."""
    typed = operation if isinstance(operation, _typed) else parse_operation(operation)
    kind = EntryKind(typed.type)
    return Drafted(index, kind, typed.drafts(), typed.options(), typed.pending())


def parse_operation(spec: object) -> BatchOperation:
    """An operation given as a mapping, checked for its type, its fields and its ids."""
    if not isinstance(spec, Mapping):
        raise ValidationError("operations", "each operation is an object with a type")
    kind = validate.choice("type", OperationType, spec.get("type"))
    shape = operation_classes[kind]
    unknown = sorted(set(spec) - {each.name for each in fields(shape)} - {"type"})
    if unknown:
        raise ValidationError(unknown[0], f"a {kind} operation takes no field {unknown[0]!r}")
    # Options and expiries go as given: the entry command validates them.
    options: dict[str, Any] = {name: spec[name] for name in option_fields if name in spec}
    if shape is Conversion:
        return Conversion(
            from_account_id=_id(spec, "from_account_id"),
            to_account_id=_id(spec, "to_account_id"),
            from_amount=_amount(spec, "from_amount"),
            to_amount=_amount(spec, "to_amount"),
            **options,
        )
    if shape is RawEntry:
        raw = spec.get("lines")
        if not isinstance(raw, list) or len(raw) < limits.lines_per_entry_min:
            raise ValidationError(
                "lines", f"an entry is a list of at least {limits.lines_per_entry_min} lines"
            )
        return RawEntry(
            lines=[_line(line) for line in raw],
            ledger_id=cast("str | None", spec.get("ledger_id")),
            **options,
        )
    if shape is Transfer:
        return Transfer(
            from_account_id=_id(spec, "from_account_id"),
            to_account_id=_id(spec, "to_account_id"),
            amount=_amount(spec, "amount"),
            **options,
        )
    if shape is Escrow:
        return Escrow(
            buyer_account_id=_id(spec, "buyer_account_id"),
            seller_account_id=_id(spec, "seller_account_id"),
            amount=_amount(spec, "amount"),
            expires_in=spec.get("expires_in"),
            **options,
        )
    if shape is Hold:
        options["expires_in"] = spec.get("expires_in")
    else:
        options["type"] = kind
    one_account = cast("type[Preset | Hold]", shape)
    return one_account(
        account_id=_id(spec, "account_id"),
        counterparty_account_id=_optional_id(spec, "counterparty_account_id"),
        amount=_amount(spec, "amount"),
        **options,
    )


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
