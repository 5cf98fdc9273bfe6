"""Money: currencies, parsing decimal strings into minor units and formatting them back."""

from __future__ import annotations

from decimal import Decimal, localcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.errors import ValidationError
from ledger.domain.limits import amount_minor_max, amount_text_length_max, currency_scale_max
from ledger.domain.money import Currency, builtin_currencies, format_amount, parse_amount

USD = builtin_currencies["USD"]
JPY = builtin_currencies["JPY"]
ETH = builtin_currencies["ETH"]


# --- currencies ---------------------------------------------------------------------------


def test_builtin_currencies_have_the_scales_of_the_design() -> None:
    # GIVEN the scales DESIGN.md §3 names
    expected = {"USD": 2, "EUR": 2, "JPY": 0, "USDC": 6, "BTC": 8, "ETH": 18}
    # WHEN reading the built-in table
    scales = {code: builtin_currencies[code].scale for code in expected}
    # THEN every one matches, and each is keyed by its own code
    assert scales == expected
    assert all(code == currency.code for code, currency in builtin_currencies.items())


@pytest.mark.parametrize(
    ("code", "scale"), [("XA", 0), ("ABCDEFGHIJKL", currency_scale_max), ("X1", 4)]
)
def test_currency_accepts_codes_and_scales_at_the_bounds(code: str, scale: int) -> None:
    # GIVEN a code of 2..12 upper-case letters/digits and a scale within 0..max
    # WHEN creating the currency
    currency = Currency(code, scale)
    # THEN it keeps both
    assert (currency.code, currency.scale) == (code, scale)


@pytest.mark.parametrize(
    "code", ["usd", "U", "ABCDEFGHIJKLM", "1USD", "US D", "US-D", "", "ÜSD", "USD\n"]
)
def test_currency_rejects_malformed_codes(code: str) -> None:
    # GIVEN a malformed code
    # WHEN creating a currency with it
    with pytest.raises(ValidationError) as raised:
        Currency(code, 2)
    # THEN the error names the currency field
    assert raised.value.field == "currency"


@pytest.mark.parametrize("scale", [-1, currency_scale_max + 1])
def test_currency_rejects_scales_out_of_range(scale: int) -> None:
    # GIVEN a scale outside 0..max
    # WHEN creating a currency with it
    with pytest.raises(ValidationError) as raised:
        Currency("XYZ", scale)
    # THEN the error names the scale field
    assert raised.value.field == "scale"


# --- parse_amount: accepted -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("100.50", USD, 100_50),
        ("100.5", USD, 100_50),
        ("100", USD, 100_00),
        ("0.01", USD, 1),
        ("007.10", USD, 7_10),
        ("3", JPY, 3),
        ("1.000000000000000001", ETH, 10**18 + 1),
        ("0.000000000000000001", ETH, 1),
        ("12345678.123456789012345678", ETH, 12345678_123456789012345678),
    ],
)
def test_parse_amount_turns_major_units_into_minor_units(
    text: str, currency: Currency, minor: int
) -> None:
    # GIVEN a plain positive decimal with at most the currency's scale of decimals
    # WHEN parsing it
    # THEN it becomes exactly that many minor units
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize(
    ("value", "minor"),
    [(Decimal("1.50"), 150), (Decimal("1E+2"), 100_00), (Decimal("0.01"), 1)],
)
def test_parse_amount_accepts_finite_positive_decimals(value: Decimal, minor: int) -> None:
    # GIVEN a finite positive Decimal (library callers may pass one)
    # WHEN parsing it as USD
    # THEN its exact value in cents comes back
    assert parse_amount(value, USD) == minor


def test_parse_amount_accepts_exactly_the_upper_bound() -> None:
    # GIVEN the largest amount the ledger accepts, written in major units
    text = format_amount(amount_minor_max, USD)
    # WHEN parsing it
    # THEN it is accepted, to the last minor unit
    assert parse_amount(text, USD) == amount_minor_max == 10**30


# --- parse_amount: rejected ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "currency"),
    [
        ("1.001", USD),  # more decimals than the scale
        ("3.0", JPY),  # any decimals for a scale-0 currency
        ("0.0000000000000000001", ETH),
        ("1e3", USD),  # exponents
        ("1E3", USD),
        ("1e-2", USD),
        ("NaN", USD),
        ("nan", USD),
        ("sNaN", USD),
        ("Infinity", USD),
        ("inf", USD),
        ("-Infinity", USD),
        ("-1", USD),  # negatives
        ("-0.01", USD),
        ("+1", USD),  # explicit sign
        (" 1", USD),  # whitespace
        ("1 ", USD),
        ("\t1", USD),
        ("1\n", USD),
        ("1.", USD),  # half-written decimals
        (".5", USD),
        ("", USD),
        (".", USD),
        ("1,50", USD),
        ("1_000", USD),
        ("1.2.3", USD),
        ("0x10", USD),
        ("١٢", USD),  # non-ASCII digits
        ("0", USD),  # zero
        ("0.00", USD),
        ("000", JPY),
        (Decimal("NaN"), USD),  # Decimal specials
        (Decimal("sNaN"), USD),
        (Decimal("Infinity"), USD),
        (Decimal("-Infinity"), USD),
        (Decimal("-1"), USD),
        (Decimal("-0"), USD),
        (Decimal("0"), USD),
        (Decimal("0.001"), USD),
        (Decimal("1E-3"), USD),
        (1, USD),  # JSON numbers and other types
        (0, USD),
        (1.5, USD),
        (10.0, USD),
        (float("nan"), USD),
        (True, USD),
        (False, USD),
        (None, USD),
        (b"1", USD),
        (["1"], USD),
        ({"amount": "1"}, USD),
    ],
)
def test_parse_amount_rejects_anything_but_a_plain_positive_decimal(
    value: object, currency: Currency
) -> None:
    # GIVEN a value that is not a plain positive decimal within the currency's scale
    # WHEN parsing it under a caller-chosen field name
    with pytest.raises(ValidationError) as raised:
        parse_amount(value, currency, field="lines[3].amount")
    # THEN a validation_error names that field
    assert raised.value.field == "lines[3].amount"
    assert raised.value.code == "validation_error"
    assert raised.value.details == {"field": "lines[3].amount"}


