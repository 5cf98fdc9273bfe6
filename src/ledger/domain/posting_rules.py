"""Posting rules: templates that turn an inbound event into the lines of one entry (pure).

A template is a string whose only active parts are `{{data.<field>}}` placeholders (a
dotted path into the event's `data`). Nothing else is evaluated: no expressions, no
filters, and a value substituted is never expanded again, so an event cannot smuggle a
placeholder into its own data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from ledger.domain import limits, validate
from ledger.domain.errors import NotFound, ValidationError
from ledger.domain.ids import ledger_token
from ledger.domain.model import Side

# `expense.created`, `investment.transaction.created`: lower-case words joined by dots.
_event_type = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")
_field_name = r"[A-Za-z_][A-Za-z0-9_]*"
_placeholder = re.compile(rf"\{{\{{\s*data\.(?P<path>{_field_name}(?:\.{_field_name})*)\s*\}}\}}")
_braces = re.compile(r"\{\{|\}\}")
_rfc3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")
_printable = re.compile(r"^[\x20-\x7e]+$")
_event_fields = frozenset({"id", "type", "ledger_id", "occurred_at", "data"})


@dataclass(frozen=True)
class RuleLine:
    """One line of a rule: an account by id or by code, a side, and an amount, each of
    the texts a template."""

    side: Side
    amount: str
    account_id: str | None = None
    account_code: str | None = None


@dataclass(frozen=True)
class PostingRule:
    """One version of the rule that turns events of `event_type` into entries of a ledger."""

    event_type: str
    ledger_id: str
    version: int
    lines: tuple[RuleLine, ...]
    created_at: datetime
    reference: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class RenderedLine:
    """A rule's line with the event's values substituted: still to be resolved (a code to
    its account) and parsed (the amount in the account's currency)."""

    side: Side
    amount: str
    account_id: str | None
    account_code: str | None


@dataclass(frozen=True)
class InboundEvent:
    """An event a producer sent for the ledger to post: `id` is its idempotency key."""

    id: str
    type: str
    ledger_id: str
    occurred_at: datetime
    data: Mapping[str, Any]


def event_type(value: object, field: str = "event_type") -> str:
    """An event type such as `expense.created`: dotted lower-case words, bounded."""
    checked = validate.text(field, value, limits.event_type_length_max)
    if not _event_type.fullmatch(checked):
        raise ValidationError(
            field, f"{field} must be dotted lower-case words such as 'expense.created'"
        )
    return checked


def template(field: str, value: object, length_max: int) -> str:
    """A template string: every `{{` ... `}}` in it is a `{{data.<field>}}` placeholder."""
    checked = validate.text(field, value, length_max)
    remainder = _placeholder.sub("", checked)
    if _braces.search(remainder):
        raise ValidationError(
            field,
            f"{field}: only {{{{data.<field>}}}} placeholders are allowed between double braces",
        )
    return checked


def optional_template(field: str, value: object, length_max: int) -> str | None:
    """Like `template`, but None passes through."""
    return None if value is None else template(field, value, length_max)


def rule_lines(lines: object) -> tuple[RuleLine, ...]:
    """A rule's lines from loose input (mappings shaped like the HTTP body's), validated."""
    if not isinstance(lines, Sequence) or isinstance(lines, str):
        raise ValidationError("lines", "lines must be a list")
    if not limits.lines_per_entry_min <= len(lines) <= limits.lines_per_entry_max:
        raise ValidationError(
            "lines",
            f"a rule has {limits.lines_per_entry_min} to {limits.lines_per_entry_max} lines",
        )
    return tuple(_rule_line(index, line) for index, line in enumerate(lines))


def _rule_line(index: int, line: object) -> RuleLine:
    field = f"lines[{index}]"
    if isinstance(line, RuleLine):
        line = {name: value for name, value in vars(line).items() if value is not None}
    if not isinstance(line, Mapping):
        raise ValidationError(field, f"{field} must be an object")
    unknown = set(line) - {"account_id", "account_code", "side", "amount"}
    if unknown:
        raise ValidationError(f"{field}.{sorted(unknown)[0]}", f"{field} has an unknown field")
    account_id, account_code = line.get("account_id"), line.get("account_code")
    if (account_id is None) == (account_code is None):
        raise ValidationError(
            f"{field}.account_id", f"{field} names its account by account_id or account_code"
        )
    return RuleLine(
        side=validate.choice(f"{field}.side", Side, line.get("side")),
        amount=template(f"{field}.amount", line.get("amount"), limits.template_length_max),
        account_id=optional_template(f"{field}.account_id", account_id, limits.template_length_max),
        account_code=optional_template(
            f"{field}.account_code", account_code, limits.template_length_max
        ),
    )


def render(field: str, text: str, data: Mapping[str, Any], *, numbers: bool = True) -> str:
    """The template with each placeholder replaced by the event's value, in one pass (a
    value is never read as a template). A missing field, or a value that is not a string
    (nor, with `numbers`, a whole JSON number), is a ValidationError naming the field."""

    def substitute(match: re.Match[str]) -> str:
        return _value(match.group("path"), data, numbers=numbers, used_in=field)

    return _placeholder.sub(substitute, text)


def _value(path: str, data: Mapping[str, Any], *, numbers: bool, used_in: str) -> str:
    name = f"data.{path}"
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise ValidationError(name, f"the event has no {name} (used by {used_in})")
        value = value[part]
    if isinstance(value, str):
        return value
    if numbers and isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    wanted = "a string or a whole number" if numbers else 'a decimal string such as "10.50"'
    raise ValidationError(
        name, f"{name} must be {wanted}, not {_json_type(value)} (used by {used_in})"
    )


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, float):
        return "a fractional number (money is never a float)"
    if isinstance(value, int):
        return "a number"
    if isinstance(value, Mapping):
        return "an object"
    return "a list"


