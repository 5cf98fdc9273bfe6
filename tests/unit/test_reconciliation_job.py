"""The scheduled reconciliation on the memory store: every ledger in turn within a budget,
resumed at its checkpoint, counted and reported, and nothing written but the checkpoint."""

from __future__ import annotations

import io
import json
import secrets
from dataclasses import replace
from typing import Any

import pytest
from aws_lambda_powertools import Logger, Metrics

from ledger.domain import limits
from ledger.domain.model import Account
from ledger.jobs import reconciliation as job_module
from ledger.jobs.reconciliation import ReconciliationJob, job_name
from ledger.jobs.reconciliation_function import (
    mismatches_metric,
    publish,
    reconciled_metric,
    too_large_metric,
)
from ledger.planning.steps import Target
from ledger.service import Ledger
from ledger.store.checkpoints import Checkpoint, MemoryCheckpoints
from ledger.store.dynamodb.schema import item_key
from ledger.store.memory import MemoryStore

margin_ms = limits.reconciliation_run_margin_ms


class Budget:
    """A Lambda's remaining time that lasts for `ledgers` ledgers, then is down to the margin."""

    def __init__(self, ledgers: int) -> None:
        self.left = ledgers

    def __call__(self) -> float:
        self.left -= 1
        return margin_ms + 1 if self.left >= 0 else margin_ms


def unlimited() -> float:
    return margin_ms * 10


def books(ledger: Ledger, count: int) -> list[str]:
    """`count` ledgers more, each with a wallet holding 12.00 (2.00 of it held); every
    ledger id, as listed."""
    for index in range(count):
        book = ledger.create_ledger(f"book {index}").id
        wallet = ledger.create_account(book, "wallet", "liability", "USD").id
        ledger.deposit(wallet, "12.00")
        ledger.hold(wallet, "2.00")
    return [record.id for record in ledger.list_ledgers(limit=limits.page_size_max).items]


def wallet_of(ledger: Ledger, book: str) -> str:
    accounts = ledger.list_accounts(book).items
    return next(account.id for account in accounts if account.name == "wallet")


def forge(store: MemoryStore, account_id: str, **changes: int) -> None:
    """Change an account item's headroom or totals behind the ledger's back."""
    key = item_key(Target("account", account_id))
    stored = store._items[(key["pk"], key["sk"])]
    assert isinstance(stored, Account)
    headroom = changes.pop("headroom", stored.headroom)
    totals = replace(stored.totals, **changes)
    store._items[(key["pk"], key["sk"])] = replace(stored, headroom=headroom, totals=totals)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def ledger(store: MemoryStore) -> Ledger:
    return Ledger(store)


def test_a_run_counts_each_mismatch_and_writes_nothing_but_its_checkpoint(
    store: MemoryStore, ledger: Ledger
) -> None:
    # GIVEN three ledgers, the second with its wallet's headroom forged from 10.00 to
    # 15.00, and a checkpoint left by a run that stopped after the first
    ids = books(ledger, 3)
    forge(store, wallet_of(ledger, ids[1]), headroom=1500)
    checkpoints = MemoryCheckpoints()
    assert checkpoints.save(job_name, Checkpoint(), None, ids[0])
    before = dict(store._items)
    # WHEN a run has time for everything
    run = ReconciliationJob(ledger, checkpoints).run(unlimited)
    # THEN it went on after the first, wrapped round to it and stopped before it again
    assert [result.ledger_id for result in run.checked] == [ids[1], ids[2], ids[0]]
    assert (run.resumed_after, run.round_complete, run.budget_spent) == (ids[0], True, False)
    # AND it counted the one mismatch and reported it, with amounts as decimal strings
    assert run.mismatches == 1
    assert run.findings() == [
        {
            "problem": "mismatch",
            "ledger_id": ids[1],
            "account_id": wallet_of(ledger, ids[1]),
            "shard": 0,
            "kind": "journal",
            "field": "headroom",
            "expected": "10.00",
            "actual": "15.00",
            "missing_versions": [],
        }
    ]
    # AND it fixed nothing: the store holds what it held, and the checkpoint stayed, as
    # the round ended where it began
    assert store._items == before
    assert (run.checkpoint, run.next_after) == ("unchanged", ids[0])
    assert checkpoints.load(job_name).revision == 1


