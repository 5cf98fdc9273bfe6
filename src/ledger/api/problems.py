"""Every failure as the error contract: status, `error.code`, `message`, `details`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from ledger.domain import limits
from ledger.domain.errors import LedgerError, ValidationError

_value_error_prefix = "Value error, "


def error_body(error: LedgerError) -> str:
    """The JSON body of an error response."""
    return json.dumps(error.to_dict(), separators=(",", ":"), default=str)


def field_name(location: Sequence[Any]) -> str:
    """A request field as a dotted path (`lines[1].amount`), from pydantic's location."""
    if len(location) == 2 and location[0] == "header":
        # Headers arrive lower-cased; name them as clients send them.
        return "-".join(word.capitalize() for word in str(location[1]).split("-"))
    if location and location[-1] == "[key]":
        # A bad key of a map is named by the map: the key itself may be unprintable.
        location = location[:-2]
    parts: list[str] = []
    for part in location:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif part in {"body", "query", "path", "header"} and not parts:
            continue
        else:
            parts.append(("." if parts else "") + str(part))
    return "".join(parts) or "body"


def validation_error(errors: Sequence[Mapping[str, Any]]) -> ValidationError:
    """The first pydantic or JSON error, as a `validation_error` naming its field."""
    first = errors[0]
    location = list(first.get("loc", ()))
    kind = first.get("type", "")
    if kind == "json_invalid":
        detail = (first.get("ctx") or {}).get("error", "")
        return ValidationError("body", f"the request body is not valid JSON: {detail}")
    # A discriminated union reports the member it tried; the member is not a field.
    location = [part for part in location if not _is_union_tag(part)]
    field = field_name(location)
    if field == "Idempotency-Key":
        return ValidationError(
            field,
            f"Idempotency-Key must be 1 to {limits.idempotency_key_length_max} printable ASCII "
            "characters, without spaces at either end",
        )
    if kind == "extra_forbidden":
        return ValidationError(field, f"{field} is not a field of this request")
    if kind == "missing":
        if field == "body":
            return ValidationError("body", "a JSON object body is required")
        return ValidationError(field, f"{field} is required")
    message = str(first.get("msg", "is not valid")).removeprefix(_value_error_prefix)
    return ValidationError(field, f"{field}: {message}")


def _is_union_tag(part: object) -> bool:
    # pydantic names the union member it tried, e.g. "transfer" or "function-after[...]".
    return isinstance(part, str) and (
        part in _operation_tags or part.startswith(("function-", "union["))
    )


_operation_tags = frozenset(
    {
        "deposit",
        "withdrawal",
        "spend",
        "refund",
        "transfer",
        "hold",
        "escrow",
        "conversion",
        "entry",
    }
)
