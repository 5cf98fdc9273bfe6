"""SQS (inbound events) -> entries through posting rules. Handler: `handler.lambda_handler`."""

from ledger.consumers.inbound import lambda_handler

__all__ = ["lambda_handler"]
