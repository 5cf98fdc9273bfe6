"""Strict JSON of request bodies: nesting and numbers bounded outside strings, keys once."""

from __future__ import annotations

import json
import sys

import pytest

from ledger.api import strict_json
from ledger.domain import limits
from ledger.domain.errors import ValidationError

depth_message = f"the request body nests deeper than {limits.json_depth_max} levels"
number_message = (
    f"the request body holds a number longer than {limits.json_number_length_max} characters"
)


def refusal(text: str) -> tuple[str, str]:
    """The field and message of the refusal of `text`."""
    with pytest.raises(ValidationError) as raised:
        strict_json.parse(text)
    return raised.value.field, raised.value.message


def nested(levels: int) -> str:
    """An object holding `levels` - 1 arrays inside one another: `levels` levels in all."""
    return '{"a": ' + "[" * (levels - 1) + "]" * (levels - 1) + "}"


def test_the_bounds_sit_far_below_what_python_refuses() -> None:
    # GIVEN the limits
    # WHEN compared with Python's recursion limit and its integer conversion limit
    # THEN the depth is far below the first and the number length below the second
    assert limits.json_depth_max * 10 < sys.getrecursionlimit()
    assert limits.json_number_length_max < sys.get_int_max_str_digits()


def test_a_body_nested_to_the_bound_is_read() -> None:
    # GIVEN a body exactly as deep as the bound
    text = nested(limits.json_depth_max)
    # WHEN it is parsed
    # THEN it is read as json reads it
    assert strict_json.parse(text) == json.loads(text)


@pytest.mark.parametrize("levels", [limits.json_depth_max + 1, 1000, 100_000])
def test_a_body_nested_past_the_bound_is_refused(levels: int) -> None:
    # GIVEN a body deeper than the bound
    # WHEN it is parsed
    # THEN it is refused as the body, before json recurses
    assert refusal(nested(levels)) == ("body", depth_message)


def test_depth_counts_open_levels_not_all_brackets() -> None:
    # GIVEN many sibling lists, more brackets in all than the bound allows in depth
    text = '{"a": [' + ",".join(["[]"] * 1000) + "]}"
    # WHEN it is parsed
    # THEN it is read
    assert strict_json.parse(text) == {"a": [[]] * 1000}


def test_brackets_and_digits_inside_strings_are_text() -> None:
    # GIVEN strings full of brackets, escaped quotes and long runs of digits
    value = {"a": "[" * 100 + '\\"{' + "9" * 100, "b": "]\\\\", "c": '"' + "{" * 50}
    text = json.dumps(value)
    # WHEN it is parsed
    # THEN they are read as strings, not as structure or numbers
    assert strict_json.parse(text) == value


@pytest.mark.parametrize(
    "number",
    ["1" * limits.json_number_length_max, "-0." + "5" * (limits.json_number_length_max - 3)],
)
def test_a_number_as_long_as_the_bound_is_read(number: str) -> None:
    # GIVEN a number exactly as long as the bound
    text = f'{{"n": {number}}}'
    # WHEN it is parsed
    # THEN it is read
    assert strict_json.parse(text) == json.loads(text)


@pytest.mark.parametrize(
    "number",
    [
        "1" * (limits.json_number_length_max + 1),
        "1" + "0" * 4300,
        "1e" + "9" * limits.json_number_length_max,
        "-" + "2" * limits.json_number_length_max,
    ],
    ids=["one past", "4301 digits", "long exponent", "negative"],
)
def test_a_number_past_the_bound_is_refused(number: str) -> None:
    # GIVEN a number longer than the bound, in a list
    # WHEN it is parsed
    # THEN it is refused as the body, before Python converts it
    assert refusal(f'{{"n": [1, {number}]}}') == ("body", number_message)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"name": "a", "name": "b"}', "name"),
        ('{"metadata": {"note": "a", "note": "b"}}', "metadata.note"),
        ('{"ops": [{}, {"lines": [{"side": 1, "x": 2, "side": 3}]}]}', "ops[1].lines[0].side"),
        ('{"": 1, "": 2}', "body"),
    ],
)
def test_a_key_given_twice_is_refused_by_its_path(text: str, field: str) -> None:
    # GIVEN an object that gives one key twice
    # WHEN it is parsed
    # THEN the refusal names the key by its path in the body
    assert refusal(text) == (field, f"{field} is given more than once in one JSON object")


def test_the_same_key_in_two_objects_is_no_repetition() -> None:
    # GIVEN two sibling objects with the same keys
    text = '{"lines": [{"side": "debit"}, {"side": "credit"}], "side": "x"}'
    # WHEN it is parsed
    # THEN it is read
    assert strict_json.parse(text) == json.loads(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"name": ', "Expecting value"),
        ("   ", "Expecting value"),
        ('{"a": 1} {"b": 2}', "Extra data"),
        ('{"a": "unterminated', "Unterminated string starting at"),
    ],
)
def test_text_that_is_not_json_is_refused_as_the_body(text: str, message: str) -> None:
    # GIVEN text that is not one JSON value
    # WHEN it is parsed
    # THEN it is refused as the body, saying what json found
    assert refusal(text) == ("body", f"the request body is not valid JSON: {message}")


@pytest.mark.parametrize(
    ("text", "field_and_message"),
    [
        # Escaped quotes never close a string: the brackets inside it are no nesting.
        ('{"a": "' + '\\"[' * 5_000 + '"}', None),
        ('{"a": "' + '\\"' * 20_000, ("body", "not valid JSON")),
        ('{"a": "x\\\\", "b": ' + nested(limits.json_depth_max + 1) + "}", ("body", "nests")),
    ],
    ids=["escaped-quotes-with-brackets", "unterminated-escaped-quotes", "escaped-backslash"],
)
def test_strings_are_skipped_whole_whatever_their_escapes(
    text: str, field_and_message: tuple[str, str] | None
) -> None:
    # GIVEN a body whose strings hold escaped quotes, brackets and backslashes
    # WHEN it is read
    # THEN a string's content never counts as structure, an unterminated string is not
    # JSON, and structure after an escaped backslash still counts
    if field_and_message is None:
        assert strict_json.parse(text) == {"a": '"[' * 5_000}
        return
    field, message = refusal(text)
    assert (field, field_and_message[1] in message) == (field_and_message[0], True)
