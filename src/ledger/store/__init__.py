"""Stores execute write plans atomically and answer reads; every store behaves the same."""

from __future__ import annotations

from typing import Protocol

from ledger.model import Account, Entry, LedgerRecord, Page
from ledger.plan import WritePlan
from ledger.store.keys import IndexQuery


class Store(Protocol):
    """What the ledger needs from storage."""

    def execute(self, plan: WritePlan) -> None:
        """Apply every operation of a WritePlan, or none; raise the first violation."""

    def get_ledger(self, ledger_id: str) -> LedgerRecord | None:
        """A ledger, or None."""

    def get_account(self, account_id: str) -> Account | None:
        """An account with its current balances (strongly consistent), or None."""

    def get_entry(self, entry_id: str) -> Entry | None:
        """An entry, or None."""

    def list_ledgers(self, query: IndexQuery, limit: int, cursor: str | None) -> Page[LedgerRecord]:
        """A page of ledgers."""

    def list_accounts(self, query: IndexQuery, limit: int, cursor: str | None) -> Page[Account]:
        """A page of accounts."""

    def list_entries(self, query: IndexQuery, limit: int, cursor: str | None) -> Page[Entry]:
        """A page of entries."""
