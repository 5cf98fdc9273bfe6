"""Serverless Ledger: double-entry bookkeeping on DynamoDB, guarded by transaction conditions."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledger.domain.errors import LedgerError
    from ledger.domain.inputs import LineInput
    from ledger.domain.model import Account, AccountType, Balance, Entry, LedgerRecord, Page, Side
    from ledger.service import Ledger
    from ledger.store.memory import MemoryStore

# Where each name lives: importing the package (or `ledger.domain.limits`, say) loads none of them,
# so the authorizer's Lambda pays only for what it uses.
_homes = {
    "Account": "ledger.domain.model",
    "AccountType": "ledger.domain.model",
    "Balance": "ledger.domain.model",
    "Entry": "ledger.domain.model",
    "Ledger": "ledger.service",
    "LedgerError": "ledger.domain.errors",
    "LedgerRecord": "ledger.domain.model",
    "LineInput": "ledger.domain.inputs",
    "MemoryStore": "ledger.store.memory",
    "Page": "ledger.domain.model",
    "Side": "ledger.domain.model",
}

__all__ = [
    "Account",
    "AccountType",
    "Balance",
    "Entry",
    "Ledger",
    "LedgerError",
    "LedgerRecord",
    "LineInput",
    "MemoryStore",
    "Page",
    "Side",
]


if not TYPE_CHECKING:
    # Hidden from type checkers, which see the imports above: a misspelt name stays an error.

    def __getattr__(name: str) -> Any:
        """A re-exported name, imported from its module on first use."""
        home = _homes.get(name)
        if home is None:
            raise AttributeError(f"module 'ledger' has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        globals()[name] = value
        return value
