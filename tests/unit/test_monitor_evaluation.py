"""Monitors evaluated on their own: thresholds parsed exactly, each field and operator, the
credit utilization, the crossing a newer version makes, and large entries."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction

import pytest

from ledger.domain.errors import ValidationError
from ledger.domain.ids import is_monitor_id, new_monitor_id
from ledger.domain.model import Balance, Entry, EntryKind, EntryStatus, Line, Side
from ledger.domain.money import builtin_currencies
from ledger.domain.monitors import (
    Monitor,
    MonitorField,
    MonitorState,
    Operator,
    parse_threshold,
    render_threshold,
)
from ledger.planning.monitors import crossing, entry_amount, figure, fires_for, new_monitor

usd = builtin_currencies["USD"]
jpy = builtin_currencies["JPY"]
now = datetime(2026, 1, 1, tzinfo=UTC)
account_id = "acc_abcdefghijklmnop_USD-2-c_qrstuvwxyzabcdef"


def balance(
    *, posted: int = 0, pending_out: int = 0, credit_limit: int = 0, version: int = 1
) -> Balance:
    """A balance of `posted` minor units with `pending_out` held, on a credit line."""
    net = posted - pending_out
    return Balance(
        account_id=account_id,
        currency=usd,
        posted=posted,
        pending_in=0,
        pending_out=pending_out,
        held=pending_out,
        escrowed=0,
        available=max(0, net),
        credit_limit=credit_limit,
        credit_used=max(0, -net),
        spendable=net + credit_limit,
        total_in=max(0, posted),
        total_out=max(0, -posted),
        version=version,
        as_of=now,
    )


def monitor(field: str, operator: str, value: str, at: Balance | None = None) -> Monitor:
    watched = MonitorField(field)
    return new_monitor(
        new_monitor_id(account_id, None),
        at or balance(),
        ledger_id="ldg_abcdefghijklmnop",
        field=watched,
        operator=Operator(operator),
        threshold=parse_threshold(watched, value, usd),
        description=None,
        now=now,
    )


@pytest.mark.parametrize(
    ("operator", "figure_minor", "holds"),
    [
        ("lt", 999, True),
        ("lt", 1000, False),
        ("lte", 1000, True),
        ("lte", 1001, False),
        ("gt", 1001, True),
        ("gt", 1000, False),
        ("gte", 1000, True),
        ("gte", 999, False),
    ],
)
def test_each_operator_compares_at_the_boundary(
    operator: str, figure_minor: int, holds: bool
) -> None:
    # GIVEN a threshold of 10.00 WHEN a figure on either side of it is compared
    result = Operator(operator).holds(
        Fraction(figure_minor), parse_threshold(MonitorField.AVAILABLE, "10.00", usd)
    )
    # THEN the operator holds exactly where it should
    assert result is holds


def test_every_balance_field_reads_its_figure() -> None:
    # GIVEN a balance of 50.00 posted, 20.00 held, on a 100.00 credit line
    moved = balance(posted=5000, pending_out=2000, credit_limit=10000)
    # WHEN each field's figure is read THEN it is the balance object's, in minor units
    assert {field: figure(field, moved) for field in MonitorField if field.watches_balance} == {
        MonitorField.AVAILABLE: 3000,
        MonitorField.POSTED: 5000,
        MonitorField.SPENDABLE: 13000,
        MonitorField.CREDIT_USED: 0,
        MonitorField.CREDIT_UTILIZATION: 0,
        MonitorField.HELD: 2000,
        MonitorField.ESCROWED: 0,
        MonitorField.PENDING_OUT: 2000,
    }
    with pytest.raises(ValueError, match="entries"):
        figure(MonitorField.ENTRY_AMOUNT, moved)


def test_credit_utilization_is_an_exact_percent_and_zero_without_a_limit() -> None:
    # GIVEN 87.50 drawn of a 100.00 line, and an account without a line
    drawn = balance(posted=-8750, credit_limit=10000)
    # WHEN the utilization is read THEN it is exactly 87.5 percent, and 0 without a line
    assert figure(MonitorField.CREDIT_UTILIZATION, drawn) == Fraction(175, 2)
    assert figure(MonitorField.CREDIT_UTILIZATION, balance()) == 0
    # AND a third of a line is never rounded to meet a threshold it does not reach
    third = balance(posted=-1, credit_limit=3)
    at_33_3333 = monitor("credit_utilization", "gte", "33.3334", third)
    assert at_33_3333.state is MonitorState.OK
    assert monitor("credit_utilization", "gte", "33.3333", third).state is MonitorState.TRIGGERED


@pytest.mark.parametrize(
    ("field", "value", "currency", "message"),
    [
        ("available", "10.001", "USD", "more than 2 decimals"),
        ("available", "10.5", "JPY", "more than 0 decimals"),
        ("available", "-1.00", "USD", "never negative"),
        ("credit_utilization", "100.5", "USD", "from 0 to 100"),
        ("credit_utilization", "-1", "USD", "from 0 to 100"),
        ("credit_utilization", "1.00001", "USD", "at most 4 decimals"),
        ("posted", "1e3", "USD", "not a decimal"),
        ("posted", " 1", "USD", "not a decimal"),
        ("posted", "1" * 70, "USD", "not a decimal"),
        ("posted", "9" * 40, "USD", "larger than"),
    ],
)
def test_a_threshold_that_cannot_be_is_refused_by_name(
    field: str, value: str, currency: str, message: str
) -> None:
    # GIVEN a value the field cannot take WHEN it is parsed THEN `value` is refused
    with pytest.raises(ValidationError, match=message) as refused:
        parse_threshold(MonitorField(field), value, builtin_currencies[currency])
    assert refused.value.field == "value"


def test_a_threshold_is_not_a_json_number() -> None:
    # GIVEN a number where a decimal string belongs WHEN parsed THEN it is refused
    with pytest.raises(ValidationError, match="decimal string"):
        parse_threshold(MonitorField.POSTED, 10, usd)


def test_thresholds_render_in_the_currency_s_scale_or_as_a_percent() -> None:
    # GIVEN thresholds as typed WHEN rendered THEN amounts take the scale, percents trim zeros
    assert (
        render_threshold(MonitorField.POSTED, parse_threshold(MonitorField.POSTED, "-5", usd), usd)
        == "-5.00"
    )
    assert render_threshold(MonitorField.AVAILABLE, Fraction(1234), jpy) == "1234"
    utilization = MonitorField.CREDIT_UTILIZATION
    assert render_threshold(utilization, parse_threshold(utilization, "90", usd), usd) == "90"
    assert render_threshold(utilization, parse_threshold(utilization, "87.50", usd), usd) == "87.5"
    assert render_threshold(utilization, parse_threshold(utilization, "0.0001", usd), usd) == (
        "0.0001"
    )


def test_a_new_monitor_is_evaluated_at_the_balance_it_is_made_from() -> None:
    # GIVEN a balance of 5.00 at version 7
    low = balance(posted=500, version=7)
    # WHEN monitors are made from it THEN each state and version is that balance's
    below = monitor("available", "lt", "10.00", low)
    above = monitor("available", "gt", "10.00", low)
    large = monitor("entry_amount", "gte", "1.00", low)
    assert (below.state, below.evaluated_version) == (MonitorState.TRIGGERED, 7)
    assert above.state is MonitorState.OK
    assert large.state is MonitorState.OK
    # AND the same meaning hashes the same, a different one does not
    assert below.request_hash == monitor("available", "lt", "10.00").request_hash
    assert below.request_hash != above.request_hash


def test_a_crossing_needs_a_newer_version_and_a_changed_state() -> None:
    # GIVEN a monitor of available < 10.00, ok at version 3
    watched = monitor("available", "lt", "10.00", balance(posted=2000, version=3))
    # WHEN versions come in THEN only a newer one that changes the state crosses
    assert crossing(watched, balance(posted=500, version=4)) is MonitorState.TRIGGERED
    assert crossing(watched, balance(posted=500, version=3)) is None
    assert crossing(watched, balance(posted=500, version=2)) is None
    assert crossing(watched, balance(posted=1500, version=5)) is None
    triggered = replace(watched, state=MonitorState.TRIGGERED, evaluated_version=4)
    assert crossing(triggered, balance(posted=400, version=5)) is None
    assert crossing(triggered, balance(posted=1000, version=6)) is MonitorState.OK
    # AND an entry_amount monitor never crosses
    assert crossing(monitor("entry_amount", "gt", "0"), balance(posted=1, version=9)) is None


def entry(amounts: dict[str, int], created_at: datetime = now) -> Entry:
    lines = tuple(Line(account, Side.DEBIT, amount, "USD") for account, amount in amounts.items())
    return Entry(
        id=f"ent_{secrets.token_hex(4)}",
        ledger_id="ldg_abcdefghijklmnop",
        kind=EntryKind.ENTRY,
        status=EntryStatus.POSTED,
        lines=lines,
        effective_at=created_at,
        created_at=created_at,
        request_hash="",
    )


def test_an_entry_amount_monitor_fires_for_large_entries_made_since_it_was() -> None:
    # GIVEN a monitor of entries of 100.00 or more on the account
    large = monitor("entry_amount", "gte", "100.00")
    other = "acc_abcdefghijklmnop_USD-2-c_zzzzzzzzzzzzzzzz"
    # WHEN entries are weighed THEN only what moves the account itself counts
    assert entry_amount(entry({account_id: 6000, other: 4000}), account_id) == 6000
    assert fires_for(large, entry({account_id: 10000}))
    assert not fires_for(large, entry({account_id: 9999}))
    assert not fires_for(large, entry({other: 50000}))
    # AND an entry made before the monitor does not fire it, nor does a balance monitor
    assert not fires_for(large, entry({account_id: 10000}, now - timedelta(seconds=1)))
    assert not fires_for(monitor("available", "gte", "0"), entry({account_id: 10000}))


def test_monitor_ids_are_stable_and_recognised() -> None:
    # GIVEN a monitor
    watched = monitor("credit_utilization", "gte", "12.5", balance(posted=-150, credit_limit=1000))
    # THEN its id is a monitor's, and ids derive the same from the same key
    assert is_monitor_id(watched.id)
    assert not is_monitor_id(watched.id + "x")
    assert new_monitor_id(account_id, "k") == new_monitor_id(account_id, "k")
