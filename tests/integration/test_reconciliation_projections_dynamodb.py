"""Reconciliation against the projections on DynamoDB Local: the history and audit
consumers driven over the table's real stream, then each balance item checked against its
latest history record, its history versions and its audit chain head."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aws_lambda_powertools import Metrics
from test_audit_consumer import audited_book
from test_history_consumer import stream_records

from ledger.consumers.audit import AuditConsumer
from ledger.consumers.history import HistoryConsumer
from ledger.domain.results import Mismatch
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore
from ledger.store.dynamodb.history import history_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from ledger.local.dynamodb_local import DynamoDBLocal


def _metrics() -> Metrics:
    metrics = Metrics(namespace="Test")
    metrics.clear_metrics()
    return metrics


def test_reconciliation_finds_a_history_gap_and_an_altered_balance(
    dynamodb_local: DynamoDBLocal, dynamodb_client: DynamoDBClient, local_table: str
) -> None:
    # GIVEN a busy ledger (sharded accounts included) whose stream both consumers took
    ledger = Ledger(DynamoDBStore(local_table, client=dynamodb_client))
    ids = audited_book(ledger)
    book = ledger.get_account(ids["alice"]).ledger_id
    records = stream_records(dynamodb_local, dynamodb_client, local_table)
    history = HistoryConsumer(local_table, dynamodb_client, metrics=_metrics())
    audit = AuditConsumer(local_table, dynamodb_client, metrics=_metrics())
    assert history.handle({"Records": records}) == {"batchItemFailures": []}
    assert audit.handle({"Records": records}) == {"batchItemFailures": []}
    # WHEN it is reconciled THEN it is clean, against the journal, history and audit
    clean = ledger.reconcile(book)
    assert (clean.ok, clean.mismatches) == (True, ())
    assert clean.checks == ("journal", "history", "audit")

    # WHEN alice's history record of version 3 (of 7) is deleted
    key = history_key(ids["alice"], 0, 3)
    dynamodb_client.delete_item(
        TableName=local_table, Key={name: {"S": value} for name, value in key.items()}
    )
    # THEN the gap is listed, and only it
    gap = ledger.reconcile(book)
    assert not gap.ok
    assert gap.mismatches == (Mismatch(ids["alice"], "versions", 7, 6, "history", 0, (3,)),)

    # WHEN bob's balance is altered on his account item behind the ledger's back
    dynamodb_client.update_item(
        TableName=local_table,
        Key={"pk": {"S": f"ACCOUNT#{ids['bob']}"}, "sk": {"S": "ACCOUNT"}},
        UpdateExpression="SET posted_credits = :forged",
        ExpressionAttributeValues={":forged": {"N": "3100"}},
    )
    altered = ledger.reconcile(book)
    # THEN the journal, his history and his audit chain head each disagree with the item
    found = {
        (mismatch.kind, mismatch.field, mismatch.expected, mismatch.actual)
        for mismatch in altered.mismatches
        if mismatch.account_id == ids["bob"]
    }
    assert ("journal", "posted_credits", 3000, 3100) in found
    assert ("history", "posted_credits", 3100, 3000) in found
    assert ("audit", "posted", 3100, 3000) in found
    assert not altered.ok
