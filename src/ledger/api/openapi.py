"""The served OpenAPI document: the resolver's own, completed with the error contract,
the bearer scheme and the headers every response carries."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

from ledger.api.views import ErrorView

title = "Serverless Ledger API"
version = "1"
public_paths = frozenset({"/v1/health", "/v1/openapi.json"})
_error_statuses = {
    "400": "Invalid request: `validation_error` (details name the field) or `unbalanced_entry`",
    "401": "Missing, unknown or revoked API key: `unauthorized`",
    "403": "The key's role or scope does not allow this write: `forbidden`",
    "404": "No such object, or outside the key's scope: `not_found`",
    "409": "`idempotency_key_reused`, `already_resolved`, `already_reversed`, `code_taken`",
    "414": "The request line is too long for the gateway: `validation_error`",
    "422": "The ledger refuses the movement (e.g. `insufficient_funds`)",
    "429": "Too many requests: `rate_limited`",
    "431": "The request line and headers exceed the gateway's 10,240 bytes: `validation_error`",
    "500": "A failure of the ledger itself: `internal_error`",
    "503": "Contention outlasted the retries: `conflict`; safe to retry with the same key",
}
_pydantic_errors = ("HTTPValidationError", "ValidationError", "ResponseValidationError")


def document(app: APIGatewayHttpResolver) -> dict[str, Any]:
    """The OpenAPI 3 document of the routes `app` serves."""
    schema = app.get_openapi_schema(title=title, version=version)
    doc: dict[str, Any] = schema.model_dump(mode="json", by_alias=True, exclude_none=True)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in _pydantic_errors:
        schemas.pop(name, None)
    error_schema = ErrorView.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(error_schema.pop("$defs", {}))
    schemas["Error"] = error_schema
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "An API key."}
    }
    doc["security"] = [{"bearer": []}]
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            _complete(path, method, operation)
    return doc


def _complete(path: str, method: str, operation: dict[str, Any]) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    responses.pop("422", None)
    request_id = {
        "X-Request-Id": {
            "description": "The request's id, for support and logs.",
            "schema": {"type": "string"},
        }
    }
    for status, response in responses.items():
        headers = response.setdefault("headers", {})
        headers.update(request_id)
        if method == "post" and status.startswith("2"):
            headers["Idempotent-Replayed"] = {
                "description": "`true` when this is the original response of a repeated "
                "Idempotency-Key.",
                "schema": {"type": "string", "enum": ["true"]},
            }
    if path in public_paths:
        operation["security"] = []
        return
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for status, description in _error_statuses.items():
        responses[status] = {"description": description, "content": error, "headers": request_id}
