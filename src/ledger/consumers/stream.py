"""One DynamoDB Streams record of a Lambda event, with its images decoded into records."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, cast

from ledger.domain.events import OutboxEvent
from ledger.store.dynamodb.codec import Record, decode
from ledger.store.dynamodb.outbox import is_outbox_item, outbox_event

EventName = Literal["INSERT", "MODIFY", "REMOVE"]
event_names: frozenset[str] = frozenset({"INSERT", "MODIFY", "REMOVE"})
# Entities the codec decodes; any other item (API keys, projections) is none of a
# consumer's business and decodes to None.
known_entities = frozenset({"claim", "ledger", "account", "shard", "entry"})


@dataclass(frozen=True)
class ChangeRecord:
    """A change of one item: its keys, its images before and after, and when it happened."""

    event_id: str
    event_name: EventName
    sequence_number: str
    keys: tuple[str, str]
    old: Record | None
    new: Record | None
    approximate_created_at: datetime
    # The derived event an outbox item's creation holds (its images decode to None).
    outbox: OutboxEvent | None = None


def change_of(record: Mapping[str, Any]) -> ChangeRecord:
    """The change one Lambda DynamoDB Streams record describes; a broken image raises."""
    name = record["eventName"]
    if name not in event_names:
        raise ValueError(f"stream record of unknown event {name!r}")
    change = record["dynamodb"]
    keys = change["Keys"]
    new_image = change.get("NewImage")
    created = name == "INSERT" and new_image is not None and is_outbox_item(new_image)
    return ChangeRecord(
        event_id=record["eventID"],
        event_name=cast("EventName", name),
        sequence_number=change["SequenceNumber"],
        keys=(keys["pk"]["S"], keys["sk"]["S"]),
        old=_image(change.get("OldImage")),
        new=_image(change.get("NewImage")),
        approximate_created_at=_moment(change["ApproximateCreationDateTime"]),
        outbox=outbox_event(new_image) if created else None,
    )


def _image(item: Mapping[str, Any] | None) -> Record | None:
    if item is None:
        return None
    entity = item.get("entity", {}).get("S")
    if entity not in known_entities:
        return None
    return decode(dict(item))


def _moment(value: float | int | datetime) -> datetime:
    """Lambda gives epoch seconds; the Streams API (through boto3) gives a datetime."""
    if isinstance(value, datetime):
        return value.astimezone(UTC)
    return datetime.fromtimestamp(value, UTC)
