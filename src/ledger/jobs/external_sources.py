"""Balances held outside the ledger (a bank, a chain, a processor), read as data.

The ledger reaches no bank itself: a source fetches one balance in one currency, and the
reconciliation compares it with the ledger's own total (API.md, "Reconciliation against the
outside world"). `JsonBalanceSource` reads it from a JSON document served over HTTPS.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import NoReturn, Protocol

from ledger.domain import validate
from ledger.domain.errors import ValidationError
from ledger.domain.money import Currency, parse_amount
from ledger.jobs.json_pointer import PointerMissing, pointer_tokens, resolve_pointer

response_bytes_max = 1024 * 1024
timeout_s_default = 10.0
timeout_s_max = 60.0
url_length_max = 2048
# Plain http is allowed only to this machine, where nothing crosses a network.
loopback_hosts = frozenset({"127.0.0.1", "localhost"})
_zero = re.compile(r"^0+(?:\.(?P<fraction>0+))?$")


class SourceConfigError(ValueError):
    """A source that could never work as configured; `field` names the field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class SourceError(RuntimeError):
    """A source could not give a balance; the message names the source and what failed."""


@dataclass(frozen=True)
class ExternalBalance:
    """One balance as the outside world reports it, in integer minor units (may be < 0)."""

    source: str
    currency: str
    amount: int
    as_of: datetime


class ExternalBalanceSource(Protocol):
    """Anything that can report one outside balance in one currency."""

    name: str
    currency: Currency

    def fetch(self) -> ExternalBalance:
        """The balance now; SourceError when it cannot be had."""
        ...


