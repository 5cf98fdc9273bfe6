"""The JSON objects a derived event's detail carries, rendered as the API renders them
(the consumers do not import the API: a test holds the two renderings equal)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ledger.domain.model import Balance
from ledger.domain.money import format_amount
from ledger.domain.monitors import Monitor

balance_amounts = (
    "posted",
    "pending_in",
    "pending_out",
    "held",
    "escrowed",
    "available",
    "credit_limit",
    "credit_used",
    "spendable",
    "total_in",
    "total_out",
)


def moment(value: datetime) -> str:
    """RFC 3339 in UTC with a `Z`."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def balance_detail(balance: Balance) -> dict[str, Any]:
    """A balance object of now, every amount with exactly the currency's scale."""
    return {
        "account_id": balance.account_id,
        "currency": balance.currency.code,
        **{
            name: format_amount(getattr(balance, name), balance.currency)
            for name in balance_amounts
        },
        "version": balance.version,
        "as_of": moment(balance.as_of),
    }


def monitor_detail(monitor: Monitor) -> dict[str, Any]:
    """A monitor as the API shows it, with the account version its state is of."""
    return {
        "id": monitor.id,
        "account_id": monitor.account_id,
        "ledger_id": monitor.ledger_id,
        "field": monitor.field.value,
        "operator": monitor.operator.value,
        "value": monitor.value,
        "description": monitor.description,
        "state": monitor.state.value,
        "version": monitor.evaluated_version,
        "created_at": moment(monitor.created_at),
    }
