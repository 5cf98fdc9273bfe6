"""The inbound events consumer: SQS messages -> entries through the ledger's posting rules.

Each message holds one event `{id, type, ledger_id, occurred_at, data}`; the ledger posts
the entry its rule for `type` makes, idempotent by `id`. An event the ledger refuses
(malformed, no rule, an unknown account, insufficient funds: any 4xx) can never post, so
it goes to the dead-letter queue with the reason and counts as handled. Anything else
(contention, throttling, an outage) fails the message alone, and SQS delivers it again.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)

from ledger.consumers.dead_letters import DeadLetters, dead_letter, dead_letters
from ledger.consumers.observability import logger, metrics, namespace, service
from ledger.domain.errors import LedgerError, RateLimited, ValidationError
from ledger.domain.model import Actor
from ledger.domain.posting_rules import parse_inbound_event
from ledger.environment import projections, table_name
from ledger.service import Ledger
from ledger.store.dynamodb.client import default_client
from ledger.store.dynamodb.store import DynamoDBStore

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

    from ledger.domain.model import Entry
    from ledger.domain.posting_rules import InboundEvent

posted_metric = "InboundPosted"
replayed_metric = "InboundReplayed"
refused_metric = "InboundRefused"


class PostsEvents(Protocol):
    """What the consumer needs of the ledger: `Ledger.post_event`."""

    def post_event(self, event: InboundEvent, actor: Actor | None = None) -> Entry:
        """Post the entry the event's rule makes, once per event id."""
        ...


class Refused(Exception):
    """An inbound event the ledger will never post: it goes to the dead-letter queue."""

    def __init__(self, event: object, error: LedgerError) -> None:
        super().__init__(error.message)
        self.event = event
        self.error = error


def is_refusal(error: LedgerError) -> bool:
    """Whether the ledger refused for good (a 4xx), rather than for now (throttled, 5xx)."""
    return 400 <= error.status < 500 and not isinstance(error, RateLimited)


def received_event(body: str) -> Any:
    """The JSON value of a message body; Refused, carrying the body itself, if it is none."""
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise Refused(body, ValidationError("body", "the message body is not JSON")) from None


class InboundConsumer:
    """Posts each message's event; dead-letters refusals; fails the rest for SQS to retry."""

    def __init__(
        self,
        ledger: PostsEvents,
        letters: DeadLetters,
        *,
        metrics: Metrics | EphemeralMetrics = metrics,
        logger: Logger = logger,
        refusal_metrics: Callable[[], EphemeralMetrics] | None = None,
    ) -> None:
        self.ledger = ledger
        self.letters = letters
        self.metrics = metrics
        self.logger = logger
        self.refusal_metrics = refusal_metrics or _refusal_metrics

    def handle(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        """One SQS batch; the messages that failed are answered in `batchItemFailures`."""
        refusals: Counter[str] = Counter()

        def handle_record(record: SQSRecord) -> None:
            try:
                code = self.message(record.message_id, record.body)
            except Exception:
                self.logger.exception(
                    "inbound event not posted for now; SQS delivers it again",
                    extra={"message_id": record.message_id},
                )
                raise
            if code is not None:
                refusals[code] += 1

        # A batch whose every message failed is still an answer: SQS retries those alone.
        processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
        try:
            response = process_partial_response(
                event=dict(event),
                record_handler=handle_record,
                processor=processor,
                context=context,
            )
        finally:
            self._count_refusals(refusals)
        return dict(response)

    def message(self, message_id: str, body: str) -> str | None:
        """Post one message's event: None once posted (or replayed), the refusal's code once
        dead-lettered; any other failure raises, and the message is retried."""
        try:
            entry = self._post(message_id, body)
        except Refused as refusal:
            error = refusal.error
            self.letters.send(dead_letter(refusal.event, error.code, error.message))
            self.logger.warning(
                "inbound event refused",
                extra={"message_id": message_id, "code": error.code, "reason": error.message},
            )
            return error.code
        name = replayed_metric if entry.replayed else posted_metric
        self.metrics.add_metric(name=name, unit=MetricUnit.Count, value=1)
        self.logger.info(
            "inbound event posted",
            extra={"message_id": message_id, "entry_id": entry.id, "replayed": entry.replayed},
        )
        return None

    def _post(self, message_id: str, body: str) -> Entry:
        received = received_event(body)
        try:
            event = parse_inbound_event(received)
            # The request is the message, so a retry of one delivery names the same one.
            return self.ledger.post_event(event, Actor(request_id=message_id))
        except LedgerError as error:
            if is_refusal(error):
                raise Refused(received, error) from error
            raise

    def _count_refusals(self, refusals: Counter[str]) -> None:
        """One metric per refusal code, each with the code as its dimension."""
        for code, count in sorted(refusals.items()):
            counted = self.refusal_metrics()
            counted.add_dimension(name="code", value=code)
            counted.add_metric(name=refused_metric, unit=MetricUnit.Count, value=count)
            counted.flush_metrics()


def _refusal_metrics() -> EphemeralMetrics:
    return EphemeralMetrics(namespace=namespace, service=service)


@cache
def consumer() -> InboundConsumer:
    """The container's consumer, built on first use from `LEDGER_TABLE_NAME` (required) and
    the dead-letter settings."""
    store = DynamoDBStore(table_name(), default_client(), projections=projections())
    return InboundConsumer(Ledger(store), dead_letters())


@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The inbound function's entry point: an SQS batch of inbound events."""
    return consumer().handle(event, context)
