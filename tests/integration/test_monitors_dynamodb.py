"""The monitors consumer on DynamoDB Local's real stream: an account driven across a
threshold and back several times has exactly one outbox event per crossing, however often
its stream is delivered."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from aws_lambda_powertools import Metrics
from test_history_consumer import stream_records, table_items

from ledger.consumers.monitors import MonitorsConsumer
from ledger.domain import events
from ledger.domain.monitors import MonitorState
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from ledger.local.dynamodb_local import DynamoDBLocal

crossings = 3
batch_size = 5


def test_each_crossing_of_a_real_stream_is_one_outbox_event(
    dynamodb_local: DynamoDBLocal, dynamodb_client: DynamoDBClient, local_table: str
) -> None:
    # GIVEN a wallet of 20.00 watched for available < 10.00 (ok)
    ledger = Ledger(DynamoDBStore(local_table, client=dynamodb_client, projections=()))
    book = ledger.create_ledger("Monitored", owner_id=f"owner-{secrets.token_hex(4)}").id
    wallet = ledger.create_account(book, "wallet", "liability", "USD").id
    ledger.deposit(wallet, "20.00")
    monitor = ledger.create_monitor(wallet, "available", "lt", "10.00")
    assert monitor.state is MonitorState.OK
    # WHEN it falls below and rises above the threshold three times, in two steps each way
    for _ in range(crossings):
        ledger.withdraw(wallet, "8.00")
        ledger.withdraw(wallet, "7.00")
        ledger.deposit(wallet, "1.00")
        ledger.deposit(wallet, "14.00")
    # AND its stream is delivered in batches, then all of it again
    records = stream_records(dynamodb_local, dynamodb_client, local_table)
    consumer = MonitorsConsumer(local_table, dynamodb_client, metrics=Metrics(namespace="Test"))
    for _ in range(2):
        for first in range(0, len(records), batch_size):
            batch = {"Records": records[first : first + batch_size]}
            assert consumer.handle(batch) == {"batchItemFailures": []}
    # THEN each crossing wrote one event, in turn, at the version that crossed
    outbox = table_items(dynamodb_client, local_table, f"OUTBOX#{book}")
    written = sorted(outbox, key=lambda item: item["sk"]["S"])
    types = [item["detail_type"]["S"] for item in written]
    assert types == [events.monitor_triggered, events.monitor_resolved] * crossings
    assert len({item["event_id"]["S"] for item in written}) == 2 * crossings
    # AND the monitor ends ok, evaluated at the account's last version
    [final] = ledger.list_monitors(wallet).items
    assert (final.state, final.evaluated_version) == (MonitorState.OK, 1 + 4 * crossings)
