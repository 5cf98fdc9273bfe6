"""EventBridge schedule -> expired pending entries voided, expiring ones noticed. Handler:
`handler.lambda_handler`."""

from ledger.jobs.expiry_function import lambda_handler

__all__ = ["lambda_handler"]
