"""Balances of the past and statement lines from history records (pure).

A balance item's totals at a point of either time axis are sums of history deltas; an
account's are the sums over its items."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from ledger.domain.model import Account, Balance, Side, Totals
from ledger.planning.history import HistoryRecord


def summed(totals: Iterable[Totals]) -> Totals:
    """Field by field sum."""
    return sum(totals, Totals())


def deltas_of(records: Iterable[HistoryRecord]) -> Totals:
    """What the records moved, together."""
    return summed(record.deltas for record in records)


def past_balance(
    account: Account,
    totals: Totals,
    version: int,
    as_of: datetime,
    *,
    at: datetime | None,
    effective_at: datetime | None,
) -> Balance:
    """The balance object of the account's totals at a past point, carrying the times asked.
    The credit limit is the account's as it is now."""
    then = replace(account, totals=totals, version=version, updated_at=as_of)
    return replace(Balance.of(then), at=at, effective_at=effective_at)


@dataclass(frozen=True)
class Shown:
    """The two amounts of a statement's balances, in the account's orientation."""

    posted: int
    available: int


def shown(account: Account, totals: Totals) -> Shown:
    """The posted and available balance of the account at these totals."""
    balance = Balance.of(replace(account, totals=totals))
    return Shown(posted=balance.posted, available=balance.available)


@dataclass(frozen=True)
class StatementLine:
    """One version of one of the account's items that an entry made, with the account's
    balance after it."""

    entry_id: str
    version: int
    kind: str
    side: Side
    amount: int
    effective_at: datetime
    created_at: datetime
    balance_after: Shown


def side_and_amount(account: Account, deltas: Totals) -> tuple[Side, int]:
    """The side and size of what a record moved on the account: its posted movement, or
    for a record that posted nothing (a hold, a release) its pending one."""
    debit = deltas.posted_debits
    credit = deltas.posted_credits
    if debit == 0 and credit == 0:
        debit, credit = deltas.pending_debits, deltas.pending_credits
    net = debit - credit
    if net == 0:
        return account.normal_balance, 0
    return (Side.DEBIT, net) if net > 0 else (Side.CREDIT, -net)


def statement_lines(
    account: Account, opening: Totals, records: Iterable[HistoryRecord]
) -> tuple[list[StatementLine], Totals]:
    """The lines of the records made by entries, each with the running balance after it,
    and the totals after the last record."""
    running = opening
    lines: list[StatementLine] = []
    for record in records:
        running = running + record.deltas
        if record.entry_id is None:
            continue
        side, amount = side_and_amount(account, record.deltas)
        lines.append(
            StatementLine(
                entry_id=record.entry_id,
                version=record.version,
                kind=record.kind,
                side=side,
                amount=amount,
                effective_at=record.effective_at,
                created_at=record.created_at,
                balance_after=shown(account, running),
            )
        )
    return lines, running
