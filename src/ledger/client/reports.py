"""Client routes for reports and the integrity check."""

from __future__ import annotations

from ledger.client import decode
from ledger.client.base import ClientBase
from ledger.client.transport import Call, path
from ledger.domain.results import BalanceSheet, Reconciliation, TrialBalance


class ReportsClient(ClientBase):
    """A ledger's balance sheet and trial balance, and its reconciliation."""

    def balance_sheet(self, ledger_id: str, currency: str) -> BalanceSheet:
        """The ledger's balance sheet in one currency."""
        call = Call("GET", path("ledgers", ledger_id, "balance-sheet"), {"currency": currency})
        return decode.balance_sheet(self._send(call))

    def trial_balance(self, ledger_id: str, currency: str) -> TrialBalance:
        """The ledger's trial balance in one currency."""
        call = Call("GET", path("ledgers", ledger_id, "trial-balance"), {"currency": currency})
        return decode.trial_balance(self._send(call))

    def reconcile(self, ledger_id: str) -> Reconciliation:
        """Check the ledger's conservation and every account against its journal."""
        call = Call("POST", path("ledgers", ledger_id, "reconciliations"))
        return decode.reconciliation(self._send(call))
