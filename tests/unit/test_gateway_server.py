"""The local gateway over real HTTP, its functions run in process: framing, limits, pass-through."""

from __future__ import annotations

import base64
import http.client
import json
import secrets
import socket
import struct
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

from ledger.local import server as server_module
from ledger.local.container import LambdaContext, load_handler
from ledger.local.gateway import Gateway, functions
from ledger.local.server import GatewayServer, payload_bytes_max

if TYPE_CHECKING:
    from collections.abc import Iterator


class InProcessInvoker:
    """Runs the stub functions in this process and records every invocation."""

    def __init__(self) -> None:
        self.handlers = {
            key: (function.name, load_handler(function.handler))
            for key, function in functions(
                "gateway_stubs:authorize", "gateway_stubs:handle"
            ).items()
        }
        self.calls: list[tuple[str, Any]] = []

    def invoke(self, key: str, event: object, request_id: str) -> object:
        self.calls.append((key, event))
        name, handler = self.handlers[key]
        return handler(event, LambdaContext(name, request_id, time.monotonic() + 30))


class Served:
    """A running server and the invoker behind it."""

    def __init__(self, server: GatewayServer, invoker: InProcessInvoker) -> None:
        self.server = server
        self.invoker = invoker

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[http.client.HTTPResponse, bytes]:
        connection = self.connection()
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        data = response.read()
        connection.close()
        return response, data

    def echo(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response, data = self.request(method, path, **kwargs)
        assert response.status == 200, data
        echoed: dict[str, Any] = json.loads(data)
        return echoed


@pytest.fixture
def served() -> Iterator[Served]:
    invoker = InProcessInvoker()
    server = GatewayServer(("127.0.0.1", 0), Gateway(invoker))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield Served(server, invoker)
    server.shutdown()
    server.server_close()
    thread.join()


def _raw_exchange(port: int, request: bytes) -> bytes:
    """Send raw bytes, read until the server closes or stops sending."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(request)
        received = b""
        try:
            while chunk := connection.recv(65536):
                received += chunk
        except TimeoutError:
            pass
    return received


def test_the_handler_sees_the_request_as_api_gateway_sends_it(served: Served) -> None:
    # GIVEN a request with repeated headers, repeated query parameters and a cookie
    tag = secrets.token_hex(4)
    connection = served.connection()
    connection.putrequest("GET", f"/v1/things?tag={tag}&tag=b&x=1")
    for name, value in [("X-Tag", "one"), ("X-Tag", "two"), ("Cookie", "a=1; b=2")]:
        connection.putheader(name, value)
    connection.putheader("Authorization", "Bearer good")
    connection.endheaders()

    # WHEN it goes through the gateway
    response = connection.getresponse()
    echoed = json.loads(response.read())
    connection.close()

    # THEN the event carries everything in payload 2.0 form, with the authorizer's context
    event = echoed["event"]
    assert event["rawPath"] == "/v1/things"
    assert event["headers"]["x-tag"] == "one,two"
    assert event["queryStringParameters"] == {"tag": f"{tag},b", "x": "1"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert "body" not in event
    context = event["requestContext"]["authorizer"]["lambda"]
    assert context["event_type"] == "REQUEST"
    assert context["route_arn"].endswith("/$default/GET/v1/things")
    assert context["identity_source"] == ["Bearer good"]
    assert context["saw_body"] is False
    # AND one request id runs through the event, the context and the response header
    request_id = response.getheader("apigw-requestid")
    assert event["requestContext"]["requestId"] == request_id
    assert echoed["context"]["aws_request_id"] == request_id
    assert echoed["context"]["function_name"] == "ledger-api"


def test_a_binary_body_reaches_the_handler_base64_encoded(served: Served) -> None:
    # GIVEN a body that is not UTF-8
    payload = b"\xff\xfe" + secrets.token_bytes(64)

    # WHEN it is posted
    event = served.echo("POST", "/upload", body=payload)["event"]

    # THEN the handler gets it base64-encoded and flagged
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload


def test_the_handlers_response_is_passed_through(served: Served) -> None:
    # GIVEN a result with a status, headers, a multi-value header, cookies and a binary body
    payload = secrets.token_bytes(32)
    result = {
        "statusCode": 202,
        "headers": {"Content-Type": "application/octet-stream", "X-Request-Id": "r-1"},
        "multiValueHeaders": {"X-Many": ["a", "b"]},
        "cookies": ["session=1; HttpOnly", "theme=dark"],
        "body": base64.b64encode(payload).decode(),
        "isBase64Encoded": True,
    }

    # WHEN the handler returns it
    response, data = served.request("POST", "/respond", body=json.dumps(result).encode())

    # THEN status, headers, repeated headers, cookies and the decoded body reach the client
    assert response.status == 202
    assert response.getheader("Content-Type") == "application/octet-stream"
    assert response.getheader("X-Request-Id") == "r-1"
    headers = response.getheaders()
    assert [value for name, value in headers if name == "X-Many"] == ["a", "b"]
    assert [value for name, value in headers if name == "set-cookie"] == [
        "session=1; HttpOnly",
        "theme=dark",
    ]
    assert response.getheader("Content-Length") == str(len(payload))
    assert data == payload


@pytest.mark.parametrize(
    ("authorization", "status", "message"),
    [
        ("Bearer deny", 403, "Forbidden"),
        ("Bearer nonsense", 500, "Internal Server Error"),
    ],
)
def test_authorizer_refusals_stop_the_request(
    served: Served, authorization: str, status: int, message: str
) -> None:
    # GIVEN an authorizer that denies or answers nonsense
    # WHEN a request arrives
    response, data = served.request("GET", "/anything", headers={"Authorization": authorization})

    # THEN API Gateway's own answer comes back and the handler never ran
    assert response.status == status
    assert json.loads(data) == {"message": message}
    assert [key for key, _ in served.invoker.calls] == ["authorizer"]


def test_a_body_over_api_gateways_limit_is_413_without_any_invocation(served: Served) -> None:
    # GIVEN a body one byte over 10 MB
    body = b"x" * (payload_bytes_max + 1)

    # WHEN it is posted
    response, data = served.request("POST", "/upload", body=body)

    # THEN it is refused as API Gateway refuses it, and nothing was invoked
    assert response.status == 413
    assert json.loads(data) == {"message": "Request Entity Too Large"}
    assert served.invoker.calls == []


def test_a_body_of_exactly_the_limit_is_accepted(served: Served) -> None:
    # GIVEN a body of exactly 10 MB
    body = b"y" * payload_bytes_max

    # WHEN it is posted
    event = served.echo("POST", "/upload", body=body)["event"]

    # THEN the handler gets all of it
    assert len(event["body"]) == payload_bytes_max


def test_an_announced_oversized_body_is_refused_before_it_is_sent(served: Served) -> None:
    # GIVEN a client that asks before sending an oversized body
    request = (
        f"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: {payload_bytes_max + 1}\r\n"
        "Expect: 100-continue\r\n\r\n"
    ).encode()

    # WHEN only the headers are sent
    received = _raw_exchange(served.server.port, request)

    # THEN the answer is 413, not 100 Continue, and the connection closes
    assert received.startswith(b"HTTP/1.1 413 ")
    assert b"100 Continue" not in received
    assert b"Connection: close" in received
    assert served.invoker.calls == []


def test_a_body_too_large_to_drain_closes_the_connection(served: Served) -> None:
    # GIVEN a declared body larger than the server is willing to drain
    declared = server_module.discard_bytes_max + 1
    request = f"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: {declared}\r\n\r\n".encode()

    # WHEN the headers and a little of the body arrive
    received = _raw_exchange(served.server.port, request + b"z" * 100)

    # THEN the 413 comes at once and nothing was invoked
    assert received.startswith(b"HTTP/1.1 413 ")
    assert served.invoker.calls == []


@pytest.mark.parametrize(
    "length_headers",
    [
        "Content-Length: abc\r\n",
        "Content-Length: -1\r\n",
        "Content-Length: 2\r\nContent-Length: 3\r\n",
        "Transfer-Encoding: gzip\r\n",
    ],
)
def test_a_broken_body_framing_is_400(served: Served, length_headers: str) -> None:
    # GIVEN a request whose body length cannot be trusted
    request = f"POST /upload HTTP/1.1\r\nHost: x\r\n{length_headers}\r\nab".encode()

    # WHEN it is sent
    received = _raw_exchange(served.server.port, request)

    # THEN it is a bad request and nothing was invoked
    assert received.startswith(b"HTTP/1.1 400 ")
    assert served.invoker.calls == []


def test_a_body_shorter_than_announced_is_not_invoked(served: Served) -> None:
    # GIVEN a client that announces 100 bytes, sends 3 and stops sending
    with socket.create_connection(("127.0.0.1", served.server.port), timeout=10) as connection:
        connection.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
        connection.shutdown(socket.SHUT_WR)
        received = connection.recv(65536)

    # WHEN the server sees the body end early
    # THEN it answers 400 and invokes nothing
    assert received.startswith(b"HTTP/1.1 400 ")
    assert served.invoker.calls == []


def test_a_chunked_body_is_reassembled(served: Served) -> None:
    # GIVEN a chunked body with a chunk extension and a trailer
    request = (
        b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n"
        b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: 1\r\n\r\n"
    )

    # WHEN it is sent
    received = _raw_exchange(served.server.port, request)

    # THEN the handler got the whole body
    assert received.startswith(b"HTTP/1.1 200 ")
    (_, event), *_ = [call for call in served.invoker.calls if call[0] == "handler"]
    assert event["body"] == "hello world"


@pytest.mark.parametrize(
    ("chunks", "status"),
    [
        (b"zz\r\nhello\r\n0\r\n\r\n", b"400"),
        (b"5\r\nhelloXX0\r\n\r\n", b"400"),
        (f"{payload_bytes_max + 1:x}\r\n".encode(), b"413"),
        (b"1" * 2000 + b"\r\n", b"400"),
        (b"0\r\n" + b"X-Trailer: 1\r\n" * 101 + b"\r\n", b"400"),
    ],
)
def test_a_bad_or_oversized_chunked_body_is_refused(
    served: Served, chunks: bytes, status: bytes
) -> None:
    # GIVEN a chunked body with a bad chunk size, a bad chunk end, or too large a chunk
    request = b"POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunks

    # WHEN it is sent
    received = _raw_exchange(served.server.port, request)

    # THEN it is refused and nothing was invoked
    assert received.startswith(b"HTTP/1.1 " + status)
    assert served.invoker.calls == []


def test_a_post_without_content_length_has_no_body(served: Served) -> None:
    # GIVEN a POST with neither Content-Length nor Transfer-Encoding
    request = b"POST /upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"

    # WHEN it is sent
    received = _raw_exchange(served.server.port, request)

    # THEN the handler ran on an event without a body
    assert received.startswith(b"HTTP/1.1 200 ")
    handler_events = [event for key, event in served.invoker.calls if key == "handler"]
    assert len(handler_events) == 1
    assert "body" not in handler_events[0]


def test_head_and_204_responses_carry_no_body(served: Served) -> None:
    # GIVEN a HEAD request and a handler answering 204 with a body anyway
    head, head_data = served.request("HEAD", "/anything")
    no_content_result = json.dumps({"statusCode": 204, "body": "ignored"}).encode()

    # WHEN the responses come back
    no_content, no_content_data = served.request("POST", "/respond", body=no_content_result)

    # THEN neither has a body; HEAD still tells the length of the GET body
    assert (head.status, head_data) == (200, b"")
    assert int(head.getheader("Content-Length") or 0) > 0
    assert (no_content.status, no_content_data) == (204, b"")


def test_one_connection_carries_several_requests(served: Served) -> None:
    # GIVEN one kept-alive connection
    connection = served.connection()

    # WHEN three requests go over it, one after the other
    statuses = []
    for _ in range(3):
        connection.request("GET", "/anything")
        response = connection.getresponse()
        response.read()
        statuses.append(response.status)
    connection.close()

    # THEN all three are answered
    assert statuses == [200, 200, 200]
    assert len([key for key, _ in served.invoker.calls if key == "handler"]) == 3


def test_a_client_that_asks_first_gets_100_continue_then_its_answer(served: Served) -> None:
    # GIVEN a client that asks before sending a small body
    request = (
        b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n"
        b"Expect: 100-continue\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", served.server.port), timeout=10) as connection:
        connection.sendall(request)

        # WHEN the server answers the question and the body follows
        interim = connection.recv(65536)
        connection.sendall(b"hello")
        final = b""
        while chunk := connection.recv(65536):
            final += chunk

    # THEN the client was told to go on, and the handler got the body
    assert interim.startswith(b"HTTP/1.1 100 Continue")
    assert (interim + final).count(b"HTTP/1.1 200 ") == 1
    (event,) = [event for key, event in served.invoker.calls if key == "handler"]
    assert event["body"] == "hello"


def test_a_client_that_asks_with_a_broken_length_gets_400(served: Served) -> None:
    # GIVEN a client that asks before sending, with a length that is not a number
    request = (
        b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\nExpect: 100-continue\r\n\r\n"
    )

    # WHEN it is sent
    received = _raw_exchange(served.server.port, request)

    # THEN the length is refused once the request is read, and nothing was invoked
    assert b"HTTP/1.1 400 " in received
    assert served.invoker.calls == []


def test_a_client_resetting_mid_body_is_dropped_and_the_server_goes_on(served: Served) -> None:
    # GIVEN a client that resets its connection halfway through its body
    with socket.create_connection(("127.0.0.1", served.server.port), timeout=10) as connection:
        connection.sendall(b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nab")
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    # WHEN another client comes afterwards
    response, _ = served.request("GET", "/anything")

    # THEN the reset request invoked nothing and the next one is served
    assert response.status == 200
    assert len([key for key, _ in served.invoker.calls if key == "handler"]) == 1


@pytest.mark.skipif(not socket.has_ipv6, reason="no IPv6 on this machine")
def test_an_ipv6_host_is_served() -> None:
    # GIVEN a server on the IPv6 loopback
    try:
        server = GatewayServer(("::1", 0), Gateway(InProcessInvoker()))
    except OSError:
        pytest.skip("the IPv6 loopback is not configured")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()

    # WHEN a request arrives over IPv6
    connection = http.client.HTTPConnection("::1", server.port, timeout=30)
    connection.request("GET", "/anything")
    status = connection.getresponse().status
    connection.close()
    server.shutdown()
    server.server_close()
    thread.join()

    # THEN it is answered
    assert status == 200


def test_an_oversized_body_cut_short_still_gets_413(served: Served) -> None:
    # GIVEN a client announcing 11 MB that sends a little and stops sending
    declared = payload_bytes_max + 1024 * 1024
    with socket.create_connection(("127.0.0.1", served.server.port), timeout=10) as connection:
        connection.sendall(
            f"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: {declared}\r\n\r\n".encode()
            + b"z" * 1000
        )
        connection.shutdown(socket.SHUT_WR)
        received = connection.recv(65536)

    # WHEN the server has drained what came
    # THEN it answers 413 and invoked nothing
    assert received.startswith(b"HTTP/1.1 413 ")
    assert served.invoker.calls == []
