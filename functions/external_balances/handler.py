"""EventBridge schedule -> each configured source's balance checked against the ledger.
Handler: `handler.lambda_handler`."""

from ledger.jobs.external_balances_function import lambda_handler

__all__ = ["lambda_handler"]
