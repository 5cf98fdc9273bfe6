"""Posting rule templates and the inbound envelope: placeholders substituted exactly,
nothing else evaluated, values never expanded again."""

from __future__ import annotations

import string
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from ledger.domain.errors import ValidationError
from ledger.domain.model import Side
from ledger.domain.posting_rules import (
    PostingRule,
    RuleLine,
    checked_event,
    event_type,
    parse_inbound_event,
    render,
    render_lines,
    render_text,
    rule_lines,
    template,
)

ledger_id = "ldg_abcdefghijklmnop"
texts = st.text(alphabet=string.printable.replace("{", "").replace("}", ""), max_size=40)
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)


def envelope(**changes: Any) -> dict[str, Any]:
    """A well-formed inbound event with the changes."""
    return {
        "id": "evt-1",
        "type": "expense.created",
        "ledger_id": ledger_id,
        "occurred_at": "2026-03-01T09:30:00.5+01:00",
        "data": {"amount": "1.00"},
        **changes,
    }


@given(before=texts, value=st.text(max_size=40), after=texts, name=names)
def test_a_placeholder_is_replaced_by_its_value_exactly(
    before: str, value: str, after: str, name: str
) -> None:
    # GIVEN a template with one placeholder among plain text
    text = f"{before}{{{{data.{name}}}}}{after}"

    # WHEN it is rendered
    rendered = render("field", text, {name: value})

    # THEN the text around it is untouched and the value is in its place, whatever it holds
    assert rendered == f"{before}{value}{after}"


@given(name=names, inner=names)
def test_a_placeholder_in_a_value_is_never_expanded(name: str, inner: str) -> None:
    # GIVEN data whose value is itself a placeholder of another field
    assume(name != inner)
    data = {name: f"{{{{data.{inner}}}}}", inner: "secret"}

    # WHEN the template naming the first is rendered
    rendered = render("field", f"{{{{data.{name}}}}}", data)

    # THEN the value is given as it is, not read as a template
    assert rendered == f"{{{{data.{inner}}}}}"


@given(text=texts)
def test_text_without_braces_is_a_template_of_itself(text: str) -> None:
    # GIVEN text without braces, WHEN rendered against any data, THEN it stays as it is
    if text.strip() and not any(ord(character) < 32 for character in text):
        assert render("field", template("field", text, 1000), {"x": "y"}) == text


def test_dotted_paths_reach_into_nested_objects_and_spaces_are_allowed() -> None:
    # GIVEN / WHEN a nested path is rendered, with spaces inside the braces
    rendered = render("f", "{{ data.a.b.c }}/{{data.n}}", {"a": {"b": {"c": "deep"}}, "n": 7})

    # THEN the nested string and the whole number are substituted
    assert rendered == "deep/7"


@pytest.mark.parametrize(
    "text",
    [
        "{{data.a | upper}}",
        "{{ 1 + 1 }}",
        "{{data}}",
        "{{data.}}",
        "{{event.id}}",
        "{{data.a}",
        "{data.a}}",
        "{{data.a}}}}",
        "{{data.a-b}}",
        "{% if x %}{{",
    ],
)
def test_anything_but_a_data_placeholder_between_braces_is_refused(text: str) -> None:
    # GIVEN / WHEN a template with something else between double braces is checked
    # THEN it is refused, naming the field
    with pytest.raises(ValidationError) as refused:
        template("lines[0].amount", text, 1000)
    assert refused.value.field == "lines[0].amount"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "no data.a"),
        ({"a": None}, "null"),
        ({"a": True}, "a boolean"),
        ({"a": 1.5}, "never a float"),
        ({"a": {"b": 1}}, "an object"),
        ({"a": [1]}, "a list"),
        ({"a": "x"}, None),
    ],
)
def test_a_value_that_is_missing_or_not_text_is_refused_by_name(
    data: dict[str, Any], message: str | None
) -> None:
    # GIVEN / WHEN a template is rendered against data that lacks its field, or holds
    # something other than a string or a whole number
    if message is None:
        assert render("reference", "{{data.a}}", data) == "x"
        return

    # THEN the refusal names the event's field
    with pytest.raises(ValidationError) as refused:
        render("reference", "{{data.a}}", data)
    assert refused.value.field == "data.a"
    assert message in refused.value.message


