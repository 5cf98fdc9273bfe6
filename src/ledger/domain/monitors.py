"""Balance monitors: a condition on one figure of an account's balance, or on the amount
of each entry that moves it, and the state the monitors consumer keeps of it (ADR 0028).

A threshold is an exact rational number: minor units for an amount, a percent for the
credit utilization. Nothing here is a float.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from fractions import Fraction

from ledger.domain import limits
from ledger.domain.errors import ValidationError
from ledger.domain.money import Currency, format_amount


class MonitorField(StrEnum):
    """The figure a monitor watches: one of the balance object's, the credit utilization
    (`credit_used / credit_limit` in percent), or the amount of each entry."""

    AVAILABLE = "available"
    POSTED = "posted"
    SPENDABLE = "spendable"
    CREDIT_USED = "credit_used"
    CREDIT_UTILIZATION = "credit_utilization"
    HELD = "held"
    ESCROWED = "escrowed"
    PENDING_OUT = "pending_out"
    ENTRY_AMOUNT = "entry_amount"

    @property
    def watches_balance(self) -> bool:
        """Whether the monitor is about the balance (edge-triggered) rather than entries."""
        return self is not MonitorField.ENTRY_AMOUNT

    @property
    def may_be_negative(self) -> bool:
        """Whether the figure can fall below zero, so a negative threshold means something."""
        return self in (MonitorField.POSTED, MonitorField.SPENDABLE)


class Operator(StrEnum):
    """How the figure is compared with the threshold."""

    LT = "lt"
    LTE = "lte"
    GT = "gt"
    GTE = "gte"

    def holds(self, figure: Fraction, threshold: Fraction) -> bool:
        """Whether `figure <operator> threshold`."""
        return _comparisons[self](figure, threshold)


_comparisons: dict[Operator, Callable[[Fraction, Fraction], bool]] = {
    Operator.LT: operator.lt,
    Operator.LTE: operator.le,
    Operator.GT: operator.gt,
    Operator.GTE: operator.ge,
}


class MonitorState(StrEnum):
    """Whether a balance monitor's condition held at the version it was last evaluated at;
    an `entry_amount` monitor stays `ok`."""

    OK = "ok"
    TRIGGERED = "triggered"


@dataclass(frozen=True)
class Monitor:
    """A monitor of one account. `evaluated_version` is the account version its `state` was
    evaluated at (for a sharded account, the sum of its items' versions, which only grows);
    a change of the state is written only from a newer version."""

    id: str
    account_id: str
    ledger_id: str
    currency: Currency
    field: MonitorField
    operator: Operator
    threshold: Fraction
    description: str | None
    state: MonitorState
    evaluated_version: int
    created_at: datetime
    request_hash: str
    replayed: bool = False

    @property
    def value(self) -> str:
        """The threshold as the API shows it: an amount in the currency's scale, or a percent."""
        return render_threshold(self.field, self.threshold, self.currency)


_decimal = re.compile(r"^(?P<sign>-?)(?P<whole>[0-9]+)(?:\.(?P<fraction>[0-9]+))?$")
_percent_max = 100


def parse_threshold(field: MonitorField, value: object, currency: Currency) -> Fraction:
    """A monitor's `value` as an exact threshold: minor units of the account's currency
    (at most its scale of decimals), or a percent from 0 to 100 for the utilization."""
    if not isinstance(value, str):
        raise ValidationError("value", 'value must be a decimal string such as "10.50"')
    match = _decimal.fullmatch(value) if len(value) <= limits.amount_text_length_max else None
    if match is None:
        raise ValidationError("value", f'value {value[:80]!r} is not a decimal such as "10.50"')
    negative, fraction = match.group("sign") == "-", match.group("fraction") or ""
    if field is MonitorField.CREDIT_UTILIZATION:
        if len(fraction) > limits.utilization_decimals_max:
            raise ValidationError(
                "value", f"a percent has at most {limits.utilization_decimals_max} decimals"
            )
        percent = Fraction(int(match.group("whole") + fraction), 10 ** len(fraction))
        if negative or percent > _percent_max:
            raise ValidationError("value", "a credit utilization is a percent from 0 to 100")
        return percent
    if len(fraction) > currency.scale:
        raise ValidationError(
            "value", f"value has more than {currency.scale} decimals (the scale of {currency.code})"
        )
    minor = int(match.group("whole") + fraction.ljust(currency.scale, "0"))
    if minor > limits.amount_minor_max:
        raise ValidationError("value", "value is larger than the ledger accepts")
    if negative and minor and not field.may_be_negative:
        raise ValidationError("value", f"{field.value} is never negative")
    return Fraction(-minor if negative else minor)


def render_threshold(field: MonitorField, threshold: Fraction, currency: Currency) -> str:
    """The threshold as a decimal string: an amount with the currency's scale, or a percent
    with no trailing zeros (`"90"`, `"87.5"`)."""
    if field is not MonitorField.CREDIT_UTILIZATION:
        return format_amount(int(threshold), currency)
    scaled = int(threshold * 10**limits.utilization_decimals_max)
    whole, fraction = divmod(scaled, 10**limits.utilization_decimals_max)
    digits = str(fraction).rjust(limits.utilization_decimals_max, "0").rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)
