"""A scripted HTTP server on 127.0.0.1 for the client's tests: each request gets the next
scripted reply, and every request is recorded as received."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ledger.domain.ids import new_account_id, new_ledger_id
from ledger.domain.model import Side
from ledger.domain.money import Currency


@dataclass(frozen=True)
class Reply:
    """What the stub answers; `delay_s` holds the answer back (to provoke client timeouts)."""

    status: int = 200
    body: Any = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    raw: bytes | None = None


@dataclass(frozen=True)
class Received:
    """One request as the stub received it; header names lower case."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any


def an_id(prefix: str) -> str:
    """A random id, so that no two tests share one by accident; ledgers and accounts get
    well-formed ids (an account's in USD, credit-normal), which the client decodes."""
    if prefix == "led":
        return new_ledger_id(None, None)
    if prefix == "acc":
        return new_account_id(new_ledger_id(None, None), Currency("USD", 2), Side.CREDIT, None)
    return f"{prefix}_{secrets.token_hex(6)}"


def ledger_body(ledger_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """A ledger object of the contract."""
    body: dict[str, Any] = {
        "id": ledger_id or an_id("led"),
        "name": "Books",
        "owner_id": None,
        "metadata": {},
        "currencies": {},
        "created_at": "2026-01-02T03:04:05Z",
    }
    return {**body, **fields}


def entry_body(entry_id: str | None = None, amount: str = "10.00", **fields: Any) -> dict[str, Any]:
    """An entry object of the contract: `amount` from one account to another, in USD."""
    body: dict[str, Any] = {
        "id": entry_id or an_id("ent"),
        "ledger_id": an_id("led"),
        "kind": "transfer",
        "status": "posted",
        "lines": [
            {"account_id": an_id("acc"), "side": "debit", "amount": amount, "currency": "USD"},
            {"account_id": an_id("acc"), "side": "credit", "amount": amount, "currency": "USD"},
        ],
        "description": None,
        "reference": None,
        "metadata": {},
        "effective_at": "2026-01-02T03:04:05Z",
        "created_at": "2026-01-02T03:04:05Z",
    }
    return {**body, **fields}


def account_body(account_id: str | None = None, **fields: Any) -> dict[str, Any]:
    """An account object of the contract, in USD, with its balance."""
    identity = account_id or an_id("acc")
    body: dict[str, Any] = {
        "id": identity,
        "ledger_id": an_id("led"),
        "name": "Wallet",
        "type": "liability",
        "normal_balance": "credit",
        "currency": "USD",
        "status": "active",
        "overdraft": {"mode": "forbid", "limit": "0.00"},
        "code": None,
        "parent_id": None,
        "owner_id": None,
        "metadata": {},
        "system": False,
        "created_at": "2026-01-02T03:04:05Z",
        "updated_at": "2026-01-02T03:04:05Z",
        "balance": balance_body(identity),
    }
    return {**body, **fields}


def balance_body(account_id: str, available: str = "85.00") -> dict[str, Any]:
    """A balance object of the contract, in USD."""
    return {
        "account_id": account_id,
        "currency": "USD",
        "posted": "90.00",
        "pending_in": "0.00",
        "pending_out": "5.00",
        "held": "5.00",
        "escrowed": "0.00",
        "available": available,
        "credit_limit": "0.00",
        "credit_used": "0.00",
        "spendable": available,
        "total_in": "100.00",
        "total_out": "10.00",
        "version": 4,
        "as_of": "2026-01-01T00:00:00Z",
    }


def error_reply(status: int, code: str, message: str, **details: Any) -> Reply:
    """A reply with the contract's error body and a request id."""
    return Reply(
        status,
        {"error": {"code": code, "message": message, "details": details}},
        {"X-Request-Id": f"req-{code}"},
    )


class StubServer:
    """Answers requests with scripted replies, in order; unscripted requests get a 500."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        """The stub's base URL."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def script(self, *replies: Reply) -> None:
        """Queue replies for the next requests."""
        with self._lock:
            self._replies.extend(replies)

    def __enter__(self) -> StubServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _next(self, received: Received) -> Reply:
        with self._lock:
            self.requests.append(received)
            if self._replies:
                return self._replies.popleft()
        return Reply(500, {"error": {"code": "internal_error", "message": "nothing scripted"}})

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                data = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                reply = stub._next(
                    Received(
                        method=self.command,
                        path=parts.path,
                        query={name: values[-1] for name, values in parse_qs(parts.query).items()},
                        headers={name.lower(): value for name, value in self.headers.items()},
                        body=json.loads(data) if data else None,
                    )
                )
                time.sleep(reply.delay_s)
                payload = json.dumps(reply.body).encode() if reply.raw is None else reply.raw
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except OSError:
                    # The client gave up waiting (a timeout under test) and closed the socket.
                    return

            # http.server dispatches on these names.
            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _answer  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the tests assert on `requests` instead."""

        return Handler
