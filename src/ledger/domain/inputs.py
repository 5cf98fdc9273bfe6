"""What callers give the ledger, embedded or over HTTP: amounts and journal lines."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ledger.domain.model import Side

# Major units as a decimal string or a Decimal: never a float, never an int (whose units
# nobody could tell).
Amount = str | Decimal


@dataclass(frozen=True)
class LineInput:
    """One line of a journal entry as a caller gives it."""

    account_id: str
    side: Side | str
    amount: Amount
    currency: str | None = None
