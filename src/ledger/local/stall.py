"""A connection's input with one deadline per request, so a trickling client cannot stall it."""

from __future__ import annotations

import io
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import socket

    from _typeshed import WriteableBuffer


class StallGuard(io.RawIOBase):
    """Reads a socket: waiting for a request may take `idle_s`, reading one at most `stall_s`.

    A socket timeout alone bounds each read, so one byte every few seconds would keep a
    request open for ever; here the clock starts at a request's first byte and every read
    gets only what is left of it.
    """

    def __init__(self, connection: socket.socket, idle_s: float, stall_s: float) -> None:
        super().__init__()
        self._connection = connection
        self._idle_s = idle_s
        self._stall_s = stall_s
        self._deadline: float | None = None

    def readable(self) -> bool:
        """Always: it is the input side of the connection."""
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        """Receive into `buffer`, within what is left of the current request's deadline."""
        if self._deadline is None:
            self._connection.settimeout(self._idle_s)
        else:
            remaining_s = self._deadline - time.monotonic()
            if remaining_s <= 0:
                raise TimeoutError(f"the request did not arrive within {self._stall_s} s")
            # A socket timeout here ends the read as the deadline passes.
            self._connection.settimeout(remaining_s)
        received = self._connection.recv_into(buffer)
        if self._deadline is None and received:
            self._deadline = time.monotonic() + self._stall_s
        return received

    def request_read(self) -> None:
        """The request is in: the next byte starts the next request; writes get the idle bound."""
        self._deadline = None
        self._connection.settimeout(self._idle_s)
