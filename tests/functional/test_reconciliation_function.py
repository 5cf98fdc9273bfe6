"""The reconciliation function on moto, through its Lambda handler: one run per scheduled
event within the context's remaining time, its checkpoint an item of the table."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.exceptions import ClientError
from functions.reconciliation.handler import lambda_handler
from moto import mock_aws

from ledger.domain import limits
from ledger.jobs import reconciliation_function
from ledger.service import Ledger
from ledger.store.checkpoints import Checkpoint
from ledger.store.dynamodb import DynamoDBStore, ensure_table
from ledger.store.dynamodb.checkpoints import DynamoDBCheckpoints, checkpoint_key

from .conftest import dummy_environment, moto_region

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

scheduled_event = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-01-01T00:00:00Z",
    "region": moto_region,
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/ledger-reconciliation"],
    "detail": {},
}


class Context:
    """A Lambda context whose remaining time lasts for `ledgers` ledgers, then is down to
    the job's margin."""

    function_name = "ledger-reconciliation"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ledger-reconciliation"
    memory_limit_in_mb = 512
    log_group_name = "/aws/lambda/ledger-reconciliation"
    log_stream_name = "test"

    def __init__(self, ledgers: int) -> None:
        self.aws_request_id = secrets.token_hex(8)
        self.left = ledgers

    def get_remaining_time_in_millis(self) -> int:
        self.left -= 1
        return limits.reconciliation_run_margin_ms + (1 if self.left >= 0 else 0)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[DynamoDBClient, str]]:
    """A fresh moto table the function is configured for, without consumers."""
    for name, value in dummy_environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    table_name = f"ledger-reconciliation-{secrets.token_hex(4)}"
    monkeypatch.setenv("LEDGER_TABLE_NAME", table_name)
    monkeypatch.setenv("LEDGER_PROJECTIONS", "")
    with mock_aws():
        client = boto3.client("dynamodb", region_name=moto_region)
        ensure_table(client, table_name)
        reconciliation_function.job.cache_clear()
        # Powertools' metrics sets are shared by every Metrics instance of the process: drop
        # what earlier tests added and never flushed.
        reconciliation_function.metrics.clear_metrics()
        yield client, table_name
        reconciliation_function.job.cache_clear()


def items_of(client: DynamoDBClient, table_name: str) -> dict[tuple[str, str], Any]:
    items = client.scan(TableName=table_name, ConsistentRead=True)["Items"]
    return {(item["pk"]["S"], item["sk"]["S"]): item for item in items}


def test_the_handler_reconciles_within_the_context_and_resumes_at_its_checkpoint(
    table: tuple[DynamoDBClient, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN two ledgers on the table, the second with its wallet's headroom forged
    client, table_name = table
    ledger = Ledger(DynamoDBStore(table_name, client=client, projections=()))
    books = [ledger.create_ledger(f"book {index}").id for index in range(2)]
    wallets = [ledger.create_account(book, "wallet", "liability", "USD").id for book in books]
    for wallet in wallets:
        ledger.deposit(wallet, "5.00")
    ids = [record.id for record in ledger.list_ledgers().items]
    forged = wallets[books.index(ids[1])]
    client.update_item(
        TableName=table_name,
        Key={"pk": {"S": f"ACCOUNT#{forged}"}, "sk": {"S": "ACCOUNT"}},
        UpdateExpression="SET headroom = :forged",
        ExpressionAttributeValues={":forged": {"N": "900"}},
    )
    before = items_of(client, table_name)
    capsys.readouterr()
    # WHEN the schedule invokes the function with time for one ledger, then with plenty
    first = lambda_handler(scheduled_event, Context(1))
    second = lambda_handler(scheduled_event, Context(10))
    # THEN the first checked the first ledger and saved its place as an item of the table
    assert (first["ledgers_checked"], first["mismatches"], first["checkpoint"]) == (1, 0, "saved")
    assert (first["budget_spent"], first["next_after"]) == (True, ids[0])
    after = items_of(client, table_name)
    checkpoint = after.pop(("JOB#reconciliation", "CHECKPOINT"))
    assert (checkpoint["after"]["S"], checkpoint["revision"]["N"]) == (ids[0], "1")
    # AND the second went on after it, found the forged headroom and wrapped round
    assert (second["resumed_after"], second["ledgers_checked"], second["mismatches"]) == (
        ids[0],
        2,
        1,
    )
    assert (second["round_complete"], second["checkpoint"]) == (True, "unchanged")
    # AND nothing but the checkpoint and the results' events was written: the forged item
    # is as it was; each ledger's round published `completed`, the forged one `mismatch`
    outbox = sorted(key for key in after if key[0].startswith("OUTBOX#"))
    published = [after.pop(key)["detail_type"]["S"] for key in outbox]
    assert sorted(published) == sorted(
        ["ledger.reconciliation.completed"] * 3 + ["ledger.reconciliation.mismatch"]
    )
    assert after == before
    # AND each invocation emitted its mismatch count as EMF, and each ledger's balances
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    counts = [
        line["ReconciliationMismatches"] for line in lines if "ReconciliationMismatches" in line
    ]
    assert counts == [[0.0], [1.0]]
    available = [(line["ledger_id"], line["Available"]) for line in lines if "Available" in line]
    assert available == [(ids[0], [500.0]), (ids[1], [500.0]), (ids[0], [500.0])]


def test_table_checkpoints_save_only_over_the_revision_read(
    table: tuple[DynamoDBClient, str],
) -> None:
    # GIVEN a table without a checkpoint
    client, table_name = table
    checkpoints = DynamoDBCheckpoints(table_name, client)
    start = checkpoints.load("test")
    # WHEN two runs that read the start both save, and a third saves over the first
    first = checkpoints.save("test", start, "cursor-1", "led-1")
    second = checkpoints.save("test", start, None, "led-2")
    third = checkpoints.save("test", checkpoints.load("test"), None, None)
    # THEN only the first and the third were saved, the third back at the start
    assert (first, second, third) == (True, False, True)
    assert checkpoints.load("test") == Checkpoint(None, None, 2)
    item = client.get_item(TableName=table_name, Key=checkpoint_key("test"))["Item"]
    assert "saved_at" in item


def test_a_table_checkpoint_that_cannot_be_written_raises(
    table: tuple[DynamoDBClient, str],
) -> None:
    # GIVEN checkpoints on a table that does not exist
    client, _ = table
    checkpoints = DynamoDBCheckpoints("no-such-table", client)
    # WHEN one is saved / THEN DynamoDB's refusal is raised, not taken for a lost race
    with pytest.raises(ClientError, match="ResourceNotFound"):
        checkpoints.save("test", Checkpoint(), None, "led-1")
