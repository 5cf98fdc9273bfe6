"""The HTTP side of the local gateway: reads requests with bounded bodies, writes responses."""

# Over 300 lines as one module: the handler's methods are hooks of one http.server class.

from __future__ import annotations

import io
import json
import logging
import socket
import string
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from ledger.domain.errors import ValidationError
from ledger.domain.limits import dev_header_bytes_max, dev_request_stall_s
from ledger.local.events import HttpRequest, HttpResponse, gateway_response
from ledger.local.gateway import new_request_id, request_id_header
from ledger.local.stall import StallGuard

if TYPE_CHECKING:
    from ledger.local.gateway import Gateway

# API Gateway's own payload limit: a larger request never reaches a function.
payload_bytes_max = 10 * 1024 * 1024
# An oversized body is read and dropped up to this size, so that the client, still
# sending, reads the 413 instead of a reset connection; past it the connection just closes.
discard_bytes_max = 64 * 1024 * 1024
read_chunk_bytes = 64 * 1024
chunk_size_line_bytes_max = 1024
chunk_trailer_lines_max = 100
# Idle keep-alive connections are dropped after this long.
connection_idle_s_max = 120
# After a refusal the server reads and drops what the client still sends, this long at most,
# so the client reads the answer instead of a reset.
linger_s_max = 2
# http.server reads lines of at most this many bytes.
line_bytes_max = 65536

# What http.server's own parser refuses, as the contract says it: (status, field, message).
# Its 5xx answers (an unknown method, HTTP/2 on the request line) are bad input, hence 400.
_parser_refusals = {
    400: (400, "request_line", "the request line is not an HTTP/1.x request line"),
    414: (414, "request_line", f"the request line is longer than {line_bytes_max} bytes"),
    431: (431, "headers", f"a header line exceeds {line_bytes_max} bytes, or there are too many"),
    501: (400, "method", "the method is not an HTTP method the API serves"),
    505: (400, "protocol", "only HTTP/1.0 and HTTP/1.1 are served"),
}
_parser_refusal_default = (400, "request", "the request is not well-formed HTTP/1.1")

logger = logging.getLogger(__name__)


class BodyTooLarge(Exception):
    """The request body exceeds API Gateway's payload limit."""


class GatewayServer(ThreadingHTTPServer):
    """A threaded HTTP/1.1 server handing every request to a Gateway."""

    daemon_threads = True
    # socketserver's default backlog of 5 drops bursts of parallel clients before accept().
    request_queue_size = 128

    def __init__(
        self,
        address: tuple[str, int],
        gateway: Gateway,
        request_stall_s: float = dev_request_stall_s,
    ) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _RequestHandler)
        self.gateway = gateway
        self.request_stall_s = request_stall_s

    @property
    def port(self) -> int:
        """The port bound, which is the one asked for unless that was 0."""
        port: int = self.server_address[1]
        return port


def refusal_response(status: int, error: ValidationError, request_id: str) -> HttpResponse:
    """A refusal by the HTTP front itself, in the API's error contract, with its request id."""
    body = json.dumps(error.to_dict(), separators=(",", ":")).encode()
    headers = (
        ("content-type", "application/json"),
        ("X-Request-Id", request_id),
        (request_id_header, request_id),
    )
    return HttpResponse(status, headers, body)