def check_source_url(url: str) -> None:
    """ValueError unless `url` is https, or plain http to this machine (tests, local use)."""
    if len(url) > url_length_max:
        raise ValueError(f"url is longer than {url_length_max} characters")
    parts = urllib.parse.urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise ValueError("url must not hold credentials; name a token_variable instead")
    if not parts.hostname:
        raise ValueError(f"url {url!r} names no host")
    if parts.scheme == "https":
        return
    if parts.scheme == "http" and parts.hostname in loopback_hosts:
        return
    raise ValueError(f"url {url!r} must be https:// (plain http only to 127.0.0.1 or localhost)")


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect could lead to plain http or carry the token to another host: refuse it."""

    def redirect_request(self, *args: object, **kwargs: object) -> NoReturn:
        raise urllib.error.URLError("the source answered with a redirect, which is not followed")


def _check_field(field: str, check: Callable[[str], object], value: str) -> None:
    try:
        check(value)
    except ValueError as error:
        raise SourceConfigError(field, str(error)) from None


def _utc_now() -> datetime:
    return datetime.now(UTC)


class JsonBalanceSource:
    """A balance read at a JSON pointer of a JSON document fetched with one GET."""

    def __init__(
        self,
        name: str,
        currency: Currency,
        url: str,
        amount_pointer: str,
        *,
        as_of_pointer: str | None = None,
        token_variable: str | None = None,
        timeout_s: float = timeout_s_default,
        max_bytes: int = response_bytes_max,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        try:
            validate.source_name("name", name)
        except ValidationError as error:
            raise SourceConfigError("name", str(error)) from None
        _check_field("url", check_source_url, url)
        _check_field("amount_pointer", pointer_tokens, amount_pointer)
        if as_of_pointer is not None:
            _check_field("as_of_pointer", pointer_tokens, as_of_pointer)
        if token_variable is not None and not token_variable:
            raise SourceConfigError("token_variable", "must name an environment variable")
        if not 0 < timeout_s <= timeout_s_max:
            raise SourceConfigError("timeout_s", f"must be above 0 and at most {timeout_s_max}")
        if not 0 < max_bytes <= response_bytes_max:
            raise SourceConfigError("max_bytes", f"must be between 1 and {response_bytes_max}")
        self.name = name
        self.currency = currency
        self.url = url
        self.amount_pointer = amount_pointer
        self.as_of_pointer = as_of_pointer
        self.token_variable = token_variable
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self._clock = clock

    def __repr__(self) -> str:
        return f"JsonBalanceSource(name={self.name!r}, url={self.url!r})"

    def fetch(self) -> ExternalBalance:
        """GET the document and read the balance (and its time) from it."""
        document = self._document(self._get())
        amount = self._amount(self._at(document, self.amount_pointer))
        as_of = self._clock() if self.as_of_pointer is None else self._as_of(document)
        return ExternalBalance(self.name, self.currency.code, amount, as_of.astimezone(UTC))

    def _fail(self, what: str) -> NoReturn:
        raise SourceError(f"source {self.name!r}: {what}")

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.token_variable is not None:
            token = os.environ.get(self.token_variable)
            if not token:
                self._fail(f"environment variable {self.token_variable} holds no token")
            headers["Authorization"] = f"Bearer {token}"
        return headers

    def _get(self) -> bytes:
        request = urllib.request.Request(self.url, headers=self._headers(), method="GET")
        opener = urllib.request.build_opener(_NoRedirects)
        try:
            with opener.open(request, timeout=self.timeout_s) as response:
                declared = response.headers.get("Content-Length")
                if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
                    self._fail(f"the body is larger than {self.max_bytes} bytes")
                body: bytes = response.read(self.max_bytes + 1)
        except urllib.error.HTTPError as error:
            error.close()
            self._fail(f"the source answered HTTP {error.code}")
        except urllib.error.URLError as error:
            self._fail_request(error.reason)
        except OSError as error:
            self._fail_request(error)
        if len(body) > self.max_bytes:
            self._fail(f"the body is larger than {self.max_bytes} bytes")
        return body

    def _fail_request(self, reason: object) -> NoReturn:
        # A connect timeout arrives wrapped in URLError, a read timeout bare: one message.
        if isinstance(reason, TimeoutError):
            self._fail(f"no answer within {self.timeout_s} s")
        self._fail(f"the request failed: {reason}")

    def _document(self, body: bytes) -> object:
        try:
            # Money is never a float: fractions stay Decimal so they can be refused exactly.
            return json.loads(body, parse_float=Decimal, parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as error:
            raise SourceError(f"source {self.name!r}: the body is not JSON ({error})") from None

    def _at(self, document: object, pointer: str) -> object:
        try:
            return resolve_pointer(document, pointer)
        except PointerMissing as error:
            raise SourceError(f"source {self.name!r}: {error}") from None

    def _amount(self, value: object) -> int:
        where = f"the amount at {self.amount_pointer!r}"
        if isinstance(value, Decimal):
            self._fail(f'{where} is the JSON number {value}: send a decimal string such as "12.50"')
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            self._fail(f'{where} must be a decimal string such as "12.50"')
        return self._minor_units(value, where)

    def _minor_units(self, text: str, where: str) -> int:
        """Signed minor units: an outside balance may be zero or overdrawn."""
        negative = text.startswith("-")
        digits = text[1:] if negative else text
        zero = _zero.fullmatch(digits)
        if zero is not None:
            if len(zero.group("fraction") or "") > self.currency.scale:
                self._fail(f"{where} has more than {self.currency.scale} decimals")
            return 0
        try:
            minor = parse_amount(digits, self.currency, "amount")
        except ValidationError as error:
            raise SourceError(f"source {self.name!r}: {where}: {error.message}") from None
        return -minor if negative else minor

    def _as_of(self, document: object) -> datetime:
        pointer = self.as_of_pointer or ""
        value = self._at(document, pointer)
        where = f"the time at {pointer!r}"
        if not isinstance(value, str):
            self._fail(f"{where} must be an RFC 3339 string")
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self._fail(f"{where} is not an RFC 3339 time: {value[:40]!r}")
        if moment.tzinfo is None:
            self._fail(f"{where} has no UTC offset: {value[:40]!r}")
        return moment


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number")
