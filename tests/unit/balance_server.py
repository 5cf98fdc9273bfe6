"""A real HTTP server on 127.0.0.1 that answers each path as a test tells it to."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from uuid import uuid4

# A held answer waits at most this long, so a server never outlives its test by much.
hold_s_max = 5.0


@dataclass
class Reply:
    """What the server sends for one path."""

    body: bytes = b"{}"
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    declare_length: bool = True
    hold: bool = False
    hang_up: bool = False


@dataclass
class BalanceServer:
    """The replies by path, the headers each request carried, and the port."""

    port: int = 0
    replies: dict[str, Reply] = field(default_factory=dict)
    requests: list[dict[str, str]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    def serve(self, reply: Reply) -> str:
        """A fresh random path that answers `reply`, as a full URL."""
        path = f"/{uuid4().hex}"
        self.replies[path] = reply
        return f"http://127.0.0.1:{self.port}{path}"


def _handler(server: BalanceServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.requests.append(dict(self.headers.items()))
            reply = server.replies.get(self.path, Reply(b"", status=404))
            if reply.hold:
                server.release.wait(timeout=hold_s_max)
            if reply.hang_up:
                self.close_connection = True
                return
            try:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.declare_length:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)
            except OSError:
                # The client gave up first (a timeout test); nothing is left to answer.
                self.close_connection = True

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the tests read requests from `server.requests`."""

    return Handler


@contextmanager
def balance_server() -> Iterator[BalanceServer]:
    """A running server; stopped, with every held answer released, on exit."""
    state = BalanceServer()
    http = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = http.server_address[1]
    thread = threading.Thread(target=http.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        http.shutdown()
        http.server_close()
        thread.join(timeout=hold_s_max)
