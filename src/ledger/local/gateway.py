"""API Gateway's part locally: authorize each request with the authorizer, then run the handler.

It behaves as an HTTP API with one `$default` route, a Lambda authorizer giving simple
responses (no caching), and a Lambda proxy integration with payload format 2.0.
"""

from __future__ import annotations

import base64
import logging
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from ledger.local.container import Function
from ledger.local.events import (
    HttpRequest,
    HttpResponse,
    MalformedResult,
    api_event,
    authorization,
    authorizer_event,
    gateway_response,
    http_response,
)
from ledger.local.workers import InvocationFailed, InvocationTimedOut

if TYPE_CHECKING:
    from collections.abc import Callable

authorizer_key = "authorizer"
handler_key = "handler"
default_authorizer = "ledger.auth.authorizer:lambda_handler"
default_handler = "ledger.api.handler:lambda_handler"
request_id_header = "apigw-requestid"
_request_id_bytes = 11

logger = logging.getLogger(__name__)


class Invoker(Protocol):
    """Runs a function by key on an event and returns its result (a worker pool does)."""

    def invoke(self, key: str, event: object, request_id: str) -> object:
        """The function's result; raises InvocationFailed or InvocationTimedOut."""
        ...


def functions(
    authorizer: str = default_authorizer, handler: str = default_handler
) -> dict[str, Function]:
    """The two functions behind the API, keyed as the gateway invokes them."""
    return {
        authorizer_key: Function("ledger-authorizer", authorizer),
        handler_key: Function("ledger-api", handler),
    }


def new_request_id() -> str:
    """A request id shaped like API Gateway's (15 base64 characters and a pad)."""
    return base64.b64encode(secrets.token_bytes(_request_id_bytes)).decode("ascii")


class Gateway:
    """Turns one HTTP request into an authorizer call and a handler call, as API Gateway does."""

    def __init__(
        self,
        invoker: Invoker,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        request_ids: Callable[[], str] = new_request_id,
    ) -> None:
        self._invoker = invoker
        self._clock = clock
        self._request_ids = request_ids

    def handle(self, request: HttpRequest) -> HttpResponse:
        """The response API Gateway would give, with its request id header."""
        request_id = self._request_ids()
        return self._respond(request, request_id).with_header(request_id_header, request_id)

    def _respond(self, request: HttpRequest, request_id: str) -> HttpResponse:
        event = api_event(request, request_id, self._clock())
        try:
            decision = self._invoker.invoke(authorizer_key, authorizer_event(event), request_id)
            allowed, context = authorization(decision)
            if not allowed:
                return gateway_response(403, "Forbidden")
            event["requestContext"]["authorizer"] = {"lambda": context}
            return http_response(self._invoker.invoke(handler_key, event, request_id))
        except InvocationTimedOut as error:
            logger.error("request %s: the function timed out: %s", request_id, error)
            return gateway_response(503, "Service Unavailable")
        except InvocationFailed:
            # The worker has printed the function's traceback already.
            logger.error("request %s: the function failed", request_id)
            return gateway_response(500, "Internal Server Error")
        except MalformedResult as error:
            logger.error("request %s: the function's answer is unusable: %s", request_id, error)
            return gateway_response(500, "Internal Server Error")
