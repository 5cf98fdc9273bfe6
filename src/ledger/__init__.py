"""Serverless Ledger: double-entry bookkeeping on DynamoDB, guarded by transaction conditions."""

from ledger.errors import LedgerError
from ledger.model import Account, AccountType, Balance, Entry, LedgerRecord, Page, Side
from ledger.requests import LineInput
from ledger.service import Ledger
from ledger.store.memory import MemoryStore

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