def test_parse_amount_names_the_default_field_amount() -> None:
    # GIVEN no field name
    # WHEN parsing a float
    with pytest.raises(ValidationError) as raised:
        parse_amount(1.0, USD)
    # THEN the error names "amount"
    assert raised.value.field == "amount"


def test_parse_amount_rejects_one_minor_unit_above_the_upper_bound() -> None:
    # GIVEN one minor unit more than the upper bound, in USD and in ETH
    usd_text = format_amount(amount_minor_max + 1, USD)
    eth_text = format_amount(amount_minor_max + 1, ETH)
    # WHEN parsing them
    # THEN both are rejected as too large
    for text, currency in ((usd_text, USD), (eth_text, ETH)):
        with pytest.raises(ValidationError, match="larger"):
            parse_amount(text, currency)


def test_parse_amount_bounds_the_text_length_before_anything_else() -> None:
    # GIVEN a text at the length bound (too large a number) and one a character longer
    at_bound = "1" * amount_text_length_max
    beyond = "1" * (amount_text_length_max + 1)
    # WHEN parsing them
    # THEN the first is refused for its size and the second for its length
    with pytest.raises(ValidationError, match="larger"):
        parse_amount(at_bound, JPY)
    with pytest.raises(ValidationError, match="longer"):
        parse_amount(beyond, JPY)


def test_parse_amount_refuses_a_huge_decimal_exponent() -> None:
    # GIVEN a Decimal whose plain form is far beyond the length bound
    huge = Decimal("1E+100000")
    # WHEN parsing it
    # THEN it is rejected as a validation error
    with pytest.raises(ValidationError):
        parse_amount(huge, USD)


# --- format_amount -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minor", "currency", "text"),
    [
        (3, JPY, "3"),
        (-3, JPY, "-3"),
        (0, JPY, "0"),
        (1_000_000, JPY, "1000000"),
        (10050, USD, "100.50"),
        (5, USD, "0.05"),
        (-5, USD, "-0.05"),
        (-10050, USD, "-100.50"),
        (0, USD, "0.00"),
        (1, ETH, "0.000000000000000001"),
        (10**18, ETH, "1.000000000000000000"),
        (-(10**18) - 1, ETH, "-1.000000000000000001"),
        (0, ETH, "0.000000000000000000"),
    ],
)
def test_format_amount_renders_exactly_the_currency_scale(
    minor: int, currency: Currency, text: str
) -> None:
    # GIVEN minor units
    # WHEN formatting them
    # THEN the text has exactly the scale's decimals, a minus sign for negatives
    assert format_amount(minor, currency) == text


# --- properties ----------------------------------------------------------------------------

currencies = st.one_of(
    st.sampled_from(sorted(builtin_currencies.values(), key=lambda each: each.code)),
    st.builds(Currency, st.just("XTS"), st.integers(0, currency_scale_max)),
)


@settings(max_examples=150, deadline=None)
@given(currency=currencies, minor=st.integers(1, amount_minor_max))
def test_parse_inverts_format(currency: Currency, minor: int) -> None:
    # GIVEN any amount within bounds in any currency
    # WHEN formatting then parsing it
    # THEN the same minor units come back
    assert parse_amount(format_amount(minor, currency), currency) == minor


@settings(max_examples=100, deadline=None)
@given(currency=currencies, minor=st.integers(1, amount_minor_max))
def test_format_is_exact_and_symmetric_in_sign(currency: Currency, minor: int) -> None:
    # GIVEN any amount within bounds
    # WHEN formatting it and its negative
    text = format_amount(minor, currency)
    negative = format_amount(-minor, currency)
    # THEN the decimal value is exact, with exactly `scale` decimals, and negation adds a sign
    with localcontext(prec=100):
        assert Decimal(text) == Decimal(minor).scaleb(-currency.scale)
    assert len(text.partition(".")[2]) == currency.scale
    assert negative == "-" + text


@settings(max_examples=100, deadline=None)
@given(
    whole=st.integers(0, 10**12 - 1),
    fraction=st.text("0123456789", max_size=currency_scale_max),
    currency=currencies,
)
def test_parsed_value_equals_the_decimal_value_of_the_text(
    whole: int, fraction: str, currency: Currency
) -> None:
    # GIVEN a plain decimal text
    text = f"{whole}.{fraction}" if fraction else str(whole)
    value = Decimal(text)
    # WHEN parsing it
    # THEN it is accepted exactly when it fits the scale and is positive, and then is exact
    if len(fraction) > currency.scale or value == 0:
        with pytest.raises(ValidationError):
            parse_amount(text, currency)
    else:
        with localcontext(prec=100):
            assert Decimal(parse_amount(text, currency)) == value.scaleb(currency.scale)
