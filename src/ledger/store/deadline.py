"""How long a request may still take: one deadline per request, which every store call reads.

The API sets it from the Lambda's remaining time for the duration of a request; anything
else (the library, the CLI, stream consumers) gets `store_deadline_ms_local` per store call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from ledger.domain import limits

Clock = Callable[[], float]


@dataclass(frozen=True)
class Deadline:
    """A moment on a monotonic clock by which an answer must be on its way."""

    at_s: float
    clock: Clock = time.monotonic

    def remaining_ms(self) -> float:
        """Milliseconds left; negative once it has passed."""
        return (self.at_s - self.clock()) * 1000


_request_deadline: ContextVar[Deadline | None] = ContextVar("request_deadline", default=None)


def deadline_in(milliseconds: float, clock: Clock = time.monotonic) -> Deadline:
    """The deadline `milliseconds` from now on `clock`."""
    return Deadline(clock() + milliseconds / 1000, clock)


@contextmanager
def request_deadline(milliseconds: float, clock: Clock = time.monotonic) -> Iterator[Deadline]:
    """Every store call inside the block shares one deadline, `milliseconds` from now."""
    deadline = deadline_in(milliseconds, clock)
    token = _request_deadline.set(deadline)
    try:
        yield deadline
    finally:
        _request_deadline.reset(token)


def current_deadline(clock: Clock = time.monotonic) -> Deadline:
    """The request's deadline if one is set, else `store_deadline_ms_local` from now."""
    deadline = _request_deadline.get()
    if deadline is None:
        return deadline_in(limits.store_deadline_ms_local, clock)
    return deadline


def lambda_budget_ms(remaining_ms: int | None) -> int:
    """How long a request may take: the Lambda's remaining time (None: not in Lambda) and
    API Gateway's cut-off, whichever comes first, less the margin to answer."""
    cut_off = limits.api_gateway_timeout_ms
    available = cut_off if remaining_ms is None else min(remaining_ms, cut_off)
    return available - limits.deadline_margin_ms