def test_an_amount_takes_a_string_only() -> None:
    # GIVEN a rule whose amount comes from the data
    rule = PostingRule(
        event_type="expense.created",
        ledger_id=ledger_id,
        version=1,
        lines=(
            RuleLine(Side.DEBIT, "{{data.amount}}", account_code="{{data.code}}"),
            RuleLine(Side.CREDIT, "{{data.amount}}", account_id="acc"),
        ),
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )

    # WHEN it is rendered with a string, and with a JSON number
    rendered = render_lines(rule, {"amount": "1.50", "code": 12})

    # THEN the string passes (and a whole number is fine for a code), the number does not
    assert [(line.amount, line.account_code, line.account_id) for line in rendered] == [
        ("1.50", "12", None),
        ("1.50", None, "acc"),
    ]
    with pytest.raises(ValidationError) as refused:
        render_lines(rule, {"amount": 150, "code": "c"})
    assert refused.value.field == "data.amount"
    assert render_text("reference", None, {}) is None


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("expense.created", True),
        ("investment.transaction.created", True),
        ("payment_v2.made", True),
        ("expense", False),
        ("Expense.Created", False),
        ("expense..created", False),
        ("expense.created#1", False),
        ("a." + "b" * 100, False),
        (5, False),
    ],
)
def test_event_types_are_dotted_lower_case_words(value: object, valid: bool) -> None:
    # GIVEN / WHEN / THEN
    if valid:
        assert event_type(value) == value
    else:
        with pytest.raises(ValidationError):
            event_type(value)


def test_rule_lines_take_mappings_or_lines_and_refuse_the_malformed() -> None:
    # GIVEN lines as mappings and as RuleLine values
    lines = rule_lines(
        [
            {"account_code": "cash", "side": "debit", "amount": "1"},
            RuleLine(Side.CREDIT, "1", account_id="acc"),
        ]
    )

    # THEN both are read alike, and too few lines are refused
    assert lines == (
        RuleLine(Side.DEBIT, "1", account_code="cash"),
        RuleLine(Side.CREDIT, "1", account_id="acc"),
    )
    with pytest.raises(ValidationError):
        rule_lines(lines[:1])


def test_a_well_formed_event_is_parsed_to_utc() -> None:
    # GIVEN / WHEN a well-formed envelope is parsed
    event = parse_inbound_event(envelope())

    # THEN its time is in UTC and its data kept as it came
    assert event.occurred_at == datetime(2026, 3, 1, 8, 30, 0, 500000, tzinfo=UTC)
    assert (event.id, event.type, event.ledger_id) == ("evt-1", "expense.created", ledger_id)
    assert event.data == {"amount": "1.00"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": ""}, "id"),
        ({"id": "x" * 256}, "id"),
        ({"id": "tab\there"}, "id"),
        ({"id": 7}, "id"),
        ({"type": "Expense"}, "type"),
        ({"ledger_id": "nope"}, "ledger_id"),
        ({"ledger_id": None}, "ledger_id"),
        ({"occurred_at": "2026-03-01"}, "occurred_at"),
        ({"occurred_at": "2026-03-01T09:30:00"}, "occurred_at"),
        ({"occurred_at": "2026-02-30T09:30:00Z"}, "occurred_at"),
        ({"occurred_at": 1}, "occurred_at"),
        ({"data": []}, "data"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_malformed_event_is_refused_naming_the_field(changes: dict[str, Any], field: str) -> None:
    # GIVEN / WHEN / THEN
    with pytest.raises(ValidationError) as refused:
        parse_inbound_event(envelope(**changes))
    assert refused.value.field == field


def test_an_event_that_is_no_object_is_refused() -> None:
    # GIVEN / WHEN / THEN
    with pytest.raises(ValidationError) as refused:
        parse_inbound_event(["not", "an", "object"])  # type: ignore[arg-type]
    assert refused.value.field == "event"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"occurred_at": None}, "occurred_at"),
        ({"occurred_at": datetime(2026, 1, 1)}, "occurred_at"),
        ({"type": "nope"}, "type"),
        ({"data": None}, "data"),
    ],
)
def test_an_event_built_by_hand_is_checked_as_a_parsed_one(
    changes: dict[str, Any], field: str
) -> None:
    # GIVEN an event a caller built itself, one field spoiled
    event = replace(parse_inbound_event(envelope()), **changes)

    # WHEN / THEN the check names that field
    with pytest.raises(ValidationError) as refused:
        checked_event(event)
    assert refused.value.field == field


def test_a_checked_event_is_in_utc() -> None:
    # GIVEN an event built with a time in another zone
    east = timezone(timedelta(hours=3))
    event = replace(
        parse_inbound_event(envelope()), occurred_at=datetime(2026, 1, 1, 3, tzinfo=east)
    )

    # WHEN / THEN its check gives the same moment in UTC
    assert checked_event(event).occurred_at == datetime(2026, 1, 1, tzinfo=UTC)
    assert checked_event(event).occurred_at.tzinfo is UTC
