"""Scheduled jobs over the whole table: library code the thin functions in `functions/`
(and `ledger dev`, on its own schedule) run."""
