"""The resolver: every route, validation on, and every failure in the error contract."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    ResponseValidationError,
    ValidationException,
)

from ledger.api import openapi as openapi_document
from ledger.api.observability import count, logger
from ledger.api.problems import error_body, validation_error
from ledger.api.routes import (
    accounts,
    audit,
    currencies,
    entries,
    external_balances,
    keys,
    ledgers,
    meta,
    monitors,
    movements,
    posting_rules,
    statement_matches,
    statements,
)
from ledger.api.routing import answers, json_type
from ledger.domain.errors import (
    Conflict,
    GuardMismatch,
    InsufficientFunds,
    InternalError,
    LedgerError,
    NotFound,
    UnbalancedPlan,
)

app = APIGatewayHttpResolver(enable_validation=True)
for module in (
    meta,
    ledgers,
    currencies,
    accounts,
    entries,
    movements,
    keys,
    audit,
    statements,
    monitors,
):
    app.include_router(module.router)
app.include_router(posting_rules.router)
app.include_router(statement_matches.router)
app.include_router(external_balances.router)

# Worth an alarm or a dashboard line when they climb; by class, since internal errors
# share one code. GuardMismatch and ImbalancedEntries must stay at zero.
_counted_errors: dict[type[LedgerError], str] = {
    InsufficientFunds: "InsufficientFunds",
    Conflict: "Conflicts",
    GuardMismatch: "GuardMismatch",
    UnbalancedPlan: "ImbalancedEntries",
}


def error_response(error: LedgerError) -> Response[Any]:
    """An error of the contract as a response."""
    for kind, metric in _counted_errors.items():
        if isinstance(error, kind):
            count(metric)
    return Response(error.status, json_type, error_body(error))


def refused(error: LedgerError) -> Response[Any]:
    """A refusal of the ledger: its code and status are the contract."""
    if isinstance(error, GuardMismatch):
        logger.error(
            "a condition DynamoDB refused passes its own check",
            extra={"operation": error.operation, "target": error.target},
        )
    return error_response(error)


def invalid(error: ValidationException) -> Response[Any]:
    """A request the schemas refuse: malformed JSON, wrong types, unknown fields."""
    return error_response(validation_error(error.errors()))


def misrendered(error: ResponseValidationError) -> Response[Any]:
    """A response that breaks its own schema is the ledger's fault, never the caller's."""
    logger.error("response failed its schema", extra={"errors": str(error.errors())})
    return error_response(InternalError("the ledger failed to answer; retry with the same key"))


def crashed(error: Exception) -> Response[Any]:
    """Anything unforeseen: logged with its traceback, answered as `internal_error`."""
    logger.exception("unhandled error")
    return error_response(InternalError("the ledger failed to answer; retry with the same key"))


# powertools leaves `exception_handler` unannotated; registering by call keeps the types.
app.exception_handler(LedgerError)(refused)
app.exception_handler(ValidationException)(invalid)
app.exception_handler(ResponseValidationError)(misrendered)
app.exception_handler(Exception)(crashed)


@app.not_found
def no_route(error: Exception) -> Response[Any]:
    """A path (or method) the API does not serve."""
    return error_response(NotFound("route", app.current_event.raw_path))


@cache
def openapi() -> dict[str, Any]:
    """The OpenAPI document, built on its first request only (it costs a few ms)."""
    return openapi_document.document(app)


@app.get(
    "/v1/openapi.json",
    responses=answers(200, dict, "This API's OpenAPI 3 document"),
    summary="This API's OpenAPI document",
    tags=["meta"],
)
def serve_openapi() -> Response[Any]:
    """This API's OpenAPI document (no key needed)."""
    return Response(200, json_type, openapi())
