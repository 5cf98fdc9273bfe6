"""The local HTTP front's own refusals over raw sockets: the error contract, and stalls cut off."""

from __future__ import annotations

import json
import secrets
import select
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

from ledger.domain.limits import dev_header_bytes_max
from ledger.local import server as server_module
from ledger.local.events import HttpRequest, HttpResponse
from ledger.local.gateway import Gateway
from ledger.local.server import GatewayServer
from ledger.local.stall import StallGuard

if TYPE_CHECKING:
    from collections.abc import Iterator

stall_s = 0.5
# Generous next to the stall bound: a loaded machine is slow, an uncut stall takes 120 s.
cut_off_s_max = 5.0
trickle_interval_s = 0.1


class RecordingGateway(Gateway):
    """Answers 200 to everything and records what reached it."""

    def __init__(self) -> None:
        self.requests: list[HttpRequest] = []

    def handle(self, request: HttpRequest) -> HttpResponse:
        self.requests.append(request)
        return HttpResponse(200, (("content-type", "application/json"),), b"{}")


class Front:
    """A running front on a free port with a short stall bound, and what reached its gateway."""

    def __init__(self, server: GatewayServer, gateway: RecordingGateway) -> None:
        self.server = server
        self.gateway = gateway

    def connect(self) -> socket.socket:
        return socket.create_connection(("127.0.0.1", self.server.port), timeout=10)


@pytest.fixture
def front() -> Iterator[Front]:
    gateway = RecordingGateway()
    server = GatewayServer(("127.0.0.1", 0), gateway, request_stall_s=stall_s)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield Front(server, gateway)
    server.shutdown()
    server.server_close()
    thread.join()


def _exchange(front: Front, request: bytes) -> bytes:
    """Send the whole request, then read until the server closes."""
    with front.connect() as connection:
        connection.sendall(request)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk
    return received


def _parsed(received: bytes) -> tuple[int, dict[str, str], Any]:
    """Status, headers (lower-cased names) and JSON body of the one response received."""
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.lower().split(": ", 1) for line in header_lines)
    assert len(body) == int(headers["content-length"])
    return int(status_line.split(" ")[1]), headers, json.loads(body)


