"""A request body read as strict JSON: bounded nesting and numbers, every key once.

Python's `json` recurses once per level of nesting and converts an integer of any length
up to its limit of 4300 digits, so a hostile body could crash either. The text is scanned
first, outside its strings and in linear time; only a body within the bounds is parsed.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

from ledger.domain import limits
from ledger.domain.errors import ValidationError

# Outside strings: a string's opening quote, a bracket, or a number.
_token = re.compile(r'"|[\[\]{}]|[-0-9][-+.0-9eE]*')
# The rest of a string after its opening quote, escapes included (DOTALL: an escaped line
# break stays inside). Matched only where a string opens, so each character is read once.
_string_rest = re.compile(r'[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)


class _Repeated(dict[str, Any]):
    """A JSON object in which `key` was given more than once."""

    def __init__(self, pairs: list[tuple[str, Any]], key: str) -> None:
        super().__init__(pairs)
        self.key = key


def parse(text: str) -> Any:
    """The JSON value of `text`; ValidationError if it is not JSON or breaks a bound."""
    _check_bounds(text)
    repeated: list[_Repeated] = []

    def json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        counts = Counter(key for key, _ in pairs)
        if len(counts) == len(pairs):
            return dict(pairs)
        duplicate = _Repeated(pairs, next(key for key, _ in pairs if counts[key] > 1))
        repeated.append(duplicate)
        return duplicate

    try:
        value = json.loads(text, object_pairs_hook=json_object)
    except json.JSONDecodeError as error:
        raise ValidationError("body", f"the request body is not valid JSON: {error.msg}") from None
    if repeated:
        field = _repeated_field(value, "") or "body"
        raise ValidationError(field, f"{field} is given more than once in one JSON object")
    return value


def _check_bounds(text: str) -> None:
    """Refuse nesting deeper than the limit and numbers longer than the limit, in one pass
    over the text: a scan that restarted at every quote would take quadratic time on a body
    of escaped quotes."""
    depth = 0
    position = 0
    while (token := _token.search(text, position)) is not None:
        position = token.end()
        lexeme = token.group()
        if lexeme == '"':
            rest = _string_rest.match(text, position)
            if rest is None:
                # An unterminated string: the parser refuses it as JSON.
                return
            position = rest.end()
        elif lexeme in "[{":
            depth += 1
            if depth > limits.json_depth_max:
                raise ValidationError(
                    "body", f"the request body nests deeper than {limits.json_depth_max} levels"
                )
        elif lexeme in "]}":
            depth -= 1
        elif len(lexeme) > limits.json_number_length_max:
            raise ValidationError(
                "body",
                "the request body holds a number longer than "
                f"{limits.json_number_length_max} characters",
            )


def _repeated_field(value: Any, path: str) -> str | None:
    """The path (`metadata.note`, `lines[1].side`) of the first key given twice."""
    if isinstance(value, _Repeated):
        return _joined(path, value.key)
    members: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        members = [(_joined(path, key), item) for key, item in value.items()]
    elif isinstance(value, list):
        members = [(f"{path}[{index}]", item) for index, item in enumerate(value)]
    for member_path, member in members:
        found = _repeated_field(member, member_path)
        if found is not None:
            return found
    return None


def _joined(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
