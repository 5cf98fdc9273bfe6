"""DynamoDB Streams (NEW_AND_OLD_IMAGES) -> history records. Handler: `handler.lambda_handler`."""

from ledger.consumers.history import lambda_handler

__all__ = ["lambda_handler"]
