"""The local gateway's decisions, with the functions replaced by an in-process fake."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.local.container import Function
from ledger.local.events import HttpRequest
from ledger.local.gateway import Gateway, functions, new_request_id
from ledger.local.workers import InvocationFailed, InvocationTimedOut

_allow = {"isAuthorized": True, "context": {"key_id": "key_1", "role": "admin"}}
_ok = {"statusCode": 200, "headers": {"content-type": "text/plain"}, "body": "ok"}


class FakeInvoker:
    """Answers each function key with a fixed result or raises a fixed error; records events."""

    def __init__(self, **answers: object) -> None:
        self.answers = answers
        self.calls: list[tuple[str, Any, str]] = []

    def invoke(self, key: str, event: object, request_id: str) -> object:
        self.calls.append((key, event, request_id))
        answer = self.answers[key]
        if isinstance(answer, Exception):
            raise answer
        return answer


def _gateway(invoker: FakeInvoker, request_id: str = "req-1") -> Gateway:
    return Gateway(
        invoker,
        clock=lambda: datetime(2026, 1, 1, tzinfo=UTC),
        request_ids=lambda: request_id,
    )


def _request() -> HttpRequest:
    return HttpRequest("POST", "/v1/ledgers", (("Authorization", "Bearer k"),), b"{}", "127.0.0.1")


def test_an_allowed_request_reaches_the_handler_with_the_authorizer_context() -> None:
    # GIVEN an authorizer that allows with a context, and a handler that answers
    request_id = secrets.token_hex(6)
    invoker = FakeInvoker(authorizer=_allow, handler=_ok)

    # WHEN a request goes through the gateway
    response = _gateway(invoker, request_id).handle(_request())

    # THEN the authorizer ran first, and the handler saw its context under requestContext
    assert [key for key, _, _ in invoker.calls] == ["authorizer", "handler"]
    handler_event = invoker.calls[1][1]
    assert handler_event["requestContext"]["authorizer"] == {"lambda": _allow["context"]}
    assert handler_event["body"] == "{}"
    assert {call[2] for call in invoker.calls} == {request_id}
    # AND the handler's response comes back with API Gateway's request id header
    assert response.status == 200
    assert response.body == b"ok"
    assert ("apigw-requestid", request_id) in response.headers


def test_a_denied_request_is_403_and_never_reaches_the_handler() -> None:
    # GIVEN an authorizer that denies
    invoker = FakeInvoker(authorizer={"isAuthorized": False}, handler=_ok)

    # WHEN a request goes through the gateway
    response = _gateway(invoker).handle(_request())

    # THEN API Gateway's 403 comes back and the handler did not run
    assert response.status == 403
    assert json.loads(response.body) == {"message": "Forbidden"}
    assert [key for key, _, _ in invoker.calls] == ["authorizer"]


@pytest.mark.parametrize(
    ("answers", "status", "message"),
    [
        ({"authorizer": InvocationFailed("boom"), "handler": _ok}, 500, "Internal Server Error"),
        ({"authorizer": {"yes": 1}, "handler": _ok}, 500, "Internal Server Error"),
        ({"authorizer": _allow, "handler": InvocationFailed("boom")}, 500, "Internal Server Error"),
        ({"authorizer": _allow, "handler": {"statusCode": "x"}}, 500, "Internal Server Error"),
        ({"authorizer": _allow, "handler": InvocationTimedOut("late")}, 503, "Service Unavailable"),
    ],
)
def test_failures_become_api_gateways_own_answers(
    answers: dict[str, object], status: int, message: str
) -> None:
    # GIVEN a function that fails, misbehaves or times out
    invoker = FakeInvoker(**answers)

    # WHEN a request goes through the gateway
    response = _gateway(invoker, "req-9").handle(_request())

    # THEN the client gets what API Gateway would send, still with a request id
    assert response.status == status
    assert json.loads(response.body) == {"message": message}
    assert ("apigw-requestid", "req-9") in response.headers


def test_the_default_functions_are_the_ledgers_authorizer_and_handler() -> None:
    # GIVEN no handler paths
    # WHEN the functions behind the API are named
    named = functions()

    # THEN they are the ledger's two entry points
    assert named == {
        "authorizer": Function("ledger-authorizer", "ledger.auth.authorizer:lambda_handler"),
        "handler": Function("ledger-api", "ledger.api.handler:lambda_handler"),
    }


def test_request_ids_are_shaped_like_api_gateways_and_fresh() -> None:
    # GIVEN many request ids
    ids = {new_request_id() for _ in range(100)}

    # WHEN they are inspected
    # THEN each is 16 characters ending in one pad, and none repeats
    assert len(ids) == 100
    assert all(len(value) == 16 and value.endswith("=") for value in ids)