class _RequestHandler(BaseHTTPRequestHandler):
    """One connection: reads each request, asks the gateway, writes its answer."""

    protocol_version = "HTTP/1.1"
    timeout = connection_idle_s_max
    server: GatewayServer

    def setup(self) -> None:
        """Read the connection through a stall guard instead of a plain socket file."""
        super().setup()
        # The plain file holds a reference that would keep the socket open after close.
        self.rfile.close()
        self._input = StallGuard(
            self.connection, connection_idle_s_max, self.server.request_stall_s
        )
        self.rfile = io.BufferedReader(self._input)
        self._unread_input = False

    def finish(self) -> None:
        """After a refusal, drain what the client still sends, so it reads the answer."""
        if self._unread_input:
            self._linger()
        super().finish()

    def parse_request(self) -> bool:
        """http.server's parse, then API Gateway's bound on the size of line and headers."""
        if not super().parse_request():
            return False
        oversized = self._oversized_headers()
        if oversized is not None:
            self._refuse(431, oversized)
            return False
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """http.server's own refusals in the API's error contract instead of an HTML page."""
        status, field, text = _parser_refusals.get(code, _parser_refusal_default)
        # A request line too broken to name its version leaves HTTP/0.9, which has no status
        # line and no headers to carry the refusal.
        self.request_version = self.protocol_version
        self._refuse(status, ValidationError(field, text))

    def handle_expect_100(self) -> bool:
        """Refuse oversized headers, broken framing or an oversized body before it is sent."""
        oversized = self._oversized_headers()
        if oversized is not None:
            self._refuse(431, oversized)
            return False
        try:
            length = None if self._is_chunked() else self._declared_length()
        except ValidationError as error:
            self._refuse(400, error)
            return False
        if length is not None and length > payload_bytes_max:
            self._close_with(gateway_response(413, "Request Entity Too Large"))
            return False
        return super().handle_expect_100()

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except BodyTooLarge:
            self._close_with(gateway_response(413, "Request Entity Too Large"))
            return
        except ValidationError as error:
            self._refuse(400, error)
            return
        except OSError:
            # The client went away or stalled mid-body: nobody is left to answer.
            self.close_connection = True
            return
        self._input.request_read()
        request = HttpRequest(
            method=self.command,
            target=self.path,
            headers=tuple(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            protocol=self.request_version,
        )
        self._send(self.server.gateway.handle(request))

    # http.server dispatches each method to a do_<METHOD> attribute; all go to the gateway.
    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve  # noqa: N815

    def _oversized_headers(self) -> ValidationError | None:
        size = len(self.requestline) + sum(
            len(name) + len(value) for name, value in self.headers.items()
        )
        if size <= dev_header_bytes_max:
            return None
        return ValidationError(
            "headers", f"the request line and headers exceed {dev_header_bytes_max} bytes"
        )

    def _read_body(self) -> bytes:
        if self._is_chunked():
            return self._read_chunked()
        length = self._declared_length()
        if length is None:
            return b""
        if length > payload_bytes_max:
            self._discard(length)
            raise BodyTooLarge
        return self._read_exactly(length)

    def _is_chunked(self) -> bool:
        values = self.headers.get_all("transfer-encoding") or []
        if not values:
            return False
        # Repeated headers count as one comma-joined list; only a lone `chunked` is understood.
        codings = [part.strip().lower() for value in values for part in value.split(",")]
        if codings != ["chunked"]:
            raise ValidationError("Transfer-Encoding", "only chunked transfer encoding is served")
        if self.headers.get_all("content-length"):
            # Two framings of one body are how requests are smuggled past a proxy.
            raise ValidationError(
                "Content-Length", "Content-Length and Transfer-Encoding must not come together"
            )
        return True

    def _declared_length(self) -> int | None:
        values = self.headers.get_all("content-length") or []
        if not values:
            return None
        # Repeated headers, or a comma-joined list, frame the body twice: refused even if equal.
        lengths = [part.strip() for value in values for part in value.split(",")]
        if len(lengths) != 1:
            raise ValidationError("Content-Length", "Content-Length must be given once")
        (text,) = lengths
        if not text.isascii() or not text.isdigit():
            raise ValidationError("Content-Length", "Content-Length is not a number of bytes")
        return int(text)

    def _read_exactly(self, length: int) -> bytes:
        body = self.rfile.read(length)
        if len(body) != length:
            raise ValidationError("body", "the body ended before its declared length")
        return body

    def _discard(self, length: int) -> None:
        if length > discard_bytes_max:
            return
        remaining = length
        while remaining > 0:
            chunk = self.rfile.read(min(remaining, read_chunk_bytes))
            if not chunk:
                return
            remaining -= len(chunk)

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            size = self._chunk_size()
            if size == 0:
                break
            total += size
            if total > payload_bytes_max:
                raise BodyTooLarge
            parts.append(self._read_exactly(size))
            if self.rfile.read(2) != b"\r\n":
                raise ValidationError("body", "a chunk does not end with CRLF")
        for _ in range(chunk_trailer_lines_max):
            if self.rfile.readline(chunk_size_line_bytes_max + 1) in {b"\r\n", b"\n", b""}:
                return b"".join(parts)
        raise ValidationError("body", f"more than {chunk_trailer_lines_max} trailer lines")

    def _chunk_size(self) -> int:
        line = self.rfile.readline(chunk_size_line_bytes_max + 1)
        if not line.endswith(b"\n"):
            raise ValidationError("body", "a chunk size line is missing or too long")
        text = line.split(b";", 1)[0].strip().decode("ascii", errors="replace")
        if not text or any(character not in string.hexdigits for character in text):
            raise ValidationError("body", "a chunk size is not hexadecimal")
        return int(text, 16)

    def _refuse(self, status: int, error: ValidationError) -> None:
        request_id = new_request_id()
        logger.warning("request %s refused with %d: %s", request_id, status, error.message)
        self._close_with(refusal_response(status, error, request_id))

    def _close_with(self, response: HttpResponse) -> None:
        # What is left of the request cannot be framed, so the connection ends with it.
        self.close_connection = True
        self._unread_input = True
        self._send(response)

    def _linger(self) -> None:
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + linger_s_max
            drained = 0
            while drained <= discard_bytes_max:
                # Past the deadline a zero timeout takes only what has arrived already.
                self.connection.settimeout(max(0.0, deadline - time.monotonic()))
                chunk = self.connection.recv(read_chunk_bytes)
                if not chunk:
                    return
                drained += len(chunk)
        except OSError:
            # The client is gone or silent: there is nobody left to read the answer.
            return

    def _send(self, response: HttpResponse) -> None:
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        # HEAD, 1xx, 204 and 304 responses carry no body, whatever the function returned.
        bodiless_status = response.status < 200 or response.status in {204, 304}
        if not bodiless_status:
            self.send_header("Content-Length", str(len(response.body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and not bodiless_status:
            self.wfile.write(response.body)
