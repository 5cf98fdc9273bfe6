"""The events' JSON Schemas hold for the events the consumer really publishes, and refuse
what breaks them."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import jsonschema
import pytest
from aws_lambda_powertools import Metrics
from events_records import change_record, new_book, open_account, outbox_record

from event_schemas import schema_types, schemas_dir, validate_event
from ledger.consumers.events import EventsConsumer
from ledger.domain import events
from ledger.local.bus import FileBus
from ledger.service import Ledger
from ledger.store.memory import MemoryStore

if TYPE_CHECKING:
    from pathlib import Path


def published_run(path: Path) -> list[dict[str, Any]]:
    """The events a mixed run publishes through the file bus of `ledger dev`."""
    store = MemoryStore()
    ledger = Ledger(store)
    book = new_book(ledger)
    opened = open_account(ledger, book)
    other = open_account(ledger, book)
    deposit = ledger.deposit(opened.id, "10.00")
    funded = ledger.get_account(opened.id)
    transfer = ledger.transfer(opened.id, other.id, "1.00")
    hold = ledger.hold(opened.id, "2.00", expires_in=600)
    ledger.notice_expiring(3600)
    voided = ledger.release_hold(hold.id)
    confirmed_hold = ledger.hold(opened.id, "1.00")
    posting = ledger.confirm_hold(confirmed_hold.id)
    reversal = ledger.reverse_entry(transfer.id)
    ledger.reconcile(book)
    records = [
        change_record(None, opened),
        change_record(None, deposit),
        change_record(opened, funded),
        change_record(None, transfer),
        change_record(None, hold),
        change_record(hold, voided),
        change_record(
            hold,
            ledger.get_entry(hold.id).__class__(
                **{**voided.__dict__, "status": voided.status.EXPIRED}
            ),
        ),
        change_record(None, posting),
        change_record(None, reversal),
        *(outbox_record(event) for event in store.outbox),
    ]
    metrics = Metrics(namespace="Test")
    metrics.clear_metrics()
    EventsConsumer(FileBus(path), "default", metrics=metrics).handle({"Records": records})
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_published_event_fits_its_schema(tmp_path: Path) -> None:
    # GIVEN the events of a run with every kind of entry, an account, a notice, a reconciliation
    published = published_run(tmp_path / "events.jsonl")
    # THEN each fits the schema of its type, and the run covers every entry and account type
    for event in published:
        validate_event(event)
    seen = {event["detail-type"] for event in published}
    assert seen >= {
        events.entry_posted,
        events.entry_pending,
        events.entry_voided,
        events.entry_expired,
        events.entry_reversed,
        events.entry_expiring,
        events.account_created,
        events.account_updated,
        events.reconciliation_completed,
    }


def test_every_event_type_has_a_schema() -> None:
    assert schema_types() == sorted(events.detail_types)


def test_a_schema_refuses_an_event_that_breaks_it(tmp_path: Path) -> None:
    # GIVEN a published entry event with a float amount, and one of the wrong source
    (event, *_) = [
        each
        for each in published_run(tmp_path / "events.jsonl")
        if each["detail-type"] == events.entry_posted
    ]
    floated = json.loads(json.dumps(event))
    floated["detail"]["lines"][0]["amount"] = 10.0
    foreign = {**event, "source": "elsewhere"}
    undated = {**event, "time": datetime(2026, 1, 1, tzinfo=UTC).isoformat() + "garbage"}
    # THEN the schema refuses each
    for broken in (floated, foreign, undated):
        with pytest.raises(jsonschema.ValidationError):
            validate_event(broken)


def test_every_event_type_has_an_example_that_fits_its_schema() -> None:
    # GIVEN the examples docs/events.md links, one per type
    examples = sorted((schemas_dir / "examples").glob("*.json"))
    # THEN there is one for each type, of that type, and each fits its schema
    assert [path.stem for path in examples] == sorted(events.detail_types)
    for path in examples:
        example = json.loads(path.read_text())
        assert example["detail-type"] == path.stem
        validate_event(example)


def test_a_published_external_check_mismatch_fits_the_mismatch_schema(tmp_path: Path) -> None:
    # GIVEN an external balance check outside its tolerance, published through the file bus
    store = MemoryStore()
    ledger = Ledger(store)
    book = new_book(ledger)
    opened = open_account(ledger, book)
    ledger.deposit(opened.id, "10.00")
    ledger.check_external_balance(book, "bank", "USD", "-2.00", account_ids=[opened.id])
    ledger.check_external_balance(book, "chain", "USD", "1.00", account_type="liability")
    metrics = Metrics(namespace="Test")
    metrics.clear_metrics()
    path = tmp_path / "events.jsonl"
    records = [outbox_record(event) for event in store.outbox]
    EventsConsumer(FileBus(path), "default", metrics=metrics).handle({"Records": records})
    published = [json.loads(line) for line in path.read_text().splitlines()]
    # THEN each is a mismatch that fits its schema, by ids or by type
    assert [event["detail-type"] for event in published] == [events.reconciliation_mismatch] * 2
    for event in published:
        validate_event(event)
    assert [event["detail"]["account_type"] for event in published] == [None, "liability"]
    # AND a detail that mixes in a reconciliation's field fits neither kind
    mixed = json.loads(json.dumps(published[0]))
    mixed["detail"]["ok"] = False
    with pytest.raises(jsonschema.ValidationError):
        validate_event(mixed)
