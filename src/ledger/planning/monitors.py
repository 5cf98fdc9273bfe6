"""Monitors evaluated: the figure a monitor watches in a balance, its state there, the
crossing a newer version makes, and the entries an `entry_amount` monitor fires for."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from fractions import Fraction

from ledger.domain.model import Balance, Entry
from ledger.domain.monitors import Monitor, MonitorField, MonitorState, Operator
from ledger.planning.hashing import request_hash

_percent = 100


def figure(field: MonitorField, balance: Balance) -> Fraction:
    """The exact figure of the balance a balance monitor compares: an amount in minor units,
    or the credit utilization in percent (0 while the credit limit is 0)."""
    match field:
        case MonitorField.CREDIT_UTILIZATION:
            if balance.credit_limit == 0:
                return Fraction(0)
            return Fraction(balance.credit_used * _percent, balance.credit_limit)
        case MonitorField.ENTRY_AMOUNT:
            raise ValueError("an entry_amount monitor watches entries, not the balance")
        case _:
            return Fraction(getattr(balance, field.value))


def state_in(monitor: Monitor, balance: Balance) -> MonitorState:
    """The state a monitor has in this balance; an `entry_amount` monitor is always `ok`."""
    if not monitor.field.watches_balance:
        return MonitorState.OK
    holds = monitor.operator.holds(figure(monitor.field, balance), monitor.threshold)
    return MonitorState.TRIGGERED if holds else MonitorState.OK


def crossing(monitor: Monitor, balance: Balance) -> MonitorState | None:
    """The state a balance monitor crosses into at this balance's version, if it crosses:
    None when the version is not newer than the one the state was evaluated at (a
    redelivered or older change), or when the state stays as it is."""
    if not monitor.field.watches_balance or balance.version <= monitor.evaluated_version:
        return None
    state = state_in(monitor, balance)
    return None if state is monitor.state else state


def entry_amount(entry: Entry, account_id: str) -> int:
    """What an entry moves on one account: the sum of its lines' amounts on it."""
    return sum(line.amount for line in entry.lines if line.account_id == account_id)


def fires_for(monitor: Monitor, entry: Entry) -> bool:
    """Whether an `entry_amount` monitor fires for an entry on its account: one made since
    the monitor was, whose amount there satisfies it."""
    if monitor.field is not MonitorField.ENTRY_AMOUNT or entry.created_at < monitor.created_at:
        return False
    amount = entry_amount(entry, monitor.account_id)
    return amount > 0 and monitor.operator.holds(Fraction(amount), monitor.threshold)


def new_monitor(
    monitor_id: str,
    balance: Balance,
    *,
    ledger_id: str,
    field: MonitorField,
    operator: Operator,
    threshold: Fraction,
    description: str | None,
    now: datetime,
) -> Monitor:
    """A monitor of the account whose balance this is, evaluated at its version."""
    meaning = {
        "account_id": balance.account_id,
        "field": field.value,
        "operator": operator.value,
        "threshold": str(threshold),
        "description": description,
    }
    monitor = Monitor(
        id=monitor_id,
        account_id=balance.account_id,
        ledger_id=ledger_id,
        currency=balance.currency,
        field=field,
        operator=operator,
        threshold=threshold,
        description=description,
        state=MonitorState.OK,
        evaluated_version=balance.version,
        created_at=now,
        request_hash=request_hash(meaning),
    )
    return replace(monitor, state=state_in(monitor, balance))
