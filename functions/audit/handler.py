"""DynamoDB Streams (NEW_AND_OLD_IMAGES) -> audit records. Handler: `handler.lambda_handler`."""

from ledger.consumers.audit import lambda_handler

__all__ = ["lambda_handler"]