def test_a_run_out_of_time_saves_its_place_and_the_next_goes_on_and_wraps(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN five ledgers listed two to a page
    monkeypatch.setattr(limits, "report_page_size", 2)
    ids = books(ledger, 5)
    checkpoints = MemoryCheckpoints()
    job = ReconciliationJob(ledger, checkpoints)
    # WHEN three runs have time for three ledgers each
    runs = [job.run(Budget(3)) for _ in range(3)]
    # THEN each went on where the last stopped, wrapping round at the listing's end
    assert [[result.ledger_id for result in run.checked] for run in runs] == [
        ids[0:3],
        [*ids[3:5], ids[0]],
        ids[1:4],
    ]
    assert [run.resumed_after for run in runs] == [None, ids[2], ids[0]]
    assert [run.next_after for run in runs] == [ids[2], ids[0], ids[3]]
    assert all(run.budget_spent and not run.round_complete for run in runs)
    # AND each saved its checkpoint, one revision after the other
    assert [run.checkpoint for run in runs] == ["saved"] * 3
    assert checkpoints.load(job_name).revision == 3
    # AND the summary says so
    assert runs[1].summary() | {"started_at": None, "finished_at": None} == {
        "job": "reconciliation",
        "started_at": None,
        "finished_at": None,
        "resumed_after": ids[2],
        "ledgers_checked": 3,
        "mismatches": 0,
        "ledgers_too_large": 0,
        "round_complete": False,
        "budget_spent": True,
        "next_after": ids[0],
        "checkpoint": "saved",
    }


def test_a_round_begun_at_the_start_ends_at_the_listing_end(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN three ledgers two to a page and no checkpoint
    monkeypatch.setattr(limits, "report_page_size", 2)
    ids = books(ledger, 3)
    checkpoints = MemoryCheckpoints()
    # WHEN a run has time for everything
    run = ReconciliationJob(ledger, checkpoints).run(unlimited)
    # THEN it checked each once and the next run starts at the start again
    assert [result.ledger_id for result in run.checked] == ids
    assert (run.round_complete, run.next_after, run.checkpoint) == (True, None, "unchanged")
    assert checkpoints.load(job_name) == Checkpoint()


def test_a_run_that_wraps_and_runs_out_of_time_saves_the_listing_start(ledger: Ledger) -> None:
    # GIVEN two ledgers, and a run that stopped after the first
    ids = books(ledger, 2)
    checkpoints = MemoryCheckpoints()
    job = ReconciliationJob(ledger, checkpoints)
    job.run(Budget(1))
    # WHEN the next run has time for one ledger only
    run = job.run(Budget(1))
    # THEN it checked the second, wrapped round, and saved the listing's start
    assert [result.ledger_id for result in run.checked] == [ids[1]]
    assert (run.budget_spent, run.next_after, run.checkpoint) == (True, None, "saved")
    assert checkpoints.load(job_name).at_start
    # AND the run after it starts with the first
    assert [result.ledger_id for result in job.run(Budget(1)).checked] == [ids[0]]


def test_a_run_checks_at_most_its_ledger_count_and_reads_at_most_its_pages(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN four ledgers two to a page
    monkeypatch.setattr(limits, "report_page_size", 2)
    ids = books(ledger, 4)
    # WHEN a run may check three ledgers, and another may read one page
    counted = ReconciliationJob(ledger, MemoryCheckpoints(), ledgers_max=3).run(unlimited)
    monkeypatch.setattr(job_module, "_pages_max", 1)
    paged = ReconciliationJob(ledger, MemoryCheckpoints()).run(unlimited)
    # THEN each stopped there, as when out of time
    assert [result.ledger_id for result in counted.checked] == ids[:3]
    assert [result.ledger_id for result in paged.checked] == ids[:2]
    assert counted.budget_spent
    assert paged.budget_spent


def test_a_ledger_too_large_is_reported_and_the_run_goes_on(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a ledger with a wallet and world, one without accounts, and reports limited
    # to one account
    books(ledger, 1)
    empty = ledger.create_ledger("empty").id
    monkeypatch.setattr(limits, "report_accounts_max", 1)
    # WHEN a run reconciles them
    run = ReconciliationJob(ledger, MemoryCheckpoints()).run(unlimited)
    # THEN the empty one was checked, the other reported as too large, not as a mismatch
    assert [result.ledger_id for result in run.checked] == [empty]
    [(too_large, reason)] = run.too_large
    assert "more than 1 accounts" in reason
    assert run.mismatches == 0
    assert run.findings() == [{"problem": "too_large", "ledger_id": too_large, "reason": reason}]


class FailingLedger(Ledger):
    """A ledger whose reconciliation of one ledger fails (DynamoDB away, say)."""

    failing: str | None = None

    def reconcile(self, ledger_id: str, progress: Any = None) -> Any:
        if ledger_id == self.failing:
            raise RuntimeError("DynamoDB is away")
        return super().reconcile(ledger_id, progress)


def test_a_failed_ledger_keeps_the_place_before_it_and_is_tried_first_next_time(
    store: MemoryStore,
) -> None:
    # GIVEN three ledgers, the second of which cannot be read at the moment
    ledger = FailingLedger(store)
    ids = books(ledger, 3)
    ledger.failing = ids[1]
    checkpoints = MemoryCheckpoints()
    job = ReconciliationJob(ledger, checkpoints)
    # WHEN a run meets it
    with pytest.raises(RuntimeError, match="away"):
        job.run(unlimited)
    # THEN the place after the first was saved, and the next run starts with the second
    assert checkpoints.load(job_name).after == ids[0]
    ledger.failing = None
    assert [result.ledger_id for result in job.run(Budget(1)).checked] == [ids[1]]


class TakenCheckpoints(MemoryCheckpoints):
    """Checkpoints another run always saves first."""

    def save(self, job: str, read: Checkpoint, cursor: str | None, after: str | None) -> bool:
        return False


def test_a_run_whose_checkpoint_another_run_moved_says_so(ledger: Ledger) -> None:
    # GIVEN two ledgers and a checkpoint another run moves under this one
    books(ledger, 2)
    # WHEN a run stops after one ledger
    run = ReconciliationJob(ledger, TakenCheckpoints()).run(Budget(1))
    # THEN its checkpoint was not saved, and it says so
    assert run.checkpoint == "taken"


def test_a_memory_checkpoint_saves_only_over_the_revision_it_read() -> None:
    # GIVEN a checkpoint saved once
    checkpoints = MemoryCheckpoints()
    first = checkpoints.load(job_name)
    assert checkpoints.save(job_name, first, "cursor-1", "led-1")
    # WHEN a second save starts from the revision read before it
    stale = checkpoints.save(job_name, first, "cursor-2", "led-2")
    # THEN it is refused and the first stands
    assert not stale
    assert checkpoints.load(job_name) == Checkpoint("cursor-1", "led-1", 1)


def a_logger(stream: io.StringIO) -> Logger:
    """A logger writing to `stream` alone: powertools shares one handler per service name."""
    return Logger(service=f"reconciliation-test-{secrets.token_hex(4)}", stream=stream)


def a_metrics() -> Metrics:
    """Metrics emptied first: powertools shares one metric set between its instances."""
    metrics = Metrics(namespace=f"Test{secrets.token_hex(4)}")
    metrics.clear_metrics()
    return metrics


def blobs_of(output: str) -> list[dict[str, Any]]:
    """The EMF blobs among the JSON lines printed."""
    lines = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    return [line for line in lines if "_aws" in line]


def test_publish_logs_each_finding_and_emits_counts_and_balances_in_minor_units(
    store: MemoryStore, ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN a run over two ledgers, the second with an escrow of 3.00 and a forged headroom
    ids = books(ledger, 2)
    wallet = wallet_of(ledger, ids[1])
    payee = ledger.create_account(ids[1], "payee", "liability", "USD").id
    ledger.escrow(wallet, payee, "3.00")
    forge(store, wallet, headroom=1)
    run = ReconciliationJob(ledger, MemoryCheckpoints()).run(unlimited)
    metrics, logs = a_metrics(), io.StringIO()
    # WHEN it is published
    publish(run, metrics=metrics, logger=a_logger(logs))
    # THEN the run's counts are in the function's metrics
    counts = {name: metrics.metric_set[name]["Value"] for name in metrics.metric_set}
    metrics.clear_metrics()
    assert counts == {mismatches_metric: [1], reconciled_metric: [2], too_large_metric: [0]}
    # AND each ledger and currency has its balances in minor units: 10.00 available in the
    # first; 7.00 in the second (its wallet's 12.00 less 2.00 held and 3.00 escrowed),
    # with 5.00 pending and 3.00 escrowed
    blobs = blobs_of(capsys.readouterr().out)
    balances = {
        (blob["ledger_id"], blob["currency"]): tuple(
            blob[name] for name in ("Available", "Pending", "Escrowed")
        )
        for blob in blobs
    }
    assert balances == {
        (ids[0], "USD"): ([1000], [200], [0]),
        (ids[1], "USD"): ([1200 - 200 - 300], [200 + 300], [300]),
    }
    # AND each of those blobs has one dimension set: the service, the ledger, the currency
    dimensions = [blob["_aws"]["CloudWatchMetrics"][0]["Dimensions"] for blob in blobs]
    assert [[sorted(each) for each in sets] for sets in dimensions] == [
        [["currency", "ledger_id", "service"]]
    ] * 2
    # AND the mismatch is an error log with its details, the run an info log
    records = [json.loads(line) for line in logs.getvalue().splitlines()]
    errors = [record for record in records if record["level"] == "ERROR"]
    assert [(record["message"], record["ledger_id"], record["field"]) for record in errors] == [
        ("reconciliation mismatch", ids[1], "headroom")
    ]
    [summary] = [record for record in records if record["level"] == "INFO"]
    assert (summary["message"], summary["ledgers_checked"]) == ("reconciliation run", 2)


def test_publish_reports_an_unbalanced_currency_and_a_taken_checkpoint(
    store: MemoryStore, ledger: Ledger, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN two ledgers, the first with its wallet's posted credits forged from 12.00 to
    # 13.00, and a checkpoint another run moves meanwhile
    ids = books(ledger, 2)
    forge(store, wallet_of(ledger, ids[0]), posted_credits=1300)
    run = ReconciliationJob(ledger, TakenCheckpoints()).run(Budget(1))
    metrics, logs = a_metrics(), io.StringIO()
    # WHEN it is published
    publish(run, metrics=metrics, logger=a_logger(logs))
    mismatches = metrics.metric_set[mismatches_metric]["Value"]
    metrics.clear_metrics()
    capsys.readouterr()
    # THEN the unbalanced currency counts beside the item's disagreements with its journal
    # and with its history, and is logged with its sums
    assert mismatches == [1 + 1 + 1]
    records = [json.loads(line) for line in logs.getvalue().splitlines()]
    unbalanced = [record for record in records if record["message"] == "reconciliation unbalanced"]
    assert [(record["currency"], record["posted_credits"]) for record in unbalanced] == [
        ("USD", "13.00")
    ]
    # AND the dropped checkpoint is a warning
    assert [record["message"] for record in records if record["level"] == "WARNING"] == [
        "another reconciliation run saved the checkpoint first; this run's is dropped"
    ]
