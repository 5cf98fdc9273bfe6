"""Health, the OpenAPI document, and the request id every response carries."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from .builders import new_account, new_ledger
from .harness import Api, Keys

# The routes of API.md served today (statement, ?at=, audit and monitors are not yet).
contract_routes = {
    ("get", "/v1/health"),
    ("get", "/v1/openapi.json"),
    ("post", "/v1/ledgers"),
    ("get", "/v1/ledgers"),
    ("get", "/v1/ledgers/{ledger_id}"),
    ("post", "/v1/accounts"),
    ("get", "/v1/accounts"),
    ("get", "/v1/accounts/{account_id}"),
    ("patch", "/v1/accounts/{account_id}"),
    ("get", "/v1/accounts/{account_id}/balance"),
    ("post", "/v1/entries"),
    ("get", "/v1/entries"),
    ("get", "/v1/entries/{entry_id}"),
    ("post", "/v1/entries/{entry_id}/post"),
    ("post", "/v1/entries/{entry_id}/void"),
    ("post", "/v1/entries/{entry_id}/reverse"),
    ("post", "/v1/deposits"),
    ("post", "/v1/withdrawals"),
    ("post", "/v1/spends"),
    ("post", "/v1/refunds"),
    ("post", "/v1/transfers"),
    ("post", "/v1/holds"),
    ("post", "/v1/holds/{hold_id}/confirm"),
    ("post", "/v1/holds/{hold_id}/release"),
    ("post", "/v1/escrows"),
    ("post", "/v1/escrows/{escrow_id}/release"),
    ("post", "/v1/escrows/{escrow_id}/refund"),
    ("post", "/v1/conversions"),
    ("post", "/v1/batches"),
    ("post", "/v1/api-keys"),
    ("get", "/v1/api-keys"),
    ("get", "/v1/api-keys/{key_id}"),
    ("delete", "/v1/api-keys/{key_id}"),
}
public_routes = {("get", "/v1/health"), ("get", "/v1/openapi.json")}
# 414 and 431: the gateway's refusals of an oversized request line or headers.
error_statuses = {"400", "401", "403", "404", "409", "414", "422", "429", "431", "500", "503"}
error_ref = {"$ref": "#/components/schemas/Error"}


@pytest.fixture(scope="module")
def document(api: Api) -> dict[str, Any]:
    """The served OpenAPI document, fetched without a key."""
    reply = api.call("GET", "/v1/openapi.json", key=None)
    assert reply.status == 200, reply.json
    body: dict[str, Any] = reply.json
    return body


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Every (method, path, operation) the document describes."""
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def served_routes() -> set[tuple[str, str]]:
    """Every (method, OpenAPI path) the resolver serves."""
    from ledger.api.app import app

    routes = app._static_routes + app._dynamic_routes
    return {(route.method.lower(), route.openapi_path) for route in routes}


@pytest.mark.parametrize("key", ["none", "admin"])
def test_health_answers_ok_with_or_without_a_key(api: Api, key: str) -> None:
    # GIVEN / WHEN health is asked, without a key and with one
    reply = api.call("GET", "/v1/health", key=None if key == "none" else api.admin_secret)

    # THEN it answers ok
    assert (reply.status, reply.json) == (200, {"status": "ok"})


def test_health_answers_even_with_a_key_that_is_not_valid(api: Api) -> None:
    # GIVEN / WHEN health is asked with a key nobody issued
    reply = api.call("GET", "/v1/health", key="lk_not-a-key-of-this-ledger")

    # THEN it still answers: it needs no key
    assert (reply.status, reply.json) == (200, {"status": "ok"})


def test_the_openapi_document_is_served_without_a_key(document: dict[str, Any]) -> None:
    # GIVEN / WHEN the document is fetched without a key (the fixture)
    # THEN it is an OpenAPI 3 document of this API
    assert document["openapi"].startswith("3.")
    assert document["info"] == {"title": "Serverless Ledger API", "version": "1"}


def test_every_served_route_is_documented_and_every_documented_route_is_served(
    document: dict[str, Any],
) -> None:
    # GIVEN the routes the resolver serves and the document's
    documented = {(method, path) for method, path, _ in operations(document)}

    # WHEN / THEN they are the same, and include every route of the contract served today
    assert documented == served_routes()
    assert contract_routes <= documented


