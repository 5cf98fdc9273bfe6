"""The events consumer: every change API.md names, published to an EventBridge bus.

Entries and accounts publish from their own items' records (`ledger.planning.events`
decides which event, if any); derived events from their outbox items' creation. A batch
is published together, in PutEvents calls of 10 entries and 256 KB, and a record whose
events stay unpublished after the bounded retries fails in the batch response, so the
stream delivers it (and those after it) again: delivery is at least once, and
`detail.event_id` is the same on every delivery.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from ledger.consumers.batch import process_batch
from ledger.consumers.observability import logger, metrics
from ledger.consumers.publish import Bus, Publisher
from ledger.consumers.stream import ChangeRecord, change_of
from ledger.domain import events
from ledger.domain.model import Account, Entry
from ledger.domain.views import account_view, entry_view
from ledger.local.bus import FileBus, events_file_variable
from ledger.planning.events import Publication, account_publication, entry_publication

if TYPE_CHECKING:
    from mypy_boto3_events.type_defs import PutEventsRequestEntryTypeDef

    from ledger.domain.events import OutboxEvent

bus_name_variable = "LEDGER_EVENT_BUS_NAME"
default_bus_name = "default"
published_metric = "EventsPublished"
unpublished_metric = "EventsUnpublished"


@dataclass(frozen=True)
class _Outgoing:
    sequence_number: str
    entry: PutEventsRequestEntryTypeDef


def publication_of(change: ChangeRecord) -> Publication | None:
    """The event an entry's or an account's change publishes, if any."""
    if change.event_name == "REMOVE":
        return None
    old, new = change.old, change.new
    if isinstance(new, Entry) and (old is None or isinstance(old, Entry)):
        return entry_publication(old, new)
    if isinstance(new, Account) and (old is None or isinstance(old, Account)):
        return account_publication(old, new)
    return None


def detail_of(publication: Publication) -> dict[str, Any]:
    """The event's detail: the record's public object, its ids, and the event id."""
    record = publication.record
    if isinstance(record, Entry):
        return {**entry_view(record), "event_id": publication.event_id}
    view = account_view(record)
    if record.shards > 1:
        # One item's image holds part of the balance only; GET the account for the sum.
        view["balance"] = None
    return {
        **view,
        "account_id": record.id,
        "version": record.version,
        "event_id": publication.event_id,
    }


def outbox_detail(event: OutboxEvent) -> dict[str, Any]:
    """A derived event's detail, as its cause wrote it, with its ids."""
    return {**event.detail, "ledger_id": event.ledger_id, "event_id": event.event_id}


class EventsConsumer:
    """Publishes each batch's events to `bus_name` through `bus`."""

    def __init__(
        self,
        bus: Bus,
        bus_name: str,
        *,
        publisher: Publisher | None = None,
        metrics: Metrics = metrics,
        logger: Logger = logger,
    ) -> None:
        self.bus_name = bus_name
        self.publisher = publisher or Publisher(bus)
        self.metrics = metrics
        self.logger = logger

    def handle(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        """One Lambda batch: its events published; records left unpublished answered in
        `batchItemFailures`."""
        outgoing = self._outgoing(event)
        failures = self.publisher.publish([each.entry for each in outgoing])
        unpublished = {outgoing[failure.index].sequence_number for failure in failures}
        for failure in failures:
            self.logger.error(
                "an event was not published",
                extra={
                    "detail_type": outgoing[failure.index].entry["DetailType"],
                    "error_code": failure.code,
                    "error_message": failure.message,
                },
            )
        self._count(published_metric, len(outgoing) - len(failures))
        self._count(unpublished_metric, len(failures))

        def settle(change: ChangeRecord) -> None:
            if change.sequence_number in unpublished:
                raise RuntimeError(
                    f"the events of record {change.sequence_number} were not published"
                )

        return process_batch(event, context, settle)

    def _outgoing(self, event: Mapping[str, Any]) -> list[_Outgoing]:
        """The PutEvents entries of the batch, in record order. A record that does not
        decode is left for `process_batch` to fail on its own."""
        outgoing: list[_Outgoing] = []
        for raw in event.get("Records", []):
            try:
                change = change_of(raw)
            except (KeyError, TypeError, ValueError):
                continue
            entry = self.entry_of(change)
            if entry is not None:
                outgoing.append(_Outgoing(change.sequence_number, entry))
        return outgoing

    def entry_of(self, change: ChangeRecord) -> PutEventsRequestEntryTypeDef | None:
        """The PutEvents entry one change publishes, if any."""
        if change.outbox is not None:
            derived = change.outbox
            return self._entry(
                derived.detail_type, outbox_detail(derived), derived, derived.trace_header
            )
        publication = publication_of(change)
        if publication is None:
            return None
        record = publication.record
        trace = None
        if isinstance(record, Entry) and change.old is None and record.actor is not None:
            trace = record.actor.trace_header
        return self._entry(publication.detail_type, detail_of(publication), publication, trace)

    def _entry(
        self,
        detail_type: str,
        detail: dict[str, Any],
        timed: Publication | OutboxEvent,
        trace_header: str | None,
    ) -> PutEventsRequestEntryTypeDef:
        entry: PutEventsRequestEntryTypeDef = {
            "Source": events.source,
            "DetailType": detail_type,
            "Detail": json.dumps(detail, separators=(",", ":")),
            "EventBusName": self.bus_name,
            "Time": timed.time,
            "Resources": [],
        }
        if trace_header is not None:
            entry["TraceHeader"] = trace_header
        return entry

    def _count(self, name: str, value: int) -> None:
        if value:
            self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def default_bus() -> Bus:
    """The bus of this container: the file `LEDGER_EVENTS_FILE` names under `ledger dev`,
    EventBridge otherwise."""
    path = os.environ.get(events_file_variable, "").strip()
    if path:
        return FileBus(Path(path))
    import boto3  # noqa: PLC0415 - the AWS SDK only where EventBridge is the bus

    client: Bus = boto3.client("events")
    return client


@cache
def consumer() -> EventsConsumer:
    """The container's consumer, built on first use; the bus from `LEDGER_EVENT_BUS_NAME`."""
    bus_name = os.environ.get(bus_name_variable, "").strip() or default_bus_name
    return EventsConsumer(default_bus(), bus_name)


@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The events function's entry point: a DynamoDB Streams batch."""
    return consumer().handle(event, context)
