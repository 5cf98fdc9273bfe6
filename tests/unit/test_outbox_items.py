"""Outbox items: a derived event survives the table as it was written, once."""

from __future__ import annotations

from datetime import UTC, datetime

from ledger.domain.events import OutboxEvent, event_id, monitor_triggered
from ledger.store.dynamodb.outbox import (
    is_outbox_item,
    outbox_event,
    outbox_item,
    outbox_key,
    outbox_put,
)


def _event(trace_header: str | None) -> OutboxEvent:
    return OutboxEvent(
        event_id=event_id("mon_1", "7", "triggered"),
        detail_type=monitor_triggered,
        ledger_id="ldg_abc",
        time=datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=UTC),
        detail={"monitor": {"id": "mon_1", "value": "10.00"}, "version": 7},
        trace_header=trace_header,
    )


def test_an_outbox_item_reads_back_as_the_event_it_holds() -> None:
    for trace in (None, "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"):
        # GIVEN a derived event, with and without a trace
        event = _event(trace)
        # WHEN it is written as an item and read from a stream image
        item = outbox_item(event)
        # THEN the image is an outbox item and holds the same event
        assert is_outbox_item(item)
        assert outbox_event(item) == event


def test_an_outbox_item_is_keyed_by_ledger_and_time_and_put_only_once() -> None:
    # GIVEN a derived event
    event = _event(None)
    # WHEN its put is planned
    put = outbox_put(event, "ledger")["Put"]
    # THEN it lands in its ledger's partition, sorted by time, and only if absent
    assert outbox_key(event) == {
        "pk": "OUTBOX#ldg_abc",
        "sk": f"2026-03-04T05:06:07.000890Z#{event.event_id}",
    }
    assert put["ConditionExpression"] == "attribute_not_exists(pk)"
    assert put["Item"]["pk"] == {"S": "OUTBOX#ldg_abc"}


def test_event_ids_are_stable_and_tell_facts_apart() -> None:
    # GIVEN the facts of two events, one of them twice
    first, again = event_id("a", "bc"), event_id("a", "bc")
    # THEN the same facts give the same id and a different split gives another
    assert first == again
    assert first != event_id("ab", "c")
    assert first.startswith("evt_")
    # AND no account-image item is taken for an outbox item
    assert not is_outbox_item({"entity": {"S": "account"}})
