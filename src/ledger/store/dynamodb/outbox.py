"""Outbox items: derived events on the table, written in the transaction that causes them.

Key: `OUTBOX#<ledger id>` / `<time>#<event id>`. The item is put only if absent, so a
retried or redelivered cause writes its event once; the events consumer publishes it from
its INSERT record. The detail is kept as its JSON text, exactly as it will be published.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ledger.domain.events import OutboxEvent
from ledger.store.dynamodb import clauses
from ledger.store.dynamodb.codec import string
from ledger.store.dynamodb.schema import timestamp

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

Item = dict[str, "AttributeValueTypeDef"]
entity = "outbox"


def outbox_key(event: OutboxEvent) -> dict[str, str]:
    """The outbox item's key: its ledger's partition, sorted by time."""
    return {"pk": f"OUTBOX#{event.ledger_id}", "sk": f"{timestamp(event.time)}#{event.event_id}"}


def outbox_item(event: OutboxEvent) -> Item:
    """The whole outbox item of an event."""
    item: Item = {name: string(value) for name, value in outbox_key(event).items()}
    item.update(
        {
            "entity": string(entity),
            "event_id": string(event.event_id),
            "detail_type": string(event.detail_type),
            "ledger_id": string(event.ledger_id),
            "time": string(timestamp(event.time)),
            "detail": string(json.dumps(event.detail, sort_keys=True, separators=(",", ":"))),
        }
    )
    if event.trace_header is not None:
        item["trace_header"] = string(event.trace_header)
    return item


def outbox_put(event: OutboxEvent, table_name: str) -> TransactWriteItemTypeDef:
    """The TransactWriteItems action that writes the event, once: a second put of the
    same event fails its condition (a caller retrying a cause takes that as done)."""
    return {
        "Put": {
            "TableName": table_name,
            "Item": outbox_item(event),
            "ConditionExpression": clauses.item_is_new,
        }
    }


def is_outbox_item(item: Mapping[str, Any]) -> bool:
    """Whether a stream image (DynamoDB JSON) is an outbox item."""
    return bool(item.get("entity", {}).get("S") == entity)


def outbox_event(item: Mapping[str, Any]) -> OutboxEvent:
    """The event an outbox item (DynamoDB JSON, as a stream image carries it) holds."""
    trace = item.get("trace_header")
    return OutboxEvent(
        event_id=item["event_id"]["S"],
        detail_type=item["detail_type"]["S"],
        ledger_id=item["ledger_id"]["S"],
        time=datetime.strptime(item["time"]["S"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC),
        detail=json.loads(item["detail"]["S"]),
        trace_header=None if trace is None else trace["S"],
    )


def put_outbox(client: DynamoDBClient, table_name: str, events: Sequence[OutboxEvent]) -> None:
    """Write the events in one transaction; those written already are dropped and the
    rest written again, so a retried cause writes each event once."""
    left = list(events)
    # Each round writes them all, or drops at least one that is there already.
    while left:
        try:
            client.transact_write_items(
                TransactItems=[outbox_put(event, table_name) for event in left]
            )
        except ClientError as error:
            reasons = error.response.get("CancellationReasons", [])
            written = [reason.get("Code") == "ConditionalCheckFailed" for reason in reasons]
            if len(written) != len(left) or not any(written):
                raise
            left = [event for event, there in zip(left, written, strict=True) if not there]
        else:
            return
