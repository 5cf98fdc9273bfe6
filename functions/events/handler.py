"""DynamoDB Streams (NEW_AND_OLD_IMAGES) -> EventBridge. Handler: `handler.lambda_handler`."""

from ledger.consumers.events import lambda_handler

__all__ = ["lambda_handler"]
