"""Currencies and amounts: decimal strings outside, integer minor units inside."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from ledger.domain.errors import ValidationError
from ledger.domain.limits import amount_minor_max, amount_text_length_max, currency_scale_max

_currency_code = re.compile(r"^[A-Z][A-Z0-9]{1,11}$")
# Digits, an optional fraction, nothing else: no sign, exponent, spaces or NaN/Infinity.
_decimal_text = re.compile(r"^(?P<whole>[0-9]+)(?:\.(?P<fraction>[0-9]+))?$")


@dataclass(frozen=True)
class Currency:
    """A currency code with the number of decimals its minor unit has."""

    code: str
    scale: int

    def __post_init__(self) -> None:
        if not _currency_code.fullmatch(self.code):
            raise ValidationError(
                "currency",
                f"currency code {self.code!r} must be 2 to 12 upper-case letters or digits",
            )
        if not 0 <= self.scale <= currency_scale_max:
            raise ValidationError(
                "scale", f"currency scale must be between 0 and {currency_scale_max}"
            )


builtin_currencies: dict[str, Currency] = {
    currency.code: currency
    for currency in (
        Currency("USD", 2),
        Currency("EUR", 2),
        Currency("GBP", 2),
        Currency("JPY", 0),
        Currency("USDC", 6),
        Currency("BTC", 8),
        Currency("ETH", 18),
    )
}


def parse_amount(value: object, currency: Currency, field: str = "amount") -> int:
    """Turn a positive decimal amount in major units into integer minor units."""
    if isinstance(value, Decimal):
        # Bound the exponent before formatting: Decimal("1E+999999999") would render a
        # billion digits.
        if not value.is_finite() or abs(value.adjusted()) > amount_text_length_max:
            raise ValidationError(field, "amount must be a finite number of sensible size")
        value = format(value, "f")
    if not isinstance(value, str):
        raise ValidationError(
            field, f'amount must be a decimal string such as "10.50", not {type(value).__name__}'
        )
    if len(value) > amount_text_length_max:
        raise ValidationError(field, f"amount is longer than {amount_text_length_max} characters")
    match = _decimal_text.fullmatch(value)
    if match is None:
        raise ValidationError(
            field, f'amount {value!r} is not a plain positive decimal such as "10.50"'
        )
    fraction = match.group("fraction") or ""
    if len(fraction) > currency.scale:
        raise ValidationError(
            field,
            f"amount {value!r} has more than {currency.scale} decimals "
            f"(the scale of {currency.code})",
        )
    minor = int(match.group("whole") + fraction.ljust(currency.scale, "0"))
    if minor == 0:
        raise ValidationError(field, "amount must be greater than zero")
    if minor > amount_minor_max:
        raise ValidationError(field, "amount is larger than the ledger accepts")
    return minor


def format_amount(minor: int, currency: Currency) -> str:
    """Render integer minor units as a decimal string with exactly the currency's scale."""
    sign = "-" if minor < 0 else ""
    digits = str(abs(minor)).rjust(currency.scale + 1, "0")
    if currency.scale == 0:
        return sign + digits
    return f"{sign}{digits[: -currency.scale]}.{digits[-currency.scale :]}"
