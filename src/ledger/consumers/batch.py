"""A stream batch through one consumer's handler, with partial batch failure reporting."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from ledger.consumers import observability
from ledger.consumers.stream import ChangeRecord, change_of
from ledger.domain import limits
from ledger.store.deadline import deadline_in
from ledger.store.dynamodb.history import read_entries
from ledger.store.dynamodb.retries import Budget

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from ledger.domain.model import Entry


class TableConsumer:
    """A stream consumer that writes to the ledger's table, with its logger and metrics."""

    def __init__(
        self,
        table: str,
        client: DynamoDBClient,
        *,
        metrics: Metrics = observability.metrics,
        logger: Logger = observability.logger,
    ) -> None:
        self.table = table
        self.client = client
        self.metrics = metrics
        self.logger = logger


def process_batch(
    event: Mapping[str, Any], context: Any, handle: Callable[[ChangeRecord], None]
) -> dict[str, Any]:
    """Each record through `handle`; a record that fails (its images do not decode, or its
    handler raises) is reported in `batchItemFailures` by its sequence number, and the rest of
    the batch goes on. Lambda then retries from the first failed record, so a handler must
    take a record it already handled as a no-op."""
    # A batch that failed whole is still an answer, not an exception: Lambda retries it
    # from its first record all the same.
    processor = BatchProcessor(
        event_type=EventType.DynamoDBStreams, raise_on_entire_batch_failure=False
    )

    def handle_record(record: DynamoDBRecord) -> None:
        handle(change_of(record.raw_event))

    response = process_partial_response(
        event=dict(event), record_handler=handle_record, processor=processor, context=context
    )
    return dict(response)


def read_budget() -> Budget:
    """The time a consumer's reads of one batch may take, retries included."""
    return Budget(deadline_in(limits.history_read_ms_max), time.sleep)


def entries_named(
    client: DynamoDBClient,
    table: str,
    event: Mapping[str, Any],
    ids_of: Callable[[ChangeRecord], Iterable[str]],
    budget: Budget,
) -> dict[str, Entry]:
    """The entries the batch's records name (`ids_of` each), read together: one BatchGetItem
    per 100. A record that does not decode is skipped here and fails on its own later."""
    entry_ids: set[str] = set()
    for raw in event.get("Records", []):
        try:
            change = change_of(raw)
        except (KeyError, TypeError, ValueError):
            continue
        entry_ids.update(ids_of(change))
    return read_entries(client, table, entry_ids, budget)
