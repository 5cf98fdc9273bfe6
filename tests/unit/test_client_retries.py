"""The client's retries: bounded, keeping the Idempotency-Key, never repeating an unsafe POST."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from client_stub import Reply, StubServer, an_id, entry_body, error_reply

from ledger.client import LedgerClient, ServiceUnreachable, decode
from ledger.client.transport import retry_after_s_max
from ledger.domain.errors import Conflict, InsufficientFunds, RateLimited

# Short enough to keep the tests fast, long enough for a loaded machine to answer in time.
timeout_s = 0.3
slow_s = 1.0


@pytest.fixture
def stub() -> Iterator[StubServer]:
    """A scripted server for one test."""
    with StubServer() as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    """The pauses the client asked for between attempts."""
    return []


@pytest.fixture
def client(stub: StubServer, sleeps: list[float]) -> LedgerClient:
    """A client of the stub that records its pauses instead of sleeping."""
    return LedgerClient(stub.url, "lk_test", timeout_s=timeout_s, sleep=sleeps.append)


def test_a_503_is_retried_with_the_same_idempotency_key(
    stub: StubServer, client: LedgerClient, sleeps: list[float]
) -> None:
    # GIVEN a service that answers a deposit with 503 conflict, then with the entry
    entry = entry_body(kind="deposit")
    stub.script(error_reply(503, "conflict", "contention"), Reply(201, entry))
    # WHEN depositing without choosing a key
    result = client.deposit(an_id("acc"), "10.00")
    # THEN the entry comes back after two attempts that carried one and the same key
    assert result == decode.entry(entry)
    keys = [request.headers.get("idempotency-key") for request in stub.requests]
    assert len(keys) == 2
    assert keys[0] is not None
    assert keys[0] == keys[1]
    assert len(sleeps) == 1
    assert 0 < sleeps[0] <= 1


def test_a_timeout_is_retried_with_the_callers_key(stub: StubServer, client: LedgerClient) -> None:
    # GIVEN a service whose first answer comes too late
    entry = entry_body()
    stub.script(Reply(201, entry, delay_s=slow_s), Reply(201, entry))
    key = an_id("key")
    # WHEN transferring with a chosen key
    result = client.transfer(an_id("acc"), an_id("acc"), "10.00", idempotency_key=key)
    # THEN the second attempt's answer is returned, and both attempts carried that key
    assert result == decode.entry(entry)
    assert [request.headers["idempotency-key"] for request in stub.requests] == [key, key]


def test_a_read_is_retried_after_a_timeout(stub: StubServer, client: LedgerClient) -> None:
    # GIVEN a service whose first answer to a read comes too late
    entry = entry_body()
    stub.script(Reply(200, entry, delay_s=slow_s), Reply(200, entry))
    # WHEN reading the entry
    result = client.get_entry(entry["id"])
    # THEN the read was sent twice, without any idempotency key
    assert result == decode.entry(entry)
    assert len(stub.requests) == 2
    assert all("idempotency-key" not in request.headers for request in stub.requests)


def test_a_keyless_post_is_not_retried_after_a_timeout(
    stub: StubServer, client: LedgerClient
) -> None:
    # GIVEN a service whose answer to releasing a hold comes too late
    hold_id = an_id("ent")
    stub.script(Reply(200, entry_body(hold_id), delay_s=slow_s), Reply(200, entry_body(hold_id)))
    # WHEN releasing the hold
    # THEN the client reports the service unreachable after one attempt: a second release
    # of a hold the first one may have released would fail with already_resolved
    with pytest.raises(ServiceUnreachable) as raised:
        client.release_hold(hold_id)
    assert len(stub.requests) == 1
    assert stub.requests[0].path == f"/v1/holds/{hold_id}/release"
    assert raised.value.idempotency_key is None


def test_a_keyless_post_is_not_retried_after_a_503(stub: StubServer, client: LedgerClient) -> None:
    # GIVEN a service that answers a void with 503
    stub.script(error_reply(503, "conflict", "contention"), Reply(200, entry_body()))
    # WHEN voiding an entry
    # THEN the conflict is raised after one attempt
    with pytest.raises(Conflict):
        client.void_entry(an_id("ent"))
    assert len(stub.requests) == 1


def test_a_keyless_post_turned_away_with_429_is_retried_after_retry_after(
    stub: StubServer, client: LedgerClient, sleeps: list[float]
) -> None:
    # GIVEN a service that rate-limits the first attempt, asking for a 2-second pause
    limited = Reply(429, {"message": "Too Many Requests"}, {"Retry-After": "2"})
    voided = entry_body(status="voided")
    stub.script(limited, Reply(200, voided))
    # WHEN voiding an entry
    result = client.void_entry(voided["id"])
    # THEN the void was sent again after the pause the service asked for
    assert result == decode.entry(voided)
    assert len(stub.requests) == 2
    assert sleeps == [2.0]


def test_retry_after_is_bounded(
    stub: StubServer, client: LedgerClient, sleeps: list[float]
) -> None:
    # GIVEN a service that asks for a pause of a day
    stub.script(Reply(429, {}, {"Retry-After": "86400"}), Reply(200, {"status": "ok"}))
    # WHEN checking its health
    client.health()
    # THEN the client pauses no longer than its bound
    assert sleeps == [retry_after_s_max]


def test_attempts_are_bounded_and_the_last_error_is_raised(
    stub: StubServer, sleeps: list[float]
) -> None:
    # GIVEN a service that answers every attempt with 503 conflict
    client = LedgerClient(stub.url, "lk_test", attempts_max=3, sleep=sleeps.append)
    stub.script(*[error_reply(503, "conflict", "still contended")] * 5)
    # WHEN depositing
    # THEN the conflict is raised after exactly 3 attempts and 2 growing pauses
    with pytest.raises(Conflict) as raised:
        client.deposit(an_id("acc"), "1.00")
    assert len(stub.requests) == 3
    assert len(sleeps) == 2
    assert raised.value.message == "still contended"
    assert raised.value.request_id == "req-conflict"


def test_rate_limiting_that_outlasts_the_attempts_raises_rate_limited(
    stub: StubServer, sleeps: list[float]
) -> None:
    # GIVEN a gateway that answers every attempt with its own 429 body
    client = LedgerClient(stub.url, "lk_test", attempts_max=2, sleep=sleeps.append)
    stub.script(*[Reply(429, {"message": "Too Many Requests"})] * 2)
    # WHEN listing ledgers
    # THEN RateLimited is raised with the gateway's message
    with pytest.raises(RateLimited, match="Too Many Requests"):
        client.list_ledgers(owner_id=an_id("owner"))
    assert len(stub.requests) == 2


def test_a_refused_connection_is_retried_then_reported_with_the_key(
    sleeps: list[float],
) -> None:
    # GIVEN no service at all on the port (a stub that was started and stopped)
    with StubServer() as stopped:
        url = stopped.url
    client = LedgerClient(url, "lk_test", attempts_max=3, sleep=sleeps.append)
    key = an_id("key")
    # WHEN depositing with a key
    # THEN every attempt is made, and the error carries the key to send the deposit again with
    with pytest.raises(ServiceUnreachable) as raised:
        client.deposit(an_id("acc"), "1.00", idempotency_key=key)
    assert len(sleeps) == 2
    assert raised.value.idempotency_key == key


def test_a_client_error_is_not_retried(stub: StubServer, client: LedgerClient) -> None:
    # GIVEN a service that refuses a transfer for lack of funds
    stub.script(error_reply(422, "insufficient_funds", "no"), Reply(201, entry_body()))
    # WHEN transferring
    # THEN the refusal is raised after one attempt
    with pytest.raises(InsufficientFunds, match="no"):
        client.transfer(an_id("acc"), an_id("acc"), "1.00")
    assert len(stub.requests) == 1


def test_each_call_gets_a_fresh_automatic_key(stub: StubServer, client: LedgerClient) -> None:
    # GIVEN a service that accepts two deposits
    stub.script(Reply(201, entry_body()), Reply(201, entry_body()))
    # WHEN depositing twice without choosing keys
    account_id = an_id("acc")
    client.deposit(account_id, "1.00")
    client.deposit(account_id, "1.00")
    # THEN the two deposits carried different keys: they are two deposits, not a retry
    first, second = (request.headers["idempotency-key"] for request in stub.requests)
    assert first != second


@pytest.mark.parametrize(
    ("retry_after", "expected_s"),
    [("Wed, 21 Oct 2015 07:28:00 GMT", 0.0), ("0", 0.0), ("soon", None)],
)
def test_retry_after_as_a_date_or_unreadable(
    stub: StubServer,
    client: LedgerClient,
    sleeps: list[float],
    retry_after: str,
    expected_s: float | None,
) -> None:
    # GIVEN a service that asks for a pause with a past date, zero, or something unreadable
    stub.script(Reply(503, {}, {"Retry-After": retry_after}), Reply(200, {"status": "ok"}))
    # WHEN checking its health
    client.health()
    # THEN a past date or zero means no pause, and the unreadable falls back to backoff
    [slept] = sleeps
    if expected_s is None:
        assert 0 < slept <= 1
    else:
        assert slept == expected_s


def test_https_to_a_plain_http_server_is_unreachable(stub: StubServer, sleeps: list[float]) -> None:
    # GIVEN an https URL for a server that speaks plain HTTP
    client = LedgerClient(
        stub.url.replace("http:", "https:"), None, attempts_max=2, sleep=sleeps.append
    )
    # WHEN checking its health
    # THEN the TLS handshake fails on each attempt, and the service is reported unreachable
    with pytest.raises(ServiceUnreachable, match="SSL"):
        client.health()
    assert len(sleeps) == 1
