"""HTTP for the client: one call, bounded retries that keep its Idempotency-Key, and the
service's error bodies raised as the library's own exceptions. Standard library only."""

from __future__ import annotations

import http.client
import json
import random
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from ledger.domain.errors import InternalError, LedgerError, ValidationError, error_classes

retry_delay_ms_base = 100
retry_delay_ms_max = 5_000
# A Retry-After longer than this is a sign of trouble better reported than slept through.
retry_after_s_max = 60
response_bytes_max = 16 * 1024 * 1024
user_agent = "serverless-ledger-client/0.1"

# 429 means the request was turned away unprocessed; 502..504 are the gateway's own answers
# and 503 the ledger's `conflict`: for those the outcome of a write may be unknown.
rate_limited_status = 429
retry_statuses = frozenset({rate_limited_status, 502, 503, 504})

# When the body is not the contract's error object (a gateway's own answer), the status
# alone says which error it is.
_codes_by_status = {
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    429: "rate_limited",
    503: "conflict",
}


class ServiceUnreachable(Exception):
    """No answer from the service within the attempts. A write's outcome is then unknown:
    send it again with `idempotency_key` (the key every attempt carried) to learn it."""

    def __init__(self, message: str, *, idempotency_key: str | None) -> None:
        super().__init__(message)
        self.message = message
        self.idempotency_key = idempotency_key
        self.request_id: str | None = None


@dataclass(frozen=True)
class Call:
    """One request to make. `repeatable`: sending it twice has the effect of sending it once
    (reads, keyed writes, writes whose target id is derived on the server)."""

    method: str
    path: str
    query: Mapping[str, str | int | None] = field(default_factory=dict)
    body: Mapping[str, Any] | None = None
    idempotency_key: str | None = None
    repeatable: bool = True


@dataclass(frozen=True)
class Response:
    """What the service answered; header names are lower case."""

    status: int
    headers: Mapping[str, str]
    body: Any

    @property
    def request_id(self) -> str | None:
        """The service's id for this request (`X-Request-Id`), for its logs."""
        return self.headers.get("x-request-id")

    @property
    def replayed(self) -> bool:
        """True when an idempotency key replayed an earlier result (`Idempotent-Replayed`)."""
        return self.headers.get("idempotent-replayed", "").lower() == "true"


@dataclass(frozen=True)
class _Failure:
    """A transport error; `sent` is False only when the request surely never left."""

    error: Exception
    sent: bool


def path(*segments: str) -> str:
    """A /v1 path from segments, each id escaped so that it stays one segment."""
    return "/v1/" + "/".join(quote(segment, safe="") for segment in segments)


