"""The external balances job against a real HTTP server on 127.0.0.1: each configured
source fetched and its check recorded by the scheduler; a failing source is counted and
the others still run; the function's settings and metrics."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import boto3
import pytest
from aws_lambda_powertools import Logger, Metrics
from balance_server import BalanceServer, Reply, balance_server
from moto import mock_aws

from ledger.domain import events
from ledger.environment import InvalidSetting
from ledger.jobs import external_balances_function
from ledger.jobs.external_balances_function import (
    ExternalBalanceJob,
    configured_checks,
    publish,
)
from ledger.jobs.external_source_config import checks_from_config
from ledger.service import Ledger
from ledger.store.dynamodb import ensure_table
from ledger.store.memory import MemoryStore

region = "us-east-1"


@pytest.fixture
def server() -> Iterator[BalanceServer]:
    with balance_server() as running:
        yield running


def json_reply(document: object) -> Reply:
    return Reply(json.dumps(document).encode())


def book_with_wallet(ledger: Ledger, amount: str) -> tuple[str, str]:
    ledger_id = ledger.create_ledger("Books").id
    wallet = ledger.create_account(ledger_id, "wallet", "liability", "USD").id
    ledger.deposit(wallet, amount)
    return ledger_id, wallet


def entry(url: str, ledger_id: str, **fields: object) -> dict[str, object]:
    return {
        "name": f"bank-{uuid4().hex[:8]}",
        "currency": "USD",
        "url": url,
        "amount_pointer": "/balance",
        "ledger_id": ledger_id,
        **fields,
    }


def job_of(ledger: Ledger, *entries: dict[str, object]) -> ExternalBalanceJob:
    return ExternalBalanceJob(ledger, tuple(checks_from_config({"sources": list(entries)})))


def test_each_source_is_checked_and_a_failing_one_does_not_stop_the_others(
    server: BalanceServer,
) -> None:
    # GIVEN a wallet of 10.00, a bank that agrees, one that is off by 0.50, one that fails,
    # and one configured for an account the ledger does not know
    store = MemoryStore()
    ledger = Ledger(store)
    ledger_id, wallet = book_with_wallet(ledger, "10.00")
    agreeing = entry(
        server.serve(json_reply({"balance": "10.00"})), ledger_id, account_ids=[wallet]
    )
    off = entry(
        server.serve(json_reply({"balance": "9.50"})),
        ledger_id,
        account_type="liability",
        tolerance="0.10",
    )
    failing = entry(server.serve(Reply(b"", status=500)), ledger_id, account_ids=[wallet])
    unknown = entry(
        server.serve(json_reply({"balance": "1"})), ledger_id, account_ids=[wallet[:-4] + "zzzz"]
    )
    job = job_of(ledger, agreeing, failing, off, unknown)
    # WHEN the job runs
    run = job.run()
    # THEN the two good sources are checked, by the scheduler, the other two counted
    assert [check.source for check in run.checks] == [agreeing["name"], off["name"]]
    assert [check.difference for check in run.checks] == [0, -50]
    assert {check.actor for check in run.checks} == {"scheduler"}
    assert run.summary() == {"checked": 2, "mismatches": 1, "failures": 2}
    assert [failure["source"] for failure in run.failures] == [failing["name"], unknown["name"]]
    assert "HTTP 500" in run.failures[0]["reason"]
    assert "not found" in run.failures[1]["reason"]
    # AND the checks are stored, the mismatch with its event
    assert len(ledger.list_external_checks(ledger_id).items) == 2
    assert [event.detail_type for event in store.outbox] == [events.reconciliation_mismatch]


def test_a_dated_balance_is_checked_as_of_its_date_once(server: BalanceServer) -> None:
    # GIVEN a wallet funded before the time a bank dates its balance
    ledger = Ledger(MemoryStore())
    ledger_id, wallet = book_with_wallet(ledger, "10.00")
    dated = ledger.get_account(wallet).updated_at
    ledger.deposit(wallet, "5.00")
    url = server.serve(json_reply({"balance": "10.00", "at": dated.isoformat()}))
    job = job_of(ledger, entry(url, ledger_id, account_ids=[wallet], as_of_pointer="/at"))
    # WHEN the job runs twice (a retried invocation)
    first, second = job.run(), job.run()
    # THEN the balance of that time is compared, and the second run replays the first
    (check,) = first.checks
    assert (check.as_of, check.ledger_total, check.within_tolerance) == (dated, 1000, True)
    assert second.checks == [type(check)(**{**check.__dict__, "replayed": True})]
    assert ledger.list_external_checks(ledger_id).items == [check]


def test_the_run_is_logged_and_counted(
    capsys: pytest.CaptureFixture[str], server: BalanceServer
) -> None:
    # GIVEN a run with one mismatch and one failure
    ledger = Ledger(MemoryStore())
    ledger_id, wallet = book_with_wallet(ledger, "10.00")
    job = job_of(
        ledger,
        entry(server.serve(json_reply({"balance": "1.00"})), ledger_id, account_ids=[wallet]),
        entry(server.serve(Reply(b"", status=503)), ledger_id, account_ids=[wallet]),
    )
    run = job.run()
    metrics = Metrics(namespace="Test", service="jobs")
    metrics.clear_metrics()
    capsys.readouterr()
    # WHEN it is published and the metrics flushed
    publish(run, metrics=metrics, logger=Logger(service="test-jobs"))
    metrics.flush_metrics()
    # THEN each finding is logged, and the counts carry the check's dimension
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    messages = [line.get("message") for line in lines]
    assert "external balance source failed" in messages
    assert "external balance outside tolerance" in messages
    (emitted,) = [line for line in lines if "ExternalChecks" in line]
    assert (emitted["ExternalChecks"], emitted["ReconciliationMismatches"]) == ([1.0], [1.0])
    assert (emitted["ExternalSourceFailures"], emitted["check"]) == ([1.0], "external")


def test_the_checks_setting_is_read_and_refused_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN no setting, a blank one, one that is not JSON, and one with a bad field
    monkeypatch.delenv("LEDGER_EXTERNAL_CHECKS", raising=False)
    assert configured_checks() == ()
    monkeypatch.setenv("LEDGER_EXTERNAL_CHECKS", "  ")
    assert configured_checks() == ()
    monkeypatch.setenv("LEDGER_EXTERNAL_CHECKS", "{")
    with pytest.raises(InvalidSetting, match="not JSON"):
        configured_checks()
    bad = {"sources": [entry("https://bank.example/b", "ldg_x", account_type="wallet")]}
    monkeypatch.setenv("LEDGER_EXTERNAL_CHECKS", json.dumps(bad))
    with pytest.raises(InvalidSetting, match=r"sources\[0\]\.account_type"):
        configured_checks()
    # AND a good one gives its checks
    good = {"sources": [entry("https://bank.example/b", "ldg_x", account_ids=["acc_1"])]}
    monkeypatch.setenv("LEDGER_EXTERNAL_CHECKS", json.dumps(good))
    (check,) = configured_checks()
    assert (check.ledger_id, check.account_ids, check.tolerance) == ("ldg_x", ("acc_1",), "0")


def test_the_handler_checks_the_configured_sources_on_its_table(
    monkeypatch: pytest.MonkeyPatch, server: BalanceServer
) -> None:
    # GIVEN a moto table with a wallet of 2.00, and the function configured for a bank
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": region,
        "POWERTOOLS_METRICS_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    table_name = f"ledger-external-{secrets.token_hex(4)}"
    monkeypatch.setenv("LEDGER_TABLE_NAME", table_name)
    monkeypatch.setenv("LEDGER_PROJECTIONS", "")
    with mock_aws():
        client = boto3.client("dynamodb", region_name=region)
        ensure_table(client, table_name)
        from ledger.store.dynamodb import DynamoDBStore

        ledger = Ledger(DynamoDBStore(table_name, client=client, projections=()))
        ledger_id, wallet = book_with_wallet(ledger, "2.00")
        config = {
            "sources": [
                entry(server.serve(json_reply({"balance": "2"})), ledger_id, account_ids=[wallet])
            ]
        }
        monkeypatch.setenv("LEDGER_EXTERNAL_CHECKS", json.dumps(config))
        external_balances_function.job.cache_clear()
        from functions.external_balances.handler import lambda_handler

        # WHEN the schedule invokes it
        try:
            summary: dict[str, Any] = lambda_handler({"detail": {}}, None)
        finally:
            external_balances_function.job.cache_clear()
        # THEN the check is on the table
        assert summary == {"checked": 1, "mismatches": 0, "failures": 0}
        (check,) = ledger.list_external_checks(ledger_id).items
        assert (check.actor, check.ledger_total, check.external) == ("scheduler", 200, 200)
