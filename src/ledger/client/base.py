"""What every part of the client shares: the transport call, keyed creation, amounts and pages."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar

from ledger.client import decode
from ledger.client.transport import Call, Response, Transport, path
from ledger.domain.model import Entry, Page

T = TypeVar("T")


class PagesMaxReached(Exception):
    """An iterator read the `pages_max` pages its caller allowed and the listing goes on:
    ending there would pass for the listing's end. `next_cursor` continues it (with the
    `list_*` method of the same listing)."""

    def __init__(self, pages_max: int, next_cursor: str) -> None:
        super().__init__(
            f"the listing goes on after the {pages_max} pages allowed; "
            "continue from next_cursor, or allow more pages"
        )
        self.pages_max = pages_max
        self.next_cursor = next_cursor


class ClientBase:
    """The transport and the last answer; every route method sends through `_send`."""

    _transport: Transport
    last_response: Response | None

    def _send(self, call: Call) -> Any:
        response = self._transport.send(call)
        self.last_response = response
        return response.body

    def _replayed(self) -> bool:
        """Whether the last answer replayed an earlier result."""
        return self.last_response is not None and self.last_response.replayed

    def _entry(self, body: Any) -> Entry:
        """The entry an answer carries, replayed if the answer says so."""
        return decode.entry(body, self._replayed())

    def _create(self, body: dict[str, Any], idempotency_key: str | None, *segments: str) -> Any:
        key = str(uuid.uuid4()) if idempotency_key is None else idempotency_key
        return self._send(Call("POST", path(*segments), body=body, idempotency_key=key))


def amount_text(value: object, name: str = "amount") -> str:
    """A decimal string; floats lose cents and a bare int says nothing about units."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str):
        return value
    raise TypeError(
        f'{name} must be a Decimal or a decimal string such as "10.50", not {type(value).__name__}'
    )


def moment_text(value: datetime | str | None, name: str = "effective_at") -> str | None:
    """An RFC 3339 time in UTC; a string is sent as given, for the service to check."""
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def present(**fields: Any) -> dict[str, Any]:
    """The fields that were given: an absent optional field is left out, not sent as null."""
    return {name: value for name, value in fields.items() if value is not None}


def follow(fetch: Callable[[str | None], Page[T]], pages_max: int | None) -> Iterator[T]:
    """The items of successive pages, following cursors to the listing's end; with a
    `pages_max`, reading a further page raises PagesMaxReached instead."""
    if pages_max is not None and pages_max < 1:
        raise ValueError("pages_max must be at least 1, or None for no bound")
    cursor: str | None = None
    pages = 0
    while True:
        page = fetch(cursor)
        pages += 1
        yield from page.items
        cursor = page.next_cursor
        if cursor is None:
            return
        if pages == pages_max:
            raise PagesMaxReached(pages_max, cursor)
