"""Loose input to typed values: every rejection is a ValidationError naming the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from ledger.domain import limits, validate
from ledger.domain.errors import ValidationError
from ledger.domain.model import AccountType, OverdraftMode

# --- text ----------------------------------------------------------------------------------


def test_text_accepts_a_string_up_to_the_bound() -> None:
    # GIVEN a string exactly at the bound, with inner spaces
    value = "a b" + "c" * 7
    # WHEN checking it
    # THEN it comes back unchanged
    assert validate.text("name", value, 10) == value


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "must be a string"),
        (5, "must be a string"),
        (b"name", "must be a string"),
        ("", "must not be blank"),
        ("   \t\n", "must not be blank"),
        ("x" * 11, "longer than 10"),
    ],
)
def test_text_rejects_non_strings_blanks_and_long_strings(value: object, message: str) -> None:
    # GIVEN a value that is not a non-blank string of at most 10 characters
    # WHEN checking it
    with pytest.raises(ValidationError, match=message) as raised:
        validate.text("description", value, 10)
    # THEN the error names the field
    assert raised.value.field == "description"


def test_optional_text_passes_none_and_checks_the_rest() -> None:
    # GIVEN nothing, a valid string and a blank one
    # WHEN checking them as optional text
    # THEN None stays None, the string is kept, the blank is rejected with the field name
    assert validate.optional_text("reference", None, 5) is None
    assert validate.optional_text("reference", "ref-1", 5) == "ref-1"
    with pytest.raises(ValidationError) as raised:
        validate.optional_text("reference", " ", 5)
    assert raised.value.field == "reference"


# --- control characters ---------------------------------------------------------------------

every_control = [chr(number) for number in range(0x20)]


@pytest.mark.parametrize(
    "character", every_control, ids=lambda character: f"U+{ord(character):04X}"
)
def test_text_refuses_every_control_character(character: str) -> None:
    # GIVEN a name holding one C0 control character (NUL included)
    value = f"na{character}me"
    # WHEN checking it
    with pytest.raises(ValidationError) as raised:
        validate.text("name", value, 10)
    # THEN the error names the field and the rule
    assert raised.value.field == "name"
    assert raised.value.message == f"name: {validate.control_message}"


@pytest.mark.parametrize("character", ["\n", "\t"], ids=["line feed", "tab"])
def test_prose_keeps_a_line_feed_and_a_tab(character: str) -> None:
    # GIVEN a description and a metadata value holding a line feed or a tab
    value = f"line{character}next"
    # WHEN checking them
    # THEN both come back as given
    assert validate.description(value) == value
    assert validate.metadata({"note": value}) == {"note": value}


@pytest.mark.parametrize(
    "character",
    [character for character in every_control if character not in "\n\t"],
    ids=lambda character: f"U+{ord(character):04X}",
)
def test_prose_refuses_every_other_control_character(character: str) -> None:
    # GIVEN a description and a metadata value holding another C0 control character
    value = f"line{character}next"
    # WHEN checking them
    with pytest.raises(ValidationError) as described:
        validate.description(value)
    with pytest.raises(ValidationError) as noted:
        validate.metadata({"note": value})
    # THEN each is refused, naming its field and the rule
    assert (described.value.field, described.value.message) == (
        "description",
        f"description: {validate.prose_control_message}",
    )
    assert (noted.value.field, noted.value.message) == (
        "metadata.note",
        f"metadata.note: {validate.prose_control_message}",
    )


@pytest.mark.parametrize("key", ["a\nb", "\x00", "tab\t"])
def test_metadata_keys_hold_no_control_character(key: str) -> None:
    # GIVEN metadata whose key holds a control character, even one prose allows
    # WHEN checking it
    with pytest.raises(ValidationError) as raised:
        validate.metadata({key: "v"})
    # THEN the error names the metadata, not the unprintable key
    assert (raised.value.field, raised.value.message) == (
        "metadata",
        f"metadata: {validate.key_control_message}",
    )


def test_description_is_optional_bounded_and_not_blank() -> None:
    # GIVEN no description, one at the bound, one past it and a blank one
    longest = "d" * limits.description_length_max
    # WHEN checking them
    # THEN None and the longest pass; the others are refused naming the field
    assert validate.description(None) is None
    assert validate.description(longest) == longest
    for value, message in (
        (longest + "d", f"longer than {limits.description_length_max}"),
        ("\n\t", "must not be blank"),
        (5, "must be a string"),
    ):
        with pytest.raises(ValidationError, match=message) as raised:
            validate.description(value)
        assert raised.value.field == "description"


def test_code_refuses_a_control_character_by_the_rule() -> None:
    # GIVEN a code holding a NUL
    # WHEN checking it
    with pytest.raises(ValidationError) as raised:
        validate.code("10\x0000")
    # THEN the message is the control-character rule, not the code alphabet
    assert raised.value.message == f"code: {validate.control_message}"


# --- code ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["1000", "cash.usd", "a:b-c_d.e", "Z", "x" * limits.code_length_max]
)
def test_code_accepts_letters_digits_and_separators(value: str) -> None:
    # GIVEN a code of letters, digits and . _ : - starting with a letter or digit
    # WHEN checking it
    # THEN it comes back unchanged
    assert validate.code(value) == value


def test_code_is_optional() -> None:
    # GIVEN no code
    # WHEN checking it
    # THEN there is none
    assert validate.code(None) is None


@pytest.mark.parametrize(
    "value",
    [
        "-leading",
        ".leading",
        "has space",
        "hash#sign",
        "slash/",
        "ümlaut",
        "",
        " ",
        7,
        "x" * (limits.code_length_max + 1),
        "trailing\n",
    ],
)
def test_code_rejects_anything_else(value: object) -> None:
    # GIVEN a value that is no valid code
    # WHEN checking it
    with pytest.raises(ValidationError) as raised:
        validate.code(value)
    # THEN the error names the code field
    assert raised.value.field == "code"


@pytest.mark.parametrize("value", ["bank", "chain:usdc-main", "x" * limits.source_name_length_max])
def test_source_name_accepts_a_code_up_to_its_bound(value: str) -> None:
    # GIVEN a source name of letters, digits and . _ : -
    # WHEN checking it THEN it comes back unchanged
    assert validate.source_name("source", value) == value


@pytest.mark.parametrize(
    "value", ["bank#1", "two words", "", 3, "x" * (limits.source_name_length_max + 1)]
)
def test_source_name_refuses_what_cannot_stand_in_a_key(value: object) -> None:
    # GIVEN a name with a key separator, a space, nothing or too many characters
    # WHEN checking it THEN the error names the field it came in
    with pytest.raises(ValidationError) as raised:
        validate.source_name("source", value)
    assert raised.value.field == "source"


# --- choice --------------------------------------------------------------------------------


def test_choice_accepts_a_member_or_its_value() -> None:
    # GIVEN an enum member and the string of another
    # WHEN choosing
    # THEN both come back as members
    assert validate.choice("type", AccountType, AccountType.ASSET) is AccountType.ASSET
    assert validate.choice("type", AccountType, "revenue") is AccountType.REVENUE


@pytest.mark.parametrize("value", ["Asset", "assets", "", None, 1, OverdraftMode.ALLOW])
def test_choice_rejects_other_values_and_lists_the_allowed_ones(value: object) -> None:
    # GIVEN a value that is none of the enum's
    # WHEN choosing
    with pytest.raises(ValidationError) as raised:
        validate.choice("type", AccountType, value)
    # THEN the error names the field and every allowed value
    assert raised.value.field == "type"
    assert all(member.value in raised.value.message for member in AccountType)


# --- metadata ------------------------------------------------------------------------------


def test_metadata_defaults_to_empty() -> None:
    # GIVEN no metadata
    # WHEN checking it
    # THEN it is an empty map
    assert validate.metadata(None) == {}


def test_metadata_accepts_a_map_at_every_bound() -> None:
    # GIVEN the most keys, the longest key and the longest value allowed
    value = {f"k{index}": "" for index in range(limits.metadata_keys_max - 1)}
    value["k" * limits.metadata_key_length_max] = "v" * limits.metadata_value_length_max
    # WHEN checking it
    checked = validate.metadata(value)
    # THEN it comes back equal, as a copy
    assert checked == value
    assert checked is not value


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ("a=b", "metadata"),
        (["a", "b"], "metadata"),
        ({f"k{index}": "v" for index in range(limits.metadata_keys_max + 1)}, "metadata"),
        ({1: "v"}, "metadata"),
        ({"": "v"}, "metadata"),
        ({"k" * (limits.metadata_key_length_max + 1): "v"}, "metadata"),
        ({"colour": 1}, "metadata.colour"),
        ({"colour": None}, "metadata.colour"),
        ({"colour": {"nested": "x"}}, "metadata.colour"),
        ({"colour": "v" * (limits.metadata_value_length_max + 1)}, "metadata.colour"),
    ],
)
def test_metadata_rejects_non_maps_and_out_of_bound_entries(value: object, field: str) -> None:
    # GIVEN metadata that is not a bounded map of strings
    # WHEN checking it
    with pytest.raises(ValidationError) as raised:
        validate.metadata(value)
    # THEN the error names the metadata, or the offending key
    assert raised.value.field == field


# --- idempotency keys ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["k", "order-42/retry 1", "~" * limits.idempotency_key_length_max, " !~"]
)
def test_idempotency_key_accepts_printable_ascii(value: str) -> None:
    # GIVEN 1..255 printable ASCII characters
    # WHEN checking them as a key
    # THEN the key comes back unchanged
    assert validate.idempotency_key(value) == value


def test_idempotency_key_is_optional() -> None:
    # GIVEN no key
    # WHEN checking it
    # THEN there is none
    assert validate.idempotency_key(None) is None


@pytest.mark.parametrize(
    "value",
    [
        "",
        "x" * (limits.idempotency_key_length_max + 1),
        "tab\there",
        "bell\x07",
        "delete\x7f",
        "café",
        "trailing-newline\n",
        42,
        b"bytes",
    ],
)
def test_idempotency_key_rejects_anything_else(value: object) -> None:
    # GIVEN a value that is not 1..255 printable ASCII characters
    # WHEN checking it as a key
    with pytest.raises(ValidationError) as raised:
        validate.idempotency_key(value)
    # THEN the error names the idempotency key
    assert raised.value.field == "idempotency_key"


# --- moments -------------------------------------------------------------------------------


def test_moment_is_optional() -> None:
    # GIVEN no time
    # WHEN checking it
    # THEN there is none
    assert validate.moment("effective_at", None) is None


def test_moment_normalises_an_aware_time_to_utc() -> None:
    # GIVEN a time in UTC+02:00
    local = datetime(2026, 3, 1, 12, 30, tzinfo=timezone(timedelta(hours=2)))
    # WHEN checking it
    checked = validate.moment("effective_at", local)
    # THEN it is the same instant, expressed in UTC
    assert checked == local
    assert checked is not None
    assert checked.tzinfo is UTC
    assert checked.hour == 10


@pytest.mark.parametrize("value", [datetime(2026, 3, 1, 12, 30), "2026-03-01T12:30:00Z", 0])
def test_moment_rejects_naive_times_and_non_times(value: object) -> None:
    # GIVEN a naive datetime, a string or a number
    # WHEN checking it
    with pytest.raises(ValidationError) as raised:
        validate.moment("effective_at", value)
    # THEN the error names the field
    assert raised.value.field == "effective_at"


@pytest.mark.parametrize(
    "value",
    [
        datetime(1, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),
        datetime(9999, 12, 31, 23, 59, tzinfo=timezone(timedelta(hours=-1))),
    ],
)
def test_moment_refuses_a_time_that_leaves_the_calendar_in_utc(value: datetime) -> None:
    # GIVEN an aware time whose UTC instant falls before year 1 or after year 9999
    # WHEN checking it
    with pytest.raises(ValidationError) as raised:
        validate.moment("effective_at", value)
    # THEN it is refused, naming the field, instead of overflowing
    assert raised.value.field == "effective_at"
