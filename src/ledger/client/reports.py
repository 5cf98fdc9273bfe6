"""Client routes for reports and the integrity check."""

from __future__ import annotations

from typing import Any, cast

from ledger.client.base import ClientBase
from ledger.client.transport import Call, path


class ReportsClient(ClientBase):
    """A ledger's balance sheet and trial balance, and its reconciliation."""

    def balance_sheet(self, ledger_id: str, currency: str) -> dict[str, Any]:
        """The ledger's balance sheet in one currency."""
        call = Call("GET", path("ledgers", ledger_id, "balance-sheet"), {"currency": currency})
        return cast("dict[str, Any]", self._send(call))

    def trial_balance(self, ledger_id: str, currency: str) -> dict[str, Any]:
        """The ledger's trial balance in one currency."""
        call = Call("GET", path("ledgers", ledger_id, "trial-balance"), {"currency": currency})
        return cast("dict[str, Any]", self._send(call))

    def reconcile(self, ledger_id: str) -> dict[str, Any]:
        """Check the ledger's conservation and every account against its journal."""
        call = Call("POST", path("ledgers", ledger_id, "reconciliations"))
        return cast("dict[str, Any]", self._send(call))
