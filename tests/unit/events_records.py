"""Stream records of a ledger's changes, made from the records a memory store keeps."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ledger.domain.events import OutboxEvent
from ledger.domain.model import Account
from ledger.store.dynamodb.codec import Record, encode
from ledger.store.dynamodb.outbox import outbox_item

if TYPE_CHECKING:
    from ledger.service import Ledger

_sequence = itertools.count(1)
_names = itertools.count(1)
recorded_at = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _record(name: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    image = new or old
    assert image is not None
    change: dict[str, Any] = {
        "Keys": {"pk": image["pk"], "sk": image["sk"]},
        "SequenceNumber": f"{next(_sequence):021d}",
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
        "ApproximateCreationDateTime": recorded_at.timestamp(),
    }
    if old is not None:
        change["OldImage"] = old
    if new is not None:
        change["NewImage"] = new
    return {
        "eventID": f"evt-{change['SequenceNumber']}",
        "eventName": name,
        "eventSource": "aws:dynamodb",
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:000000000000:table/ledger/stream/x",
        "dynamodb": change,
    }


def change_record(old: Record | None, new: Record | None) -> dict[str, Any]:
    """The stream record of one item's change: INSERT, MODIFY or REMOVE by its images."""
    name = "INSERT" if old is None else "REMOVE" if new is None else "MODIFY"
    return _record(name, None if old is None else encode(old), None if new is None else encode(new))


def outbox_record(event: OutboxEvent) -> dict[str, Any]:
    """The stream record of an outbox item's creation."""
    return _record("INSERT", None, outbox_item(event))


def new_book(ledger: Ledger) -> str:
    """A new ledger's id."""
    return ledger.create_ledger(f"Books {next(_names)}").id


def open_account(
    ledger: Ledger, ledger_id: str, type: str = "liability", **options: Any
) -> Account:
    """A new USD account of `ledger_id`."""
    return ledger.create_account(ledger_id, f"{type} {next(_names)}", type, "USD", **options)
