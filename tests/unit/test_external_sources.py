"""A JSON balance source against a real HTTP server on 127.0.0.1: what it reads, what it
sends, and each way a fetch fails, named in one SourceError."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest
from balance_server import BalanceServer, Reply, balance_server

from ledger.domain.money import Currency, builtin_currencies
from ledger.jobs.external_sources import (
    ExternalBalance,
    ExternalBalanceSource,
    JsonBalanceSource,
    SourceConfigError,
    SourceError,
)

usd = builtin_currencies["USD"]
fixed_now = datetime(2026, 12, 2, 17, 0, tzinfo=UTC)


@pytest.fixture
def server() -> Iterator[BalanceServer]:
    with balance_server() as running:
        yield running


def json_reply(document: object) -> Reply:
    return Reply(json.dumps(document).encode())


def source(url: str, pointer: str = "/balance", **options: Any) -> JsonBalanceSource:
    name = f"bank-{uuid4().hex[:8]}"
    return JsonBalanceSource(name, usd, url, pointer, clock=lambda: fixed_now, **options)


def fetch_error(balance_source: JsonBalanceSource) -> str:
    with pytest.raises(SourceError) as raised:
        balance_source.fetch()
    message = str(raised.value)
    assert balance_source.name in message
    return message


def test_the_amount_is_read_at_a_nested_pointer_with_escapes(server: BalanceServer) -> None:
    # GIVEN a document whose keys hold "/" and "~", under an array
    document = {"accounts": [{"a/b": {"m~n": "0.01"}}, {"a/b": {"m~n": "1234.50"}}]}
    url = server.serve(json_reply(document))
    # WHEN the source reads the second account
    balance = source(url, "/accounts/1/a~1b/m~0n").fetch()
    # THEN it holds the minor units, the source's name and the clock's time
    assert balance.amount == 123450
    assert balance.currency == "USD"
    assert balance.as_of == fixed_now
    assert balance.source.startswith("bank-")


@pytest.mark.parametrize(
    ("value", "minor"), [("-12.5", -1250), ("0", 0), ("0.00", 0), (7, 700), ("3", 300)]
)
def test_overdrawn_zero_and_whole_balances_are_read(
    server: BalanceServer, value: object, minor: int
) -> None:
    # GIVEN a balance that is negative, zero, or a whole JSON integer of major units
    url = server.serve(json_reply({"balance": value}))
    # WHEN it is fetched THEN it is that many minor units
    assert source(url).fetch().amount == minor


def test_without_a_time_pointer_the_time_is_now(server: BalanceServer) -> None:
    # GIVEN a source on the real clock
    url = server.serve(json_reply({"balance": "1"}))
    before = datetime.now(UTC)
    # WHEN it fetches THEN the balance is dated between the request and its answer
    balance = JsonBalanceSource("clock", usd, url, "/balance").fetch()
    assert before <= balance.as_of <= datetime.now(UTC)


def test_the_time_is_read_at_its_pointer_and_turned_to_utc(server: BalanceServer) -> None:
    # GIVEN a document that says when its balance held, with an offset
    url = server.serve(json_reply({"balance": "1", "at": "2026-12-01T10:00:00+02:00"}))
    # WHEN it is fetched with an as_of pointer
    balance = source(url, as_of_pointer="/at").fetch()
    # THEN the time is that moment, in UTC
    assert balance.as_of == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert balance.as_of.tzinfo is UTC


def test_the_bearer_token_comes_from_the_named_variable(
    server: BalanceServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a token in an environment variable the source names
    variable = f"BANK_TOKEN_{uuid4().hex[:8].upper()}"
    token = uuid4().hex
    monkeypatch.setenv(variable, token)
    url = server.serve(json_reply({"balance": "5"}))
    balance_source = source(url, token_variable=variable)
    # WHEN the source fetches
    balance_source.fetch()
    # THEN the request carried it, and the source's repr never shows it
    assert server.requests[-1]["Authorization"] == f"Bearer {token}"
    assert token not in repr(balance_source)


def test_without_a_token_variable_no_authorization_is_sent(server: BalanceServer) -> None:
    url = server.serve(json_reply({"balance": "5"}))
    source(url).fetch()
    assert "Authorization" not in server.requests[-1]


def test_a_missing_token_variable_is_refused_before_any_request(server: BalanceServer) -> None:
    # GIVEN a source naming a variable that is not set
    variable = f"ABSENT_{uuid4().hex[:8].upper()}"
    url = server.serve(json_reply({"balance": "5"}))
    # WHEN it fetches THEN it names the variable and sent nothing
    assert variable in fetch_error(source(url, token_variable=variable))
    assert server.requests == []


@pytest.mark.parametrize("status", [404, 500])
def test_an_error_status_is_named(server: BalanceServer, status: int) -> None:
    url = server.serve(Reply(b"{}", status=status))
    assert f"HTTP {status}" in fetch_error(source(url))


def test_a_redirect_is_not_followed(server: BalanceServer) -> None:
    # GIVEN a path that redirects to another one holding a balance
    target = server.serve(json_reply({"balance": "5"}))
    url = server.serve(Reply(b"", status=302, headers={"Location": target}))
    # WHEN it is fetched THEN the redirect is refused and the target never asked
    assert "redirect" in fetch_error(source(url))
    assert len(server.requests) == 1


@pytest.mark.parametrize("body", [b"<html>", b'{"balance": NaN}', b"\xff\xfe"])
def test_a_body_that_is_not_json_is_refused(server: BalanceServer, body: bytes) -> None:
    url = server.serve(Reply(body))
    assert "not JSON" in fetch_error(source(url))


@pytest.mark.parametrize(
    ("document", "pointer"),
    [
        ({"balance": "1"}, "/available"),
        ({"accounts": ["1"]}, "/accounts/1"),
        ({"accounts": ["1"]}, "/accounts/01"),
        ({"accounts": ["1"]}, "/accounts/-"),
        ({"balance": "1"}, "/balance/value"),
    ],
)
def test_a_pointer_to_nothing_is_named(
    server: BalanceServer, document: object, pointer: str
) -> None:
    url = server.serve(json_reply(document))
    assert f"nothing at {pointer!r}" in fetch_error(source(url, pointer))


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        (12.5, "JSON number"),
        (1.0, "JSON number"),
        (True, "decimal string"),
        ({"value": "1"}, "decimal string"),
        ("1.005", "more than 2 decimals"),
        ("0.000", "more than 2 decimals"),
        ("1e3", "plain positive decimal"),
        ("", "plain positive decimal"),
    ],
)
def test_an_amount_that_is_no_exact_decimal_is_refused(
    server: BalanceServer, value: object, complaint: str
) -> None:
    # GIVEN a float, a non-string, too many decimals for USD, or no decimal at all
    url = server.serve(json_reply({"balance": value}))
    # WHEN it is fetched THEN it is refused, saying why
    assert complaint in fetch_error(source(url))


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        (17, "RFC 3339 string"),
        ("yesterday", "not an RFC 3339 time"),
        ("2026-12-01T10:00:00", "no UTC offset"),
    ],
)
def test_a_time_that_is_no_rfc3339_instant_is_refused(
    server: BalanceServer, value: object, complaint: str
) -> None:
    url = server.serve(json_reply({"balance": "1", "at": value}))
    assert complaint in fetch_error(source(url, as_of_pointer="/at"))


@pytest.mark.parametrize("declare_length", [True, False])
def test_a_body_larger_than_the_bound_is_refused(
    server: BalanceServer, declare_length: bool
) -> None:
    # GIVEN a body just over the source's bound, with or without a Content-Length
    body = json.dumps({"balance": "1", "padding": "x" * 1024}).encode()
    url = server.serve(Reply(body, declare_length=declare_length))
    # WHEN it is fetched THEN it is refused as too large
    assert "larger than 1024 bytes" in fetch_error(source(url, max_bytes=1024))


def test_a_source_slower_than_the_timeout_is_given_up(server: BalanceServer) -> None:
    # GIVEN a server that holds its answer far past the source's timeout
    url = server.serve(Reply(b'{"balance": "1"}', hold=True))
    # WHEN it is fetched THEN the source gives up, naming its timeout
    assert "no answer within 0.2 s" in fetch_error(source(url, timeout_s=0.2))


def test_a_server_that_hangs_up_is_named(server: BalanceServer) -> None:
    url = server.serve(Reply(hang_up=True))
    assert "the request failed" in fetch_error(source(url))


def test_a_port_nobody_listens_on_is_named() -> None:
    # GIVEN a port that was free a moment ago
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # WHEN a source fetches from it THEN the refusal is named
    assert "the request failed" in fetch_error(source(f"http://127.0.0.1:{port}/balance"))


@pytest.mark.parametrize(
    ("url", "complaint"),
    [
        ("http://example.com/balance", "must be https://"),
        ("ftp://127.0.0.1/balance", "must be https://"),
        ("https:///balance", "names no host"),
        ("https://user:secret@bank.example/balance", "must not hold credentials"),
        ("http://127.0.0.1@bank.example/balance", "must not hold credentials"),
        ("http://localhost.bank.example/balance", "must be https://"),
        ("https://bank.example/" + "a" * 2048, "longer than 2048"),
        ("https://[::1/balance", "Invalid IPv6"),
    ],
)
def test_only_https_or_local_http_urls_are_accepted(url: str, complaint: str) -> None:
    # GIVEN a url that is plain http to another host, another scheme, hostless or with
    # credentials WHEN a source is made THEN it is refused before any request
    with pytest.raises(SourceConfigError) as raised:
        source(url)
    assert raised.value.field == "url"
    assert complaint in str(raised.value)


def test_https_and_local_http_sources_are_made() -> None:
    for url in ("https://bank.example/balance", "http://localhost:8080/balance"):
        assert source(url).url == url


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"timeout_s": 0}, "timeout_s"),
        ({"timeout_s": 61}, "timeout_s"),
        ({"max_bytes": 0}, "max_bytes"),
        ({"max_bytes": 2 * 1024 * 1024}, "max_bytes"),
        ({"token_variable": ""}, "token_variable"),
        ({"as_of_pointer": "at"}, "as_of_pointer"),
    ],
)
def test_bounds_and_pointers_are_checked_when_a_source_is_made(
    options: dict[str, Any], field: str
) -> None:
    with pytest.raises(SourceConfigError) as raised:
        source("https://bank.example/balance", **options)
    assert raised.value.field == field


def test_a_source_has_a_name_and_satisfies_the_interface() -> None:
    with pytest.raises(SourceConfigError) as raised:
        JsonBalanceSource("", usd, "https://bank.example/balance", "/balance")
    assert raised.value.field == "name"
    with pytest.raises(SourceConfigError, match="letters, digits"):
        JsonBalanceSource("bank#1", usd, "https://bank.example/balance", "/balance")
    usdc = Currency("USDC", 6)
    made: ExternalBalanceSource = JsonBalanceSource("chain", usdc, "https://x.example", "")
    assert (made.name, made.currency) == ("chain", usdc)
    assert ExternalBalance("chain", "USDC", 1, fixed_now).amount == 1
