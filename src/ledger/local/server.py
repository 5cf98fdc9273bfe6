"""The HTTP side of the local gateway: reads requests with bounded bodies, writes responses."""

from __future__ import annotations

import socket
import string
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from ledger.local.events import HttpRequest, HttpResponse, gateway_response

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
# Idle keep-alive connections and stalled uploads are dropped after this long.
connection_idle_s_max = 120


class BodyTooLarge(Exception):
    """The request body exceeds API Gateway's payload limit."""


class BadBody(Exception):
    """The body's framing is broken: a bad Content-Length, a bad chunk, or a short body."""


class GatewayServer(ThreadingHTTPServer):
    """A threaded HTTP/1.1 server handing every request to a Gateway."""

    daemon_threads = True
    # socketserver's default backlog of 5 drops bursts of parallel clients before accept().
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], gateway: Gateway) -> None:
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _RequestHandler)
        self.gateway = gateway

    @property
    def port(self) -> int:
        """The port bound, which is the one asked for unless that was 0."""
        port: int = self.server_address[1]
        return port


class _RequestHandler(BaseHTTPRequestHandler):
    """One connection: reads each request, asks the gateway, writes its answer."""

    protocol_version = "HTTP/1.1"
    timeout = connection_idle_s_max
    server: GatewayServer

    def handle_expect_100(self) -> bool:
        """Refuse an oversized body before the client sends it."""
        try:
            length = self._declared_length()
        except BadBody:
            length = None
        if length is not None and length > payload_bytes_max:
            self.close_connection = True
            self._send(gateway_response(413, "Request Entity Too Large"))
            return False
        return super().handle_expect_100()

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except BodyTooLarge:
            self.close_connection = True
            self._send(gateway_response(413, "Request Entity Too Large"))
            return
        except BadBody:
            self.close_connection = True
            self._send(gateway_response(400, "Bad Request"))
            return
        except OSError:
            # The client went away or stalled mid-body: nobody is left to answer.
            self.close_connection = True
            return
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

    def _read_body(self) -> bytes:
        transfer_encoding = self.headers.get("transfer-encoding")
        if transfer_encoding is not None:
            if transfer_encoding.strip().lower() != "chunked":
                raise BadBody("only chunked transfer encoding is understood")
            return self._read_chunked()
        length = self._declared_length()
        if length is None:
            return b""
        if length > payload_bytes_max:
            self._discard(length)
            raise BodyTooLarge
        return self._read_exactly(length)

    def _declared_length(self) -> int | None:
        values = self.headers.get_all("content-length") or []
        if not values:
            return None
        # Repeated headers must agree; a comma-joined list counts as repeated too.
        lengths = {part.strip() for value in values for part in value.split(",")}
        if len(lengths) != 1:
            raise BadBody("conflicting Content-Length headers")
        (text,) = lengths
        if not text.isascii() or not text.isdigit():
            raise BadBody("Content-Length is not a number")
        return int(text)

    def _read_exactly(self, length: int) -> bytes:
        body = self.rfile.read(length)
        if len(body) != length:
            raise BadBody("the body ended before its Content-Length")
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
                raise BadBody("a chunk does not end with CRLF")
        for _ in range(chunk_trailer_lines_max):
            if self.rfile.readline(chunk_size_line_bytes_max + 1) in {b"\r\n", b"\n", b""}:
                return b"".join(parts)
        raise BadBody("too many trailer lines")

    def _chunk_size(self) -> int:
        line = self.rfile.readline(chunk_size_line_bytes_max + 1)
        if not line.endswith(b"\n"):
            raise BadBody("a chunk size line is missing or too long")
        text = line.split(b";", 1)[0].strip().decode("ascii", errors="replace")
        if not text or any(character not in string.hexdigits for character in text):
            raise BadBody("a chunk size is not hexadecimal")
        return int(text, 16)

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
