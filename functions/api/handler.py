"""API Gateway HTTP API (payload v2) -> the ledger's routes. Handler: `handler.lambda_handler`."""

from ledger.api.handler import lambda_handler

__all__ = ["lambda_handler"]
