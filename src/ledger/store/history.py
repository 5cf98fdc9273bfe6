"""Reads of balance-item history: the two orders a store keeps it in, and their queries.

Each history record of a balance item is kept in two orders: by when it was recorded
(`created_at`) and by when it takes effect (`effective_at`). A record's sort key in either
order is `<fixed-width timestamp>#<version, 12 digits>`, so text order is time order and
ties fall in version order. Query bounds are bare timestamps (or sort keys): a bare
timestamp is never equal to a sort key, so `high = timestamp(K)` excludes records at K."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from ledger.domain.timestamps import timestamp
from ledger.planning.history import HistoryRecord

Basis = Literal["recorded", "effective"]
bases: tuple[Basis, ...] = ("recorded", "effective")
# Above every sort key that starts with a given timestamp: `timestamp(K) + through` as the
# upper bound takes every record at K.
through = "#~"
lowest = "0"
highest = "~"


def sort_key(record: HistoryRecord, basis: Basis) -> str:
    """The record's position in one of its two orders."""
    moment = record.created_at if basis == "recorded" else record.effective_at
    return f"{timestamp(moment)}#{record.version:012d}"


def after(position: str) -> str:
    """The lowest bound above `position` and below every later sort key (all are of one width)."""
    return position + " "


def below(position: str) -> str:
    """The highest bound below `position` and above every earlier sort key (all are of one
    width, and a sort key ends in a digit)."""
    return position[:-1] + chr(ord(position[-1]) - 1) + highest


def at_or_before(moment: datetime) -> str:
    """The upper bound that takes every record at `moment` and before."""
    return timestamp(moment) + through


def before(moment: datetime) -> str:
    """The upper bound that takes every record strictly before `moment`."""
    return timestamp(moment)


def from_moment(moment: datetime) -> str:
    """The lower bound that takes every record at `moment` and after."""
    return timestamp(moment)


@dataclass(frozen=True)
class HistoryQuery:
    """Records of one balance item with `low <= sort key <= high` in one order, at most
    `limit` of them, oldest first unless `descending`."""

    basis: Basis
    limit: int
    low: str = lowest
    high: str = highest
    descending: bool = False

    def keeps(self, position: str) -> bool:
        """Whether a record at this sort key is in the query's range."""
        return self.low <= position <= self.high


def day_key(moment: datetime) -> str:
    """The sort key of the day aggregate an effective time (UTC) falls in."""
    return f"DAY#{timestamp(moment)[:10]}"


def month_key(moment: datetime) -> str:
    """The sort key of the month aggregate an effective time (UTC) falls in."""
    return f"MONTH#{timestamp(moment)[:7]}"
