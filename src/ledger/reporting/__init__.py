"""Pure reports over balances: trial balance, balance sheet, reconciliation."""