class Transport:
    """Sends calls over HTTP(S), retrying what is safe to retry, with jittered backoff."""

    def __init__(
        self,
        base_url: str,
        api_key: str | None,
        *,
        timeout_s: float,
        attempts_max: int,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        if attempts_max < 1:
            raise ValueError("attempts_max must be at least 1")
        # One context per client: building one loads the system's CA certificates.
        self._tls = ssl.create_default_context() if parts.scheme == "https" else None
        self._host = parts.hostname
        self._port = parts.port
        self._prefix = parts.path.rstrip("/")
        self._api_key = api_key
        self._timeout_s = timeout_s
        self._attempts_max = attempts_max
        self._sleep = sleep

    def send(self, call: Call) -> Response:
        """The service's 2xx response to `call`, or its error raised as a LedgerError."""
        attempt = 1
        while True:
            last = attempt == self._attempts_max
            outcome = self._exchange(call)
            if isinstance(outcome, _Failure):
                if last or (outcome.sent and not call.repeatable):
                    reason = f"{type(outcome.error).__name__}: {outcome.error}"
                    raise ServiceUnreachable(
                        f"{call.method} {call.path} failed after {attempt} attempt(s): {reason}",
                        idempotency_key=call.idempotency_key,
                    ) from outcome.error
                delay_s = _backoff_s(attempt)
            elif outcome.status < 400:
                return outcome
            elif last or not _retryable(outcome.status, call):
                raise error_of(outcome)
            else:
                retry_after_s = _retry_after_s(outcome)
                delay_s = _backoff_s(attempt) if retry_after_s is None else retry_after_s
            self._sleep(delay_s)
            attempt += 1

    def _exchange(self, call: Call) -> Response | _Failure:
        connection = self._connection()
        try:
            try:
                connection.connect()
            except OSError as error:
                return _Failure(error, sent=False)
            try:
                connection.request(
                    call.method,
                    self._target(call),
                    body=_payload(call),
                    headers=self._headers(call),
                )
                raw = connection.getresponse()
                data = raw.read(response_bytes_max + 1)
            except (OSError, http.client.HTTPException) as error:
                return _Failure(error, sent=True)
            headers = {name.lower(): value for name, value in raw.getheaders()}
        finally:
            connection.close()
        if len(data) > response_bytes_max:
            raise InternalError(f"the response exceeds {response_bytes_max} bytes")
        return Response(raw.status, headers, _decode(data, raw.status))

    def _connection(self) -> http.client.HTTPConnection:
        if self._tls is not None:
            return http.client.HTTPSConnection(
                self._host, self._port, timeout=self._timeout_s, context=self._tls
            )
        return http.client.HTTPConnection(self._host, self._port, timeout=self._timeout_s)

    def _target(self, call: Call) -> str:
        query = {name: str(value) for name, value in call.query.items() if value is not None}
        return self._prefix + call.path + (f"?{urlencode(query)}" if query else "")

    def _headers(self, call: Call) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": user_agent}
        if call.body is not None:
            headers["Content-Type"] = "application/json"
        if self._api_key is not None:
            headers["Authorization"] = f"Bearer {self._api_key}"
        if call.idempotency_key is not None:
            headers["Idempotency-Key"] = call.idempotency_key
        return headers


def error_of(response: Response) -> LedgerError:
    """The exception the service raised, as the library's class for its code, carrying
    the response's request id as `request_id`."""
    code, message, details = _error_parts(response)
    cls = error_classes().get(code, InternalError)
    # Built without the subclass's __init__: ValidationError and NotFound take other
    # arguments, and the service's message and details must survive unchanged.
    error = cls.__new__(cls)
    LedgerError.__init__(error, message, details)
    if isinstance(error, ValidationError):
        error.field = str(details.get("field", ""))
    # LedgerError has no request id of its own: only a response can give one.
    error.request_id = response.request_id
    return error


def _error_parts(response: Response) -> tuple[str, str, dict[str, Any]]:
    body = response.body
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and isinstance(error.get("code"), str):
        details = error.get("details")
        return (
            error["code"],
            str(error.get("message", error["code"])),
            details if isinstance(details, dict) else {},
        )
    message = body.get("message") if isinstance(body, dict) else None
    code = _codes_by_status.get(response.status, InternalError.code)
    return code, str(message or f"HTTP {response.status}"), {"status": response.status}


def _retryable(status: int, call: Call) -> bool:
    # A 429 was turned away before any work; other statuses may hide a write that happened.
    return status in retry_statuses and (call.repeatable or status == rate_limited_status)


def _payload(call: Call) -> bytes | None:
    if call.body is None:
        return None
    return json.dumps(call.body, separators=(",", ":")).encode()


def _decode(data: bytes, status: int) -> Any:
    if not data:
        return {}
    try:
        # Amounts are strings; should a number ever come, it must not become a float.
        return json.loads(data, parse_float=Decimal)
    except ValueError:
        if status >= 400:
            return {"message": data[:200].decode(errors="replace")}
        raise InternalError(f"the service answered {status} with a body that is not JSON") from None


def _backoff_s(attempt: int) -> float:
    # Jittered so that clients turned away together do not come back together.
    ceiling_ms = min(retry_delay_ms_max, retry_delay_ms_base << min(attempt - 1, 16))
    return ceiling_ms * random.uniform(0.5, 1.0) / 1000


def _retry_after_s(response: Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    if value.strip().isdigit():
        seconds = float(value.strip())
    else:
        try:
            moment = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = moment.timestamp() - time.time()
    return min(max(seconds, 0.0), float(retry_after_s_max))
