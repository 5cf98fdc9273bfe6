"""Run alone in a fresh interpreter: import the API and the authorizer as Lambda does,
then count what their first requests still build. Prints one JSON object."""

from __future__ import annotations

import json
import warnings
from datetime import UTC, datetime
from typing import Any

import botocore.model
from aws_lambda_powertools.event_handler.openapi import compat
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.endpoint_provider import EndpointProvider
from pydantic import TypeAdapter

built: list[str] = []
resolved: list[str] = []
sent: list[str] = []


def counted_type_adapter(*arguments: Any, **options: Any) -> TypeAdapter[Any]:
    """Record a TypeAdapter built, then build it."""
    built.append(repr(arguments[0]))
    return TypeAdapter(*arguments, **options)


_shape_by_name = botocore.model.ShapeResolver.get_shape_by_name


def counted_shape(self: botocore.model.ShapeResolver, *arguments: Any) -> Any:
    """Record each shape resolved, then resolve it."""
    resolved.append(str(arguments[0]))
    return _shape_by_name(self, *arguments)


class EmptyBody:
    """The body of an empty DynamoDB reply."""

    def stream(self, **_: Any) -> Any:
        yield b"{}"


def empty_reply(request: Any, **_: Any) -> AWSResponse:
    """What DynamoDB answers a GetItem of a missing item, without the network."""
    sent.append(request.headers["X-Amz-Target"].decode())
    return AWSResponse(request.url, 200, HTTPHeaders(), EmptyBody())


def endpoint_misses() -> int:
    """How many endpoints botocore has resolved anew, not from its cache, so far."""
    provider: Any = EndpointProvider
    misses: int = provider._resolve_endpoint.cache_info().misses
    return misses


def event(method: str, path: str, body: bytes = b"") -> dict[str, Any]:
    """An API event of an admin key's request."""
    from ledger.local.events import HttpRequest, api_event

    request = HttpRequest(method, path, (("content-type", "application/json"),), body, "192.0.2.1")
    shaped = api_event(request, "probe", datetime.now(UTC))
    context = {"authenticated": "true", "key_id": "probe", "role": "admin", "ledger_ids": ""}
    shaped["requestContext"]["authorizer"] = {"lambda": context}
    return shaped


def statuses(requests: list[dict[str, Any]]) -> list[int]:
    """The status of each request, answered by the API handler."""
    from ledger.api.handler import handle

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [handle(request, None)["statusCode"] for request in requests]


def main() -> None:
    """Import both handlers, then make first requests and count what they build."""
    import functions.api.handler
    import functions.authorizer.handler
    from snapshot_restore_py import get_after_restore

    from ledger.api import priming
    from ledger.api.app import app
    from ledger.api.runtime import runtime

    routes = priming.routes(app)
    # The key store and the ledger's store share the API's one client.
    keys: Any = runtime().keys
    client: Any = keys.client
    connections = len(client._endpoint.http_session._manager.pools)
    client.meta.events.register("before-send.dynamodb", empty_reply)
    # Each name is looked up when used, so the counting stand-ins see every later one.
    setattr(compat, "TypeAdapter", counted_type_adapter)  # noqa: B010
    setattr(botocore.model.ShapeResolver, "get_shape_by_name", counted_shape)  # noqa: B010
    misses = endpoint_misses()
    first = statuses(
        [
            event("GET", "/v1/health"),
            event("POST", "/v1/transfers", b'{"amount": "1.00"}'),
            event("GET", "/v1/ledgers/ldg_aaaaaaaaaaaaaaaa"),
        ]
    )
    from ledger.auth import authorizer

    lookup_events: Any = authorizer.key_lookup().client.meta.events
    lookup_events.register("before-send.dynamodb", empty_reply)
    answer = authorizer.lambda_handler({"headers": {"Authorization": "Bearer lk_probe"}}, None)
    report: dict[str, Any] = {
        "handler": functions.api.handler.lambda_handler.__module__,
        "routes": len(routes),
        "models_unbuilt": sum(route._dependant is None for route in routes),
        "signatures_unread": sum(not route.request_param_name_checked for route in routes),
        "connections_at_import": connections,
        "first_statuses": first,
        "type_adapters_on_first_requests": built[:],
        "shapes_on_first_requests": resolved[:],
        "endpoints_on_first_requests": endpoint_misses() - misses,
        "sent_on_first_requests": sent[:],
        "authorizer_answer": answer["context"]["authenticated"],
        "after_restore": [hook.__qualname__ for hook, _, _ in get_after_restore()],
    }
    # The counts can count: a route whose models are dropped builds them again, and an
    # operation the API never makes resolves its shapes on its first call.
    unprimed = next(route for route in routes if route.rule.match("/v1/transfers"))
    unprimed._dependant = None
    statuses([event("POST", "/v1/transfers", b'{"amount": "1.00"}')])
    report["type_adapters_of_an_unprimed_route"] = len(built)
    client.describe_table(TableName="ledger-probe")
    report["shapes_of_an_unprimed_operation"] = len(resolved)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
