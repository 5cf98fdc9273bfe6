"""The local stand-in for the reconciliation schedule: each run recorded as a line of the
data dir's results file, its findings logged as errors."""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from pathlib import Path

import pytest

from ledger.domain import limits
from ledger.domain.model import Account
from ledger.jobs.reconciliation import ReconciliationJob
from ledger.local.reconciler import ScheduledReconciliation, results_file_name
from ledger.planning.steps import Target
from ledger.service import Ledger
from ledger.store.checkpoints import MemoryCheckpoints
from ledger.store.dynamodb.schema import item_key
from ledger.store.memory import MemoryStore


class SteppingClock:
    """A monotonic clock that moves `step_s` on at each reading."""

    def __init__(self, step_s: float) -> None:
        self.now_s = 0.0
        self.step_s = step_s

    def __call__(self) -> float:
        self.now_s += self.step_s
        return self.now_s


def test_each_run_is_a_line_of_the_results_file_and_each_finding_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a ledger whose wallet's headroom was forged from 5.00 to 6.00, and a clean one
    store = MemoryStore()
    ledger = Ledger(store)
    forged_book = ledger.create_ledger("forged").id
    wallet = ledger.create_account(forged_book, "wallet", "liability", "USD").id
    ledger.deposit(wallet, "5.00")
    ledger.create_ledger("clean")
    key = item_key(Target("account", wallet))
    stored = store._items[(key["pk"], key["sk"])]
    assert isinstance(stored, Account)
    store._items[(key["pk"], key["sk"])] = replace(stored, headroom=600)
    schedule = ScheduledReconciliation(
        ReconciliationJob(ledger, MemoryCheckpoints()), tmp_path / "data", interval_s=60
    )
    # WHEN it runs twice
    with caplog.at_level(logging.ERROR, logger="ledger.local.reconciler"):
        runs = [schedule.run_once(), schedule.run_once()]
    # THEN each run is one JSON line: its summary, its findings and the balances
    lines = (tmp_path / "data" / results_file_name).read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [record["ledgers_checked"] for record in records] == [2, 2]
    assert records[0]["findings"][0]["field"] == "headroom"
    assert records[0]["balances"][forged_book] == {
        "USD": {"available": "5.00", "pending": "0.00", "escrowed": "0.00"}
    }
    assert [run.mismatches for run in runs] == [1, 1]
    # AND each finding was logged as an error, once per run
    assert [record.getMessage().split(":")[0] for record in caplog.records] == [
        "reconciliation mismatch"
    ] * 2


def test_a_run_gets_the_function_s_time_budget(tmp_path: Path) -> None:
    # GIVEN three ledgers and a clock on which each reading is half the budget later
    ledger = Ledger(MemoryStore())
    for index in range(3):
        ledger.create_ledger(f"book {index}")
    budget_ms = limits.reconciliation_run_margin_ms * 4
    clock = SteppingClock(budget_ms / 4 / 1000)
    schedule = ScheduledReconciliation(
        ReconciliationJob(ledger, MemoryCheckpoints()),
        tmp_path,
        interval_s=60,
        budget_ms=budget_ms,
        clock=clock,
    )
    # WHEN it runs / THEN it stopped once the margin was reached: after two ledgers
    run = schedule.run_once()
    assert (len(run.checked), run.budget_spent) == (2, True)