def test_every_operation_carries_a_summary_of_its_own(document: dict[str, Any]) -> None:
    # GIVEN every operation the document describes
    summaries = {
        (method, path): operation.get("summary", "")
        for method, path, operation in operations(document)
    }

    # WHEN / THEN each has a short sentence, not the generated "METHOD /path", and no two
    # operations share one
    for (method, path), summary in summaries.items():
        assert summary.strip(), (method, path)
        assert summary != f"{method.upper()} {path}", (method, path)
        assert len(summary) <= 80, (method, path)
    assert len(set(summaries.values())) == len(summaries)


def test_the_api_page_names_every_served_route_and_no_other(document: dict[str, Any]) -> None:
    # GIVEN the routes docs/api.md names (`METHOD /v1/...`), path parameters as `{}`
    page = (Path(__file__).resolve().parents[2] / "docs" / "api.md").read_text()
    route = re.compile(r"`(GET|POST|PUT|PATCH|DELETE) (/v1/[^` ?]*)")

    def shape(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "{}", path)

    named = {(method.lower(), shape(path)) for method, path in route.findall(page)}

    # WHEN / THEN they are exactly the routes the document describes
    assert named == {(method, shape(path)) for method, path, _ in operations(document)}


def test_every_keyed_operation_documents_the_errors_as_the_error_schema(
    document: dict[str, Any],
) -> None:
    # GIVEN every operation that needs a key
    for method, path, operation in operations(document):
        if (method, path) in public_routes:
            continue
        responses = operation["responses"]

        # WHEN / THEN each error status is documented with the Error schema, and
        # pydantic's own 422 is gone
        assert error_statuses <= set(responses), (method, path)
        for status in error_statuses:
            assert responses[status]["content"]["application/json"]["schema"] == error_ref
        assert "security" not in operation, (method, path)


def test_the_error_schema_is_the_contracts_error_body(document: dict[str, Any]) -> None:
    # GIVEN the document's schemas
    schemas = document["components"]["schemas"]

    # WHEN the Error schema is followed
    error = schemas["Error"]
    detail = schemas[error["properties"]["error"]["$ref"].rsplit("/", 1)[-1]]

    # THEN it is {"error": {"code", "message", "details"}}, and pydantic's are gone
    assert error["required"] == ["error"]
    assert sorted(detail["required"]) == ["code", "details", "message"]
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas


def test_health_and_openapi_are_documented_as_needing_no_key(document: dict[str, Any]) -> None:
    # GIVEN / WHEN the document's security
    paths = document["paths"]

    # THEN the API needs a bearer key, except for health and the document itself
    assert document["security"] == [{"bearer": []}]
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert paths["/v1/health"]["get"]["security"] == []
    assert paths["/v1/openapi.json"]["get"]["security"] == []


def test_every_response_documents_the_request_id_and_posts_the_replay_header(
    document: dict[str, Any],
) -> None:
    # GIVEN every documented response
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            # WHEN / THEN each names X-Request-Id; each POST success names Idempotent-Replayed
            assert "X-Request-Id" in response["headers"], (method, path, status)
            replayable = method == "post" and status.startswith("2")
            assert ("Idempotent-Replayed" in response["headers"]) == replayable, (
                method,
                path,
                status,
            )


def test_creating_posts_document_the_idempotency_key_header(document: dict[str, Any]) -> None:
    # GIVEN the operations that create something
    creating = ["/v1/ledgers", "/v1/accounts", "/v1/entries", "/v1/deposits", "/v1/batches"]

    # WHEN / THEN each takes an optional Idempotency-Key header
    for path in creating:
        parameters = document["paths"][path]["post"]["parameters"]
        header = next(item for item in parameters if item["name"].lower() == "idempotency-key")
        assert (header["in"], header.get("required", False)) == ("header", False)


