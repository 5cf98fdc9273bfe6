"""A Python client for the ledger's HTTP API (API.md), on the standard library alone."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, cast

from ledger.client.audit import AuditClient
from ledger.client.base import PagesMaxReached
from ledger.client.books import BooksClient
from ledger.client.external import ExternalBalancesClient
from ledger.client.keys import ApiKeysClient
from ledger.client.matches import MatchesClient
from ledger.client.monitors import MonitorsClient
from ledger.client.movements import MovementsClient
from ledger.client.reports import ReportsClient
from ledger.client.rules import RulesClient
from ledger.client.statements import StatementsClient
from ledger.client.transport import Call, Response, ServiceUnreachable, Transport, path
from ledger.client.two_phase import TwoPhaseClient
from ledger.client.types import Health

__all__ = ["LedgerClient", "PagesMaxReached", "Response", "ServiceUnreachable"]


class LedgerClient(
    BooksClient,
    MovementsClient,
    TwoPhaseClient,
    ReportsClient,
    AuditClient,
    StatementsClient,
    ApiKeysClient,
    RulesClient,
    MonitorsClient,
    MatchesClient,
    ExternalBalancesClient,
):
    """Typed methods for every route of the HTTP API, named and typed as the library's
    `Ledger` is (ADR 0021): amounts go in as `Decimal` or decimal strings (a float or int
    raises TypeError before any request), journal lines as `LineInput`s or mappings, and
    answers come back as the domain's types, amounts in integer minor units.

    `timeout_s` bounds each connect and each read of one attempt. A non-2xx answer raises
    the library's exception for its `error.code` (InternalError for an unknown code), with
    the response's `X-Request-Id` as `request_id`. After a success, `last_response` holds
    its status, headers, `request_id` and `replayed` flag; it belongs to the client, so
    threads sharing one client should not rely on it.

    Retries, at most `attempts_max` attempts with jittered exponential backoff, on 429
    (honouring Retry-After), 502/503/504, timeouts and connection errors:
    - reads, PATCH and DELETE are retried: they are idempotent;
    - every POST that creates something carries an `Idempotency-Key` (the caller's
      `idempotency_key`, or a fresh uuid4) and every retry sends the same key, so the
      service answers a retry with the first result instead of writing twice;
    - posting a pending entry (`post_entry`, `confirm_hold`, `release_escrow`) is retried:
      the service derives the posting's id from the pending entry, so a second post replays
      the first; `reconcile` only reads;
    - `void_entry`, `release_hold` and `refund_escrow` carry no key and are NOT retried once
      the request may have reached the service (timeout, 5xx): had the first attempt voided
      the entry, the retry would fail with `already_resolved`. They are retried only when
      the request surely never arrived (connection refused) or was turned away with 429.
    When no attempt gets an answer, ServiceUnreachable carries the `idempotency_key` to send
    the same write again with.

    The `iter_*` methods follow cursors to the listing's end. Given a `pages_max`, one
    that would read a further page raises PagesMaxReached, carrying the `next_cursor` to
    go on from: an iteration never ends early without saying so.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout_s: float = 10.0,
        attempts_max: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._transport = Transport(
            base_url, api_key, timeout_s=timeout_s, attempts_max=attempts_max, sleep=sleep
        )
        self.last_response = None

    @classmethod
    def from_env(cls, *, timeout_s: float = 10.0, attempts_max: int = 4) -> LedgerClient:
        """A client for `LEDGER_URL` with the key in `LEDGER_API_KEY` (optional)."""
        base_url = os.environ.get("LEDGER_URL")
        if not base_url:
            raise ValueError("LEDGER_URL is not set: export the ledger API's URL")
        api_key = os.environ.get("LEDGER_API_KEY") or None
        return cls(base_url, api_key, timeout_s=timeout_s, attempts_max=attempts_max)

    # Service

    def health(self) -> Health:
        """`{"status": "ok"}` while the service is up; needs no key."""
        return cast("Health", self._send(Call("GET", path("health"))))

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document of the service."""
        return cast("dict[str, Any]", self._send(Call("GET", path("openapi.json"))))
