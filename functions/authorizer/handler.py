"""Bearer API key -> role, scope and key id for the API. Handler: `handler.lambda_handler`."""

from ledger.auth.authorizer import lambda_handler

__all__ = ["lambda_handler"]
