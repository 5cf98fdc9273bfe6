"""EventBridge schedule -> every ledger reconciled in turn. Handler: `handler.lambda_handler`."""

from ledger.jobs.reconciliation_function import lambda_handler

__all__ = ["lambda_handler"]
