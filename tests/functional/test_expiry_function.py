"""The expiry function on moto, through its Lambda handler: each scheduled run voids the
pending entries past their expiry, then notices those within LEDGER_EXPIRING_NOTICE_S."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import TYPE_CHECKING

import boto3
import pytest
from functions.expiry.handler import lambda_handler
from moto import mock_aws

from ledger.domain import events
from ledger.domain.model import EntryStatus
from ledger.environment import InvalidSetting, expiring_notice_variable
from ledger.jobs import expiry_function
from ledger.service import Ledger, utc_now
from ledger.store.dynamodb import DynamoDBStore, ensure_table

from .conftest import dummy_environment, moto_region
from .helpers import new_book, open_account

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

scheduled_event = {
    "version": "0",
    "id": "7d1f0a52-2c55-4f0e-9d1e-0b7a3c6f9e21",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-01-01T00:00:00Z",
    "region": moto_region,
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/ledger-expiry"],
    "detail": {},
}


class Context:
    """A Lambda context: the function reads nothing of it but what powertools logs."""

    function_name = "ledger-expiry"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ledger-expiry"
    memory_limit_in_mb = 256
    log_group_name = "/aws/lambda/ledger-expiry"
    log_stream_name = "test"

    def __init__(self) -> None:
        self.aws_request_id = secrets.token_hex(8)


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[DynamoDBClient, str]]:
    """A fresh moto table the function is configured for."""
    for name, value in dummy_environment.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    monkeypatch.delenv(expiring_notice_variable, raising=False)
    table_name = f"ledger-expiry-{secrets.token_hex(4)}"
    monkeypatch.setenv("LEDGER_TABLE_NAME", table_name)
    with mock_aws():
        client = boto3.client("dynamodb", region_name=moto_region)
        ensure_table(client, table_name)
        expiry_function.sweep.cache_clear()
        # Powertools' metrics sets are shared by every Metrics instance of the process: drop
        # what earlier tests added and never flushed.
        expiry_function.metrics.clear_metrics()
        yield client, table_name
        expiry_function.sweep.cache_clear()


def ledger_on(client: DynamoDBClient, table_name: str, *, ago_s: int = 0) -> Ledger:
    """A ledger on the table whose clock runs `ago_s` seconds behind the function's."""
    store = DynamoDBStore(table_name, client=client, projections=())
    return Ledger(store, clock=lambda: utc_now() - timedelta(seconds=ago_s))


def outbox_types(client: DynamoDBClient, table_name: str) -> list[tuple[str, str]]:
    items = client.scan(TableName=table_name, ConsistentRead=True)["Items"]
    return sorted(
        (item["detail_type"]["S"], json.loads(item["detail"]["S"])["id"])
        for item in items
        if item["pk"]["S"].startswith("OUTBOX#")
    )


def test_the_handler_expires_the_lapsed_and_notices_the_expiring_once(
    table: tuple[DynamoDBClient, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN a 15-minute notice and a wallet with four holds: one that lapsed an hour ago,
    # one expiring in 10 minutes, one in 30 minutes, one without expiry
    client, table_name = table
    monkeypatch.setenv(expiring_notice_variable, "900")
    past = ledger_on(client, table_name, ago_s=3660)
    ledger = ledger_on(client, table_name)
    book = new_book(ledger)
    wallet = open_account(ledger, book).id
    ledger.deposit(wallet, "100.00")
    lapsed = past.hold(wallet, "1.00", expires_in=60)
    soon = ledger.hold(wallet, "2.00", expires_in=600)
    later = ledger.hold(wallet, "4.00", expires_in=1800)
    open_ended = ledger.hold(wallet, "8.00")
    capsys.readouterr()
    # WHEN the schedule invokes the function twice
    first = lambda_handler(scheduled_event, Context())
    second = lambda_handler(scheduled_event, Context())
    # THEN the first expired the lapsed hold and noticed the one within the notice
    assert first == {"expired": 1, "noticed": 1}
    assert ledger.get_entry(lapsed.id).status is EntryStatus.EXPIRED
    assert ledger.get_entry(soon.id).expiring_noticed_at is not None
    for untouched in (later, open_ended):
        entry = ledger.get_entry(untouched.id)
        assert (entry.status, entry.expiring_noticed_at) == (EntryStatus.PENDING, None)
    assert ledger.get_balance(wallet).held == 1400
    assert (events.entry_expiring, soon.id) in outbox_types(client, table_name)
    # AND the second found nothing more to do and wrote no second notice
    assert second == {"expired": 0, "noticed": 0}
    assert [kind for kind, _ in outbox_types(client, table_name)].count(events.entry_expiring) == 1
    # AND each invocation emitted its counts as EMF
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    emitted = [
        (line["PendingExpired"], line["ExpiringNoticed"])
        for line in lines
        if "PendingExpired" in line
    ]
    assert emitted == [([1.0], [1.0]), ([0.0], [0.0])]
    assert all(line["service"] == "ledger-jobs" for line in lines if "PendingExpired" in line)


# The refused invocation has no counts: powertools warns that it flushed no metrics.
@pytest.mark.filterwarnings("ignore:No application metrics to publish")
def test_the_handler_refuses_an_unusable_notice_before_sweeping(
    table: tuple[DynamoDBClient, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a hold that lapsed, and a notice that is no whole number of seconds
    client, table_name = table
    monkeypatch.setenv(expiring_notice_variable, "15m")
    past = ledger_on(client, table_name, ago_s=3660)
    wallet = open_account(past, new_book(past)).id
    past.deposit(wallet, "10.00")
    lapsed = past.hold(wallet, "1.00", expires_in=60)
    # WHEN the schedule invokes the function / THEN it refuses, naming the setting and value
    with pytest.raises(InvalidSetting, match=f"{expiring_notice_variable} is '15m'"):
        lambda_handler(scheduled_event, Context())
    # AND it swept nothing on the way
    assert past.get_entry(lapsed.id).status is EntryStatus.PENDING