def test_amounts_are_documented_as_decimal_strings(document: dict[str, Any]) -> None:
    # GIVEN the deposit body's schema
    schemas = document["components"]["schemas"]
    request = document["paths"]["/v1/deposits"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    body = schemas[request["schema"]["$ref"].rsplit("/", 1)[-1]]

    # WHEN / THEN its amount is a string of digits, never a number
    amount = body["properties"]["amount"]
    assert (amount["type"], amount["pattern"]) == ("string", r"^[0-9]+(\.[0-9]+)?$")


def test_every_reference_in_the_document_resolves(document: dict[str, Any]) -> None:
    # GIVEN every $ref anywhere in the document
    references: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                references.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)

    # WHEN / THEN each names a schema the document holds
    schemas = document["components"]["schemas"]
    assert references
    missing = {
        ref for ref in references if ref.removeprefix("#/components/schemas/") not in schemas
    }
    assert missing == set()


@pytest.fixture(scope="module")
def account_id(api: Api) -> str:
    """An account for the request-id checks."""
    return new_account(api, new_ledger(api))


request_id_cases: dict[str, tuple[str, str, Any, dict[str, Any], int]] = {
    "200 health": ("GET", "/v1/health", None, {"key": None}, 200),
    "200 openapi": ("GET", "/v1/openapi.json", None, {"key": None}, 200),
    "200 read": ("GET", "/v1/accounts/{account}", None, {}, 200),
    "201 deposit": ("POST", "/v1/deposits", {"account_id": "{account}", "amount": "1"}, {}, 201),
    "400 body over 64 KiB": ("POST", "/v1/ledgers", None, {"raw_body": b"x" * 70_000}, 400),
    "401 body over 64 KiB without a key": (
        "POST",
        "/v1/ledgers",
        None,
        {"raw_body": b"x" * 70_000, "key": None},
        401,
    ),
    "400 validation": ("POST", "/v1/ledgers", {"name": 5}, {}, 400),
    "401 no key": ("GET", "/v1/accounts/{account}", None, {"key": None}, 401),
    "401 unknown key": (
        "GET",
        "/v1/accounts/{account}",
        None,
        {"key": "lk_unknown-key-abcdef"},
        401,
    ),
    "403 role": ("POST", "/v1/ledgers", {"name": "N"}, {"key": "reader"}, 403),
    "404 route": ("GET", "/v1/nowhere", None, {}, 404),
    "404 object": ("GET", "/v1/accounts/nonsense", None, {}, 404),
    "422 refusal": (
        "POST",
        "/v1/withdrawals",
        {"account_id": "{account}", "amount": "999999"},
        {},
        422,
    ),
}


@pytest.mark.parametrize("name", list(request_id_cases))
def test_every_response_carries_the_gateways_request_id(
    api: Api, keys: Keys, account_id: str, name: str
) -> None:
    # GIVEN a request of each kind of outcome
    method, path, body, options, status = request_id_cases[name]
    if options.get("key") == "reader":
        options = {**options, "key": keys.reader}
    if isinstance(body, dict):
        body = {
            field: value.format(account=account_id) if isinstance(value, str) else value
            for field, value in body.items()
        }

    # WHEN it is answered
    reply = api.call(method, path.format(account=account_id), body, **options)

    # THEN the response's X-Request-Id is requestContext.requestId
    assert reply.status == status, reply.json
    assert reply.headers["X-Request-Id"] == reply.request_id
    assert api.last_event["requestContext"]["requestId"] == reply.request_id


def test_a_request_without_a_request_id_gets_a_fresh_one(api: Api) -> None:
    # GIVEN an event from which the gateway's request id is missing
    from ledger.api.handler import handle

    api.call("GET", "/v1/health", key=None)
    event = api.last_event
    del event["requestContext"]["requestId"]

    # WHEN the handler answers it
    result = handle(event, None)

    # THEN the response still carries a request id, a fresh UUID
    assert result["statusCode"] == 200
    assert uuid.UUID(result["headers"]["X-Request-Id"])


def test_an_event_without_an_authorizer_context_is_401(api: Api) -> None:
    # GIVEN an event that reached the handler with no authorizer context at all
    from ledger.api.handler import handle

    api.call("GET", "/v1/ledgers", query={"owner_id": "someone"})
    event = api.last_event
    del event["requestContext"]["authorizer"]

    # WHEN the handler answers it
    result = handle(event, None)

    # THEN it is refused as unauthenticated, with the request id
    assert result["statusCode"] == 401
    assert result["headers"]["X-Request-Id"] == event["requestContext"]["requestId"]
    assert '"code":"unauthorized"' in result["body"]
