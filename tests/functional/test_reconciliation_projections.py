"""Reconciliation of each balance item against its history, on the memory store: it keeps
history with every write and no audit chain, so the audit is not checked."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ledger.domain import limits
from ledger.domain.errors import ReportTooLarge
from ledger.domain.ids import world_account_id
from ledger.domain.money import builtin_currencies
from ledger.domain.results import Mismatch
from ledger.service import Ledger
from ledger.store.memory import MemoryStore

from .helpers import new_book, open_account

usd = builtin_currencies["USD"]


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
def ledger(store: MemoryStore) -> Ledger:
    return Ledger(store)


def _funded(ledger: Ledger) -> tuple[str, str]:
    """A ledger with a wallet moved four times (over the world's shards) and a revenue
    account of four shards moved by transfers."""
    book = new_book(ledger)
    wallet = open_account(ledger, book)
    revenue = open_account(ledger, book, "revenue", overdraft="allow", shards=4)
    for _ in range(3):
        ledger.deposit(wallet.id, "5.00")
    ledger.transfer(wallet.id, revenue.id, "2.50")
    return book, wallet.id


def test_a_clean_ledger_reconciles_with_its_history(ledger: Ledger) -> None:
    # GIVEN a ledger with sharded accounts (the world, a revenue account) and moves
    book, _ = _funded(ledger)
    # WHEN it is reconciled
    report = ledger.reconcile(book)
    # THEN nothing mismatches, and the history was checked but not the audit chain
    assert (report.ok, report.mismatches) == (True, ())
    assert report.checks == ("journal", "history")


def test_a_tampered_history_record_is_found(ledger: Ledger, store: MemoryStore) -> None:
    # GIVEN the wallet's latest history record with its posted credits altered
    book, wallet = _funded(ledger)
    records = store._history[(wallet, 0)]
    latest = records[-1]
    forged = replace(latest.totals, posted_credits=latest.totals.posted_credits + 1)
    records[-1] = replace(latest, totals=forged)
    # WHEN the ledger is reconciled
    report = ledger.reconcile(book)
    # THEN the record is reported against the item, which the journal agrees with
    assert not report.ok
    item = latest.totals.posted_credits
    assert report.mismatches == (Mismatch(wallet, "posted_credits", item, item + 1, "history", 0),)


def test_a_missing_history_version_is_listed(ledger: Ledger, store: MemoryStore) -> None:
    # GIVEN the wallet's second history record removed (of four)
    book, wallet = _funded(ledger)
    records = store._history[(wallet, 0)]
    assert [record.version for record in records] == [1, 2, 3, 4]
    del records[1]
    # WHEN the ledger is reconciled
    report = ledger.reconcile(book)
    # THEN the gap is listed: version 2, of four versions three are present
    assert not report.ok
    assert report.mismatches == (Mismatch(wallet, "versions", 4, 3, "history", 0, (2,)),)


def test_a_lagging_history_of_a_shard_is_found(ledger: Ledger, store: MemoryStore) -> None:
    # GIVEN the latest history record of one of the world's shards missing
    book, _ = _funded(ledger)
    world = world_account_id(book, usd)
    shard = next(shard for (account, shard) in store._history if account == world)
    records = store._history[(world, shard)]
    version = records[-1].version
    records.pop()
    # WHEN the ledger is reconciled
    report = ledger.reconcile(book)
    # THEN the shard's item is ahead of its history by that version
    history = [mismatch for mismatch in report.mismatches if mismatch.field == "version"]
    assert history == [Mismatch(world, "version", version, version - 1, "history", shard)]
    assert not report.ok


def test_a_history_longer_than_a_reconciliation_reads_is_refused(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN at most three history records read per item, and a wallet with four
    book, wallet = _funded(ledger)
    monkeypatch.setattr(limits, "reconcile_history_versions_max", 3)
    # WHEN the ledger is reconciled THEN it is refused rather than read on
    with pytest.raises(ReportTooLarge) as refused:
        ledger.reconcile(book)
    assert refused.value.details["limit"] == 3
    assert refused.value.details["account_id"] in {wallet, world_account_id(book, usd)}