def _read_response(connection: socket.socket) -> bytes:
    """One whole response from a kept-alive connection: its head, then its body's length."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += connection.recv(65536)
    head = received.partition(b"\r\n\r\n")[0].decode("latin-1").lower()
    length = int(head.partition("content-length: ")[2].split("\r\n")[0])
    while len(received.partition(b"\r\n\r\n")[2]) < length:
        received += connection.recv(65536)
    return received


def _post(headers: str, body: bytes = b"ab") -> bytes:
    return f"POST /v1/transfers HTTP/1.1\r\nHost: x\r\n{headers}\r\n".encode() + body


huge_authorization = f"Authorization: Bearer {'k' * 100 * 1024}\r\n"
many_header_bytes = "".join(f"X-Pad-{n}: {'p' * 1000}\r\n" for n in range(12))


@pytest.mark.parametrize(
    ("request_bytes", "status", "field"),
    [
        (_post(huge_authorization + "Content-Length: 2\r\n"), 431, "headers"),
        (_post(many_header_bytes + "Content-Length: 2\r\n"), 431, "headers"),
        (_post("Content-Length: 2\r\nContent-Length: 2\r\n"), 400, "Content-Length"),
        (_post("Content-Length: 2, 3\r\n"), 400, "Content-Length"),
        (_post("Content-Length: -1\r\n"), 400, "Content-Length"),
        (_post("Content-Length: 0x2\r\n"), 400, "Content-Length"),
        (_post("Transfer-Encoding: gzip\r\n"), 400, "Transfer-Encoding"),
        (
            _post("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n"),
            400,
            "Transfer-Encoding",
        ),
        (
            _post("Transfer-Encoding: chunked\r\nContent-Length: 7\r\n", b"2\r\nab\r\n0\r\n\r\n"),
            400,
            "Content-Length",
        ),
        (_post("Transfer-Encoding: chunked\r\n", b"zz\r\nab\r\n0\r\n\r\n"), 400, "body"),
        (b"NONSENSE\r\n\r\n", 400, "request_line"),
        (b"BREW /v1/health HTTP/1.1\r\nHost: x\r\n\r\n", 400, "method"),
        (b"GET /v1/health HTTP/2.0\r\nHost: x\r\n\r\n", 400, "protocol"),
        (b"GET /" + b"a" * 70_000 + b" HTTP/1.1\r\n\r\n", 414, "request_line"),
    ],
    ids=[
        "100KB-authorization",
        "headers-over-api-gateway-quota",
        "two-content-lengths",
        "conflicting-content-lengths",
        "negative-content-length",
        "hex-content-length",
        "unsupported-transfer-encoding",
        "chunked-then-gzip",
        "chunked-and-content-length",
        "bad-chunk-size",
        "garbage-request-line",
        "unknown-method",
        "http-2-request-line",
        "request-line-too-long",
    ],
)
def test_a_malformed_request_is_refused_in_the_error_contract(
    front: Front, request_bytes: bytes, status: int, field: str
) -> None:
    # GIVEN a request with oversized headers, broken framing or a broken request line
    # WHEN it is sent whole
    received = _exchange(front, request_bytes)

    # THEN the answer is the API's error contract naming the field, with a request id, not HTML
    answered, headers, body = _parsed(received)
    assert answered == status
    assert headers["content-type"] == "application/json"
    assert body["error"]["code"] == "validation_error"
    assert body["error"]["details"] == {"field": field}
    assert body["error"]["message"]
    assert len(headers["x-request-id"]) == 16
    assert headers["apigw-requestid"] == headers["x-request-id"]
    assert headers["connection"] == "close"
    # AND nothing reached the functions
    assert front.gateway.requests == []


def test_each_refusal_gets_its_own_request_id(front: Front) -> None:
    # GIVEN two identical broken requests
    request_bytes = _post("Content-Length: 1\r\nContent-Length: 1\r\n")

    # WHEN both are sent
    first = _parsed(_exchange(front, request_bytes))[1]["x-request-id"]
    second = _parsed(_exchange(front, request_bytes))[1]["x-request-id"]

    # THEN each answer names a request of its own
    assert first != second


@pytest.mark.parametrize(("extra_bytes", "status"), [(0, 200), (1, 431)])
def test_headers_up_to_the_quota_are_served(front: Front, extra_bytes: int, status: int) -> None:
    # GIVEN a request whose line and headers (names and values) come to the quota, or one more
    line = "GET /v1/health HTTP/1.1"
    fixed = len(line) + len("Connection") + len("close") + len("X-Pad")
    padding = "p" * (dev_header_bytes_max - fixed + extra_bytes)
    request_bytes = f"{line}\r\nX-Pad: {padding}\r\nConnection: close\r\n\r\n".encode()

    # WHEN it is sent
    answered, _, _ = _parsed(_exchange(front, request_bytes))

    # THEN exactly the quota reaches the gateway; a byte more is refused
    assert answered == status
    assert len(front.gateway.requests) == (1 if status == 200 else 0)


def test_oversized_headers_announcing_a_body_are_refused_before_continue(front: Front) -> None:
    # GIVEN a client that asks before sending, with headers over the quota
    request_bytes = _post(many_header_bytes + "Content-Length: 5\r\nExpect: 100-continue\r\n", b"")

    # WHEN only the headers are sent
    received = _exchange(front, request_bytes)

    # THEN the answer is 431 in the contract, never 100 Continue
    assert b"100 Continue" not in received
    status, _, body = _parsed(received)
    assert (status, body["error"]["details"]) == (431, {"field": "headers"})


def _seconds_until_closed(connection: socket.socket, trickle: bytes | None) -> float:
    """Seconds until the server closes, sending one byte of `trickle` per interval meanwhile."""
    started = time.monotonic()
    remaining = trickle or b""
    while time.monotonic() - started < cut_off_s_max:
        if remaining:
            try:
                connection.sendall(remaining[:1])
            except OSError:
                return time.monotonic() - started
            remaining = remaining[1:]
        readable, _, _ = select.select([connection], [], [], trickle_interval_s)
        if readable:
            try:
                if connection.recv(65536) == b"":
                    return time.monotonic() - started
            except ConnectionResetError:
                return time.monotonic() - started
    return time.monotonic() - started


def test_headers_trickled_byte_by_byte_are_cut_off_after_the_stall_bound(front: Front) -> None:
    # GIVEN a client that sends its headers one byte per interval, never finishing in time
    with front.connect() as connection:
        connection.sendall(b"GET /v1/health HTTP/1.1\r\nHost: x\r\n")

        # WHEN it keeps trickling
        elapsed = _seconds_until_closed(connection, b"X-Slow: " + b"s" * 200)

    # THEN the server closed it once the stall bound passed, though each byte came quickly
    assert stall_s <= elapsed < cut_off_s_max
    assert front.gateway.requests == []


def test_a_body_that_stops_arriving_is_cut_off_after_the_stall_bound(front: Front) -> None:
    # GIVEN a client that announces 100 bytes, sends 3 and goes quiet, its side still open
    with front.connect() as connection:
        connection.sendall(_post("Content-Length: 100\r\n", b"abc"))

        # WHEN it waits
        elapsed = _seconds_until_closed(connection, None)

    # THEN the server closed it after the stall bound, invoking nothing
    assert stall_s <= elapsed < cut_off_s_max
    assert front.gateway.requests == []


def test_an_idle_kept_alive_connection_outlives_the_stall_bound(front: Front) -> None:
    # GIVEN a connection that has been answered once
    tag = secrets.token_hex(4)
    request_bytes = f"GET /v1/health?tag={tag} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    with front.connect() as connection:
        connection.sendall(request_bytes)
        first = _read_response(connection)

        # WHEN it stays idle longer than the stall bound, then sends another request
        time.sleep(stall_s * 2)
        connection.sendall(request_bytes)
        second = _read_response(connection)

    # THEN both requests are served: the stall bound runs only while a request arrives
    assert first.startswith(b"HTTP/1.1 200 ")
    assert second.startswith(b"HTTP/1.1 200 ")
    assert [request.target for request in front.gateway.requests] == [f"/v1/health?tag={tag}"] * 2


def _sent_until_dropped(connection: socket.socket) -> bool:
    """Send until the server drops the connection (a reset or a broken pipe), within a bound."""
    started = time.monotonic()
    while time.monotonic() - started < cut_off_s_max:
        try:
            connection.sendall(b"z" * 4096)
        except OSError:
            return True
        time.sleep(trickle_interval_s)
    return False


def test_a_refused_client_that_keeps_sending_is_drained_only_so_far(
    front: Front, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a server that, after a refusal, drains at most 100 bytes, for as long as it takes
    monkeypatch.setattr(server_module, "discard_bytes_max", 100)
    monkeypatch.setattr(server_module, "linger_s_max", 60)
    with front.connect() as connection:
        connection.sendall(_post("Content-Length: 1\r\nContent-Length: 2\r\n", b""))
        received = b""
        while chunk := connection.recv(65536):
            received += chunk

        # WHEN the client goes on sending far more than that
        started = time.monotonic()
        dropped = _sent_until_dropped(connection)

    # THEN the refusal had arrived whole, and the server dropped the connection long before
    # its linger time was up
    status, _, body = _parsed(received)
    assert (status, body["error"]["details"]) == (400, {"field": "Content-Length"})
    assert dropped
    assert time.monotonic() - started < cut_off_s_max


def test_a_refused_client_that_neither_reads_nor_closes_is_let_go(
    front: Front, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a server that lingers a short while after a refusal
    monkeypatch.setattr(server_module, "linger_s_max", 0.2)
    with front.connect() as connection:
        # WHEN a client sends a broken request and then just keeps its side open
        connection.sendall(_post("Transfer-Encoding: gzip\r\n"))
        started = time.monotonic()
        closed_after = _seconds_until_closed(connection, None)

    # THEN the server has answered and closed its side without waiting for the client
    assert closed_after < cut_off_s_max
    assert time.monotonic() - started < cut_off_s_max


def test_the_stall_guard_refuses_to_read_past_the_deadline() -> None:
    # GIVEN a guarded socket whose request began longer ago than the stall bound
    ours, theirs = socket.socketpair()
    with ours, theirs:
        guard = StallGuard(ours, idle_s=5, stall_s=0.05)
        theirs.sendall(b"G")
        assert guard.readinto(bytearray(1)) == 1
        time.sleep(0.1)
        theirs.sendall(b"ET")

        # WHEN it is read again, though bytes are waiting
        # THEN it times out at once rather than extend the request
        with pytest.raises(TimeoutError, match=r"did not arrive within 0\.05 s"):
            guard.readinto(bytearray(2))
        # AND once the request is marked read, the next one starts a fresh clock
        guard.request_read()
        assert guard.readinto(bytearray(2)) == 2