def render_lines(rule: PostingRule, data: Mapping[str, Any]) -> list[RenderedLine]:
    """The rule's lines with the event's values: amounts from strings only."""
    rendered = []
    for index, line in enumerate(rule.lines):
        field = f"lines[{index}]"
        rendered.append(
            RenderedLine(
                side=line.side,
                amount=render(f"{field}.amount", line.amount, data, numbers=False),
                account_id=_render_optional(f"{field}.account_id", line.account_id, data),
                account_code=_render_optional(f"{field}.account_code", line.account_code, data),
            )
        )
    return rendered


def _render_optional(field: str, text: str | None, data: Mapping[str, Any]) -> str | None:
    return None if text is None else render(field, text, data)


def render_text(field: str, text: str | None, data: Mapping[str, Any]) -> str | None:
    """A reference or description rendered, if the rule has one."""
    return _render_optional(field, text, data)


def parse_inbound_event(body: Mapping[str, Any]) -> InboundEvent:
    """The inbound envelope `{id, type, ledger_id, occurred_at, data}`; ValidationError
    naming the field for a malformed one."""
    if not isinstance(body, Mapping):
        raise ValidationError("event", "an event must be a JSON object")
    unknown = set(body) - _event_fields
    if unknown:
        raise ValidationError(sorted(unknown)[0], "an event has only the fields " + _listed())
    # Checked by checked_event, whatever they are: a field may be absent or of any type.
    given: dict[str, Any] = dict.fromkeys(_event_fields) | dict(body)
    return checked_event(
        InboundEvent(
            id=given["id"],
            type=given["type"],
            ledger_id=given["ledger_id"],
            occurred_at=_occurred_at(given["occurred_at"]),
            data=given["data"],
        )
    )


def checked_event(event: InboundEvent) -> InboundEvent:
    """An event whose every field is well-formed (one a caller built itself, too);
    ValidationError naming the first that is not."""
    identifier = event.id
    if (
        not isinstance(identifier, str)
        or len(identifier) > limits.event_id_length_max
        or not _printable.fullmatch(identifier)
    ):
        raise ValidationError(
            "id", f"id must be 1 to {limits.event_id_length_max} printable ASCII characters"
        )
    ledger_id = validate.text("ledger_id", event.ledger_id, limits.name_length_max)
    try:
        ledger_token(ledger_id)
    except NotFound:
        raise ValidationError("ledger_id", f"ledger_id {ledger_id!r} is no ledger id") from None
    if not isinstance(event.data, Mapping):
        raise ValidationError("data", "data must be a JSON object")
    event_type(event.type, "type")
    occurred_at = validate.moment("occurred_at", event.occurred_at)
    if occurred_at is None:
        raise ValidationError("occurred_at", "occurred_at is required")
    return replace(event, occurred_at=occurred_at)


def _occurred_at(value: object) -> datetime:
    if not isinstance(value, str) or not _rfc3339.fullmatch(value):
        raise ValidationError("occurred_at", "occurred_at must be an RFC 3339 time with an offset")
    try:
        # Fractions finer than microseconds are cut to microseconds.
        return datetime.fromisoformat(value.upper())
    except ValueError:
        raise ValidationError("occurred_at", "occurred_at is not a real time") from None


def _listed() -> str:
    return ", ".join(sorted(_event_fields))
