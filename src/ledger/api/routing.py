"""What every route shares: the caller, the idempotency header, and replies."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ledger.api.observability import count, logger
from ledger.api.runtime import Runtime, runtime
from ledger.auth.access import Principal
from ledger.domain import limits, validate
from ledger.domain.api_keys import Role
from ledger.domain.ids import entry_ledger_id, parse_account_id
from ledger.domain.model import Actor, Entry
from ledger.domain.views import entry_view

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=limits.idempotency_key_length_max,
        pattern=r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$",
        description="Same key and body: the original response again, "
        "with `Idempotent-Replayed: true`.",
    ),
]
Limit = Annotated[
    int, Query(ge=1, le=limits.page_size_max, description="Page size (1..100, default 50).")
]
Cursor = Annotated[
    str | None, Query(min_length=1, max_length=2048, description="From `next_cursor`.")
]
json_type = "application/json"
# Lambda sets it for each invocation of a traced function: the X-Ray trace of the request.
trace_variable = "_X_AMZN_TRACE_ID"


class Router(APIGatewayHttpRouter):
    """A group of routes that can name its caller and its runtime."""

    def __init__(self) -> None:
        # powertools leaves this constructor unannotated.
        super().__init__()  # type: ignore[no-untyped-call]

    def caller(self) -> Principal:
        """The principal the request's authorizer context established."""
        principal: Principal = self.context["principal"]
        return principal

    def actor(self) -> Actor:
        """Who causes the entries of this request: the caller's key and role, the request
        id the API answers with (`X-Request-Id`), and the address and user agent API
        Gateway saw. Never from the body: no body has an `actor` field."""
        principal = self.caller()
        http = self.current_event.raw_event.get("requestContext", {}).get("http", {})
        return Actor(
            key_id=principal.key_id,
            role=principal.role.value,
            request_id=self.context.get("request_id"),
            source_ip=_fitted(http.get("sourceIp"), limits.source_ip_length_max),
            user_agent=_fitted(http.get("userAgent"), limits.user_agent_length_max),
            trace_header=_fitted(os.environ.get(trace_variable), limits.trace_header_length_max),
        )

    @staticmethod
    def runtime() -> Runtime:
        """The container's runtime."""
        return runtime()

    def require_write(
        self,
        role: Role,
        *,
        ledger_ids: Iterable[str] = (),
        account_ids: Iterable[str | None] = (),
        entry_ids: Iterable[str] = (),
    ) -> None:
        """Refuse (403) unless the caller has `role` and its scope holds every ledger the
        request writes to: those named, and those of its accounts and entries."""
        ledgers = [
            *ledger_ids,
            *(parse_account_id(account_id).ledger_id for account_id in account_ids if account_id),
            *(entry_ledger_id(entry_id) for entry_id in entry_ids),
        ]
        self.runtime().scope.write(self.caller(), role, ledgers)


def _fitted(value: object, length_max: int) -> str | None:
    """A request's own text as an actor field: cut to its bound and its control characters
    made spaces, since a header that API Gateway let through is no reason to refuse."""
    if not isinstance(value, str) or not value.strip():
        return None
    cut = value[:length_max]
    return "".join(" " if validate.has_control(character) else character for character in cut)


def reply(status: int, body: dict[str, Any], *, replayed: bool = False) -> Response[Any]:
    """A JSON response; a replay says so in `Idempotent-Replayed`."""
    headers = {}
    if replayed:
        headers["Idempotent-Replayed"] = "true"
        count("Replays")
    return Response(status, json_type, body, headers=headers)


def entry_reply(status: int, entry: Entry) -> Response[Any]:
    """An entry as the response, logged and counted under its id."""
    logger.append_keys(entry_id=entry.id)
    if not entry.replayed:
        logger.info("entry written", extra={"kind": entry.kind.value, "status": entry.status.value})
        count("EntriesWritten")
    return reply(status, entry_view(entry), replayed=entry.replayed)


def answers(status: int, model: type[Any], description: str) -> dict[int, OpenAPIResponse]:
    """The OpenAPI response of a route whose success status is `status`."""
    return {status: {"description": description, "content": {json_type: {"model": model}}}}
