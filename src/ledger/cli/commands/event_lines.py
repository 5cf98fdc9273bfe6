"""The lines of the local event files read and written by `ledger events`: inbound events
checked before they are queued, published events told in one readable line each."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

# What one `ledger events send` may queue: SQS takes messages of up to 256 KB.
events_per_send_max = 10_000
event_bytes_max = 256 * 1024
send_bytes_max = 64 * 1024 * 1024
# The fields of a detail that name what the event is about, in the order they are told.
id_fields = ("id", "entry_id", "account_id", "monitor_id", "ledger_id")
# An account id is long; its end tells accounts apart in a line.
short_id_length_max = 16
short_id_tail_length = 8


class NotEvents(ValueError):
    """The text to send is not one JSON object, nor one JSON object per line."""


def inbound_events(text: str) -> list[dict[str, Any]]:
    """The events of `text`: one JSON object (across lines or not), or one per line."""
    try:
        whole = json.loads(text)
    except (ValueError, RecursionError):
        whole = None
    else:
        return [_checked(whole, "the input")]
    lines = [(number, line) for number, line in enumerate(text.splitlines(), 1) if line.strip()]
    if not lines:
        raise NotEvents("no events: the input is empty")
    if len(lines) > events_per_send_max:
        raise NotEvents(f"at most {events_per_send_max} events at a time, not {len(lines)}")
    events: list[dict[str, Any]] = []
    for number, line in lines:
        try:
            value = json.loads(line)
        except (ValueError, RecursionError):
            raise NotEvents(f"line {number} is not JSON: {_excerpt(line)}") from None
        events.append(_checked(value, f"line {number}"))
    return events


def _checked(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise NotEvents(f'{where} is not a JSON object (an event is {{"id": ..., ...}})')
    size = len(json.dumps(value, separators=(",", ":")).encode())
    if size > event_bytes_max:
        raise NotEvents(f"{where} is {size} bytes; an event is at most {event_bytes_max}")
    return value


def _excerpt(text: str, length_max: int = 60) -> str:
    text = text.strip()
    return text if len(text) <= length_max else text[:length_max] + "…"


def event_line(text: str) -> str:
    """One line of events.jsonl told readably: time, detail-type, ids, amounts."""
    try:
        event = json.loads(text)
    except ValueError:
        event = None
    if not isinstance(event, dict):
        return f"? {_excerpt(text, 200)}"
    detail = event.get("detail")
    detail = detail if isinstance(detail, dict) else {}
    parts = [str(event.get("time", "?")), str(event.get("detail-type", "?"))]
    parts.extend(_ids(detail))
    amounts = _amounts(detail)
    if amounts:
        parts.append(amounts)
    return "  ".join(parts)


def short_id(identifier: str) -> str:
    """An id cut to its prefix and its end, when it is long: `acc…k2m3pq7x`."""
    if len(identifier) <= short_id_length_max:
        return identifier
    prefix = identifier.split("_", 1)[0]
    return f"{prefix}…{identifier[-short_id_tail_length:]}"


def _ids(detail: Mapping[str, Any]) -> list[str]:
    ids: list[str] = []
    for value in (detail.get(field) for field in id_fields):
        if isinstance(value, str) and value not in ids:
            ids.append(value)
    return ids


def _amounts(detail: Mapping[str, Any]) -> str:
    lines = detail.get("lines")
    if isinstance(lines, list):
        return ", ".join(_line(line) for line in lines if isinstance(line, dict))
    balance = detail.get("balance")
    if isinstance(balance, dict):
        return (
            f"posted {balance.get('posted')} available {balance.get('available')} "
            f"{balance.get('currency', '')}".rstrip()
        )
    if "amount" in detail:
        return f"{detail['amount']} {detail.get('currency', '')}".rstrip()
    return ""


def _line(line: Mapping[str, Any]) -> str:
    account = line.get("account_id")
    name = short_id(account) if isinstance(account, str) else "?"
    told = f"{line.get('side', '?')} {name} {line.get('amount', '?')} {line.get('currency', '')}"
    return told.rstrip()
