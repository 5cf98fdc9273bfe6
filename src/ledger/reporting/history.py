"""Balances of the past from history records (pure).

A balance item's totals at a point of either time axis are sums of history deltas; an
account's are the sums over its items."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime

from ledger.domain.model import Account, Balance, Totals
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
