"""A stream batch through one consumer's handler, with partial batch failure reporting."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from ledger.consumers.stream import ChangeRecord, change_of


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
