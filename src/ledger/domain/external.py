"""External balance checks: a balance the outside world reports (a bank, a chain, a
processor) against the sum of `posted` of the ledger's accounts that mirror it (ADR 0031).

Amounts are integer minor units of the check's currency. The external amount carries a
sign (an overdrawn bank account is below zero); the tolerance never does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ledger.domain import limits
from ledger.domain.errors import ValidationError
from ledger.domain.model import AccountType
from ledger.domain.money import Currency, parse_amount

_zero = re.compile(r"^0+(?:\.(?P<fraction>0+))?$")


@dataclass(frozen=True)
class ExternalCheck:
    """One check as recorded: what the source reported, what the ledger held, and who
    checked. It names its accounts by id (`account_ids`) or by type (`account_type`)."""

    id: str
    ledger_id: str
    source: str
    currency: Currency
    external: int
    ledger_total: int
    tolerance: int
    accounts_counted: int
    as_of: datetime
    checked_at: datetime
    actor: str | None
    account_ids: tuple[str, ...] | None
    account_type: AccountType | None
    request_hash: str
    replayed: bool = False

    @property
    def difference(self) -> int:
        """How far the outside world is above the ledger (below it when negative)."""
        return self.external - self.ledger_total

    @property
    def within_tolerance(self) -> bool:
        """Whether the difference is no larger than the tolerance, either way."""
        return abs(self.difference) <= self.tolerance


def parse_signed_amount(value: object, currency: Currency, field: str) -> int:
    """A decimal string in major units that may be zero or carry a leading `-`, as minor
    units; at most the currency's decimals, at most `limits.amount_minor_max` either way."""
    if not isinstance(value, str):
        raise ValidationError(field, f'{field} must be a decimal string such as "-10.50"')
    negative = value.startswith("-")
    digits = value[1:] if negative else value
    if _is_zero(digits, currency, field):
        return 0
    minor = parse_amount(digits, currency, field)
    return -minor if negative else minor


def parse_tolerance(value: object, currency: Currency) -> int:
    """A tolerance: a decimal string in major units, zero or above, as minor units."""
    if not isinstance(value, str):
        raise ValidationError("tolerance", 'tolerance must be a decimal string such as "0.05"')
    if _is_zero(value, currency, "tolerance"):
        return 0
    return parse_amount(value, currency, "tolerance")


def _is_zero(digits: str, currency: Currency, field: str) -> bool:
    """Whether `digits` spell zero (`"0"`, `"0.00"`), within the currency's decimals."""
    zero = _zero.fullmatch(digits) if len(digits) <= limits.amount_text_length_max else None
    if zero is None:
        return False
    if len(zero.group("fraction") or "") > currency.scale:
        raise ValidationError(
            field, f"{field} has more than {currency.scale} decimals (the scale of {currency.code})"
        )
    return True
