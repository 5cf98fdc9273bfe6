"""The reconciliation function: every ledger reconciled in turn, on a schedule."""
