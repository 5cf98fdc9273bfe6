"""DynamoDB Streams (NEW_AND_OLD_IMAGES) -> monitor events in the outbox.

Handler: `handler.lambda_handler`.
"""

from ledger.consumers.monitors import lambda_handler

__all__ = ["lambda_handler"]
