"""The API's Lambda entry point: request id, body bound and authentication, then the routes.

Everything a container reuses is made here, at import: the resolver with its routes and
their validation, the DynamoDB client primed with each operation, and the ledger, so a
Lambda SnapStart snapshot holds them; botocore is traced from then on, and the restore
hook reseeds `random`. The OpenAPI document waits for its route.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from ledger import snapstart
from ledger.api import priming, strict_json
from ledger.api.app import app
from ledger.api.observability import logger, metrics, traced_modules, tracer
from ledger.api.openapi import public_paths
from ledger.api.problems import error_body
from ledger.api.routing import json_type
from ledger.api.runtime import runtime
from ledger.auth.access import Principal
from ledger.domain import limits
from ledger.domain.errors import LedgerError, ValidationError
from ledger.store.deadline import lambda_budget_ms, request_deadline

runtime()
priming.prime(app)
tracer.patch(traced_modules)
snapstart.install()


def body_bytes_max(raw_path: object) -> int:
    """The largest body a route takes: a statement's rows may be many, every other body is small."""
    if isinstance(raw_path, str) and raw_path.endswith("/statement-matches"):
        return limits.statement_match_body_bytes_max
    return limits.request_body_bytes_max


def _body_refusal(event: dict[str, Any]) -> ValidationError | None:
    """A body too large, not base64 when it says so, not UTF-8, not a JSON object
    (powertools would read a JSON array as its first element) or not strict JSON, refused
    before anything else parses it: what passes here is safe for powertools to parse."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            raw = base64.b64decode(body, validate=True)
        except ValueError:
            return ValidationError("body", "the request body is not valid base64")
    else:
        # A lone surrogate passes into the bytes, so the UTF-8 check below refuses it.
        raw = body.encode(errors="surrogatepass")
    bound = body_bytes_max(event.get("rawPath"))
    if len(raw) > bound:
        return ValidationError("body", f"the request body is larger than {bound} bytes")
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        return ValidationError("body", "the request body is not UTF-8")
    if text.strip() and not text.lstrip().startswith("{"):
        return ValidationError("body", "the request body must be a JSON object")
    if text:
        try:
            strict_json.parse(text)
        except ValidationError as error:
            return error
    return None


def _refusal(event: dict[str, Any]) -> LedgerError | None:
    """What is wrong with a request before any route sees it, if anything: first who is
    asking (an unauthenticated caller learns nothing else), then the body."""
    if event.get("rawPath") not in public_paths:
        authorizer = event.get("requestContext", {}).get("authorizer") or {}
        try:
            app.context["principal"] = Principal.from_context(authorizer.get("lambda"))
        except LedgerError as error:
            return error
    return _body_refusal(event)


def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Answer one API Gateway HTTP API (payload v2) event."""
    request_id = event.get("requestContext", {}).get("requestId") or str(uuid.uuid4())
    logger.remove_keys(["entry_id"])
    logger.append_keys(request_id=request_id)
    # The routes record it on the entries they create, as the id the caller is answered with.
    app.context["request_id"] = request_id
    refusal = _refusal(event)
    if refusal is None:
        remaining = getattr(context, "get_remaining_time_in_millis", None)
        budget_ms = lambda_budget_ms(None if remaining is None else remaining())
        with request_deadline(budget_ms):
            result = app.resolve(event, context)
    else:
        app.context.clear()
        result = {
            "statusCode": refusal.status,
            "headers": {"Content-Type": json_type},
            "body": error_body(refusal),
            "isBase64Encoded": False,
        }
    headers: dict[str, str] = result.setdefault("headers", {})
    headers["X-Request-Id"] = request_id
    return result


@metrics.log_metrics
@tracer.capture_lambda_handler
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda handler of the API."""
    return handle(event, context)
