"""Projections rebuilt from the journal on the memory store: what the consumer would have
written, balances on both axes as before, reconciliation agreeing, idempotent."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from ledger.cli import main
from ledger.cli.commands import rebuilding
from ledger.domain.errors import HistoryNotKept, NotFound
from ledger.domain.model import Account, AccountStatus, Entry
from ledger.planning.history import HistoryRecord
from ledger.planning.rebuild import RebuildRefused, rebuilt_history
from ledger.service import Ledger
from ledger.store.history import HistoryQuery
from ledger.store.memory import MemoryStore


class SteppingClock:
    """A clock the test moves: one second a reading, or a jump."""

    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def busy(ledger: Ledger, clock: SteppingClock) -> tuple[str, list[str]]:
    """A ledger whose accounts saw every kind of change; its id and its accounts' ids."""
    book = ledger.create_ledger("rebuild").id
    alice = ledger.create_account(book, "alice", "liability", "USD").id
    bob = ledger.create_account(book, "bob", "liability", "USD").id
    fees = ledger.create_account(book, "fees", "revenue", "USD", overdraft="allow", shards=4).id
    ledger.deposit(alice, "100.00", effective_at=clock.now - timedelta(days=40))
    ledger.deposit(bob, "20.00")
    ledger.transfer(alice, bob, "30.00")
    for amount in ("1.00", "2.00", "3.00"):
        ledger.transfer(alice, fees, amount)
    held = ledger.hold(alice, "10.00")
    ledger.post_entry(held.id, "4.00")
    ledger.void_entry(ledger.hold(bob, "2.00").id)
    ledger.hold(alice, "5.00", expires_in=60)
    clock.now += timedelta(minutes=5)
    assert ledger.expire_pending() == 1
    ledger.batch(
        [
            {"type": "transfer", "from_account_id": alice, "to_account_id": bob, "amount": "1.00"},
            {"type": "transfer", "from_account_id": bob, "to_account_id": alice, "amount": "0.50"},
        ]
    )
    ledger.reverse_entry(ledger.deposit(bob, "7.00").id)
    return book, [alice, bob, fees]


def with_wallet(name: str) -> tuple[SteppingClock, MemoryStore, Ledger, str, str]:
    """A ledger `name` on a memory store under a stepping clock, with one wallet: the
    clock, the store, the ledger, its id and the wallet's."""
    clock = SteppingClock()
    store = MemoryStore()
    ledger = Ledger(store, clock=clock)
    book = ledger.create_ledger(name).id
    return clock, store, ledger, book, ledger.create_account(book, "wallet", "liability", "USD").id


def forge_posted_credits(store: MemoryStore, account_id: str, minor: int) -> None:
    """Rewrite the account item's posted credits behind the ledger's back."""
    key = next(
        key
        for key, item in store._items.items()
        if isinstance(item, Account) and item.id == account_id
    )
    forged = store._items[key]
    assert isinstance(forged, Account)
    store._items[key] = replace(forged, totals=replace(forged.totals, posted_credits=minor))


def journal(store: MemoryStore) -> dict[str, Entry]:
    return {item.id: item for item in store._items.values() if isinstance(item, Entry)}


def wallet_item(store: MemoryStore, wallet: str) -> Account:
    (item, *_) = store.items(wallet, 1)
    assert isinstance(item, Account)
    return item


def history(store: MemoryStore, account_id: str, shard: int) -> list[HistoryRecord]:
    return store.history(account_id, shard, HistoryQuery("recorded", limit=1000))


def as_consumed(records: list[HistoryRecord]) -> list[HistoryRecord]:
    """The records without their rebuilt mark, a batch's entries in id order (and what each moved,
    in a stable order: the journal does not keep their order within the batch)."""
    return [
        replace(
            record,
            rebuilt=False,
            entry_ids=tuple(sorted(record.entry_ids)),
            periods=tuple(sorted(record.periods, key=repr)),
        )
        for record in records
    ]


def balances(ledger: Ledger, account_id: str, moments: list[datetime]) -> list[object]:
    return [
        (
            ledger.get_balance(account_id, at=moment),
            ledger.get_balance(account_id, effective_at=moment),
            ledger.get_balance(account_id, at=moment, effective_at=moment),
        )
        for moment in moments
    ]


def test_a_lost_history_is_rebuilt_as_the_consumer_wrote_it() -> None:
    # GIVEN a busy ledger on the memory store (which writes history as the consumer does)
    clock = SteppingClock()
    store = MemoryStore()
    ledger = Ledger(store, clock=clock)
    book, accounts = busy(ledger, clock)
    start = clock.now - timedelta(days=41)
    moments = [start + timedelta(hours=hours) for hours in range(0, 41 * 24, 7)]
    moments += [clock.now - timedelta(seconds=seconds) for seconds in range(0, 400, 3)]
    items = [
        (account, shard)
        for account in accounts
        for shard in range(4 if account == accounts[2] else 1)
    ]
    written = {item: history(store, *item) for item in items}
    before = {account: balances(ledger, account, moments) for account in accounts}
    # WHEN every history is lost, then rebuilt from the journal
    for item in items:
        store.replace_history(*item, [])
    report = ledger.rebuild_projections(ledger_id=book)
    # THEN each item's history is what the consumer wrote, each record marked rebuilt
    every_item = sum(
        len(store.items(account.id, account.shards))
        for account in ledger.list_accounts(book, limit=100).items
    )
    assert (report.refused, report.items_rebuilt) == ((), every_item)
    for item in items:
        rebuilt = history(store, *item)
        assert all(record.rebuilt for record in rebuilt), item
        assert as_consumed(rebuilt) == as_consumed(written[item]), item
    # AND every balance on both axes answers as before, and the ledger reconciles
    assert {account: balances(ledger, account, moments) for account in accounts} == before
    reconciliation = ledger.reconcile(book)
    assert (reconciliation.ok, reconciliation.mismatches) == (True, ())
    assert reconciliation.checks == ("journal", "history")


def test_a_second_rebuild_leaves_what_the_first_wrote() -> None:
    # GIVEN a rebuilt ledger
    clock = SteppingClock()
    store = MemoryStore()
    ledger = Ledger(store, clock=clock)
    book, accounts = busy(ledger, clock)
    first = ledger.rebuild_projections(ledger_id=book)
    after_first = {account: history(store, account, 0) for account in accounts}
    aggregates = store.aggregates(accounts[0], 0, ("", "~"))
    # WHEN it is rebuilt again
    second = ledger.rebuild_projections(ledger_id=book)
    # THEN the same records and aggregates stand: nothing was added twice
    assert second == first
    assert {account: history(store, account, 0) for account in accounts} == after_first
    assert store.aggregates(accounts[0], 0, ("", "~")) == aggregates


def test_status_changes_are_numbered_after_the_money_and_versions_stay_whole() -> None:
    # GIVEN an account suspended and reactivated between two deposits
    _clock, store, ledger, book, wallet = with_wallet("status")
    ledger.deposit(wallet, "1.00")
    ledger.update_account(wallet, status=AccountStatus.SUSPENDED)
    ledger.update_account(wallet, status=AccountStatus.ACTIVE)
    ledger.deposit(wallet, "2.00")
    # WHEN its history is rebuilt alone
    report = ledger.rebuild_projections(account_id=wallet)
    # THEN versions 1..4 stand: the money first, the status steps after, moving nothing
    rebuilt = history(store, wallet, 0)
    assert [record.version for record in rebuilt] == [1, 2, 3, 4]
    assert [record.kind for record in rebuilt] == ["deposit", "deposit", "status", "status"]
    assert rebuilt[-1].totals == rebuilt[1].totals
    assert (report.accounts, report.records_written) == (1, 4)
    assert ledger.reconcile(book).ok


def test_an_item_the_journal_does_not_explain_is_refused_and_left_alone() -> None:
    # GIVEN an account whose item was rewritten outside the ledger
    _clock, store, ledger, _book, wallet = with_wallet("forged")
    ledger.deposit(wallet, "1.00")
    forge_posted_credits(store, wallet, 900)
    kept = history(store, wallet, 0)
    # WHEN its history is rebuilt
    report = ledger.rebuild_projections(account_id=wallet)
    # THEN it is refused with the reason, and its history is as it was
    (refusal,) = report.refused
    assert (refusal.account_id, refusal.shard) == (wallet, 0)
    assert refusal.reason == (
        "the journal does not add up to the item: posted_credits 100 by the journal, 900 held"
    )
    assert history(store, wallet, 0) == kept


def test_a_rebuild_names_one_ledger_or_one_account_that_exists() -> None:
    ledger = Ledger(MemoryStore())
    book = ledger.create_ledger("names").id
    wallet = ledger.create_account(book, "wallet", "liability", "USD").id
    with pytest.raises(ValueError, match="exactly one"):
        ledger.rebuild_projections(ledger_id=book, account_id=wallet)
    with pytest.raises(ValueError, match="exactly one"):
        ledger.rebuild_projections()
    with pytest.raises(NotFound):
        ledger.rebuild_projections(account_id=wallet[:-6] + "aaaaaa")


def test_a_release_is_dated_when_it_resolved_or_else_by_the_fallback() -> None:
    # GIVEN a wallet with a hold voided a minute later and one expired by the sweeper
    clock, store, ledger, _book, wallet = with_wallet("fallback")
    ledger.deposit(wallet, "10.00")
    voided = ledger.hold(wallet, "1.00")
    clock.now += timedelta(minutes=1)
    ledger.void_entry(voided.id)
    expiring = ledger.hold(wallet, "2.00", expires_in=60)
    clock.now += timedelta(minutes=10)
    ledger.expire_pending()
    entries = journal(store)
    item = wallet_item(store, wallet)
    # WHEN its history is rebuilt from entries that record when they resolved, and from the
    # same entries as written before that time was recorded
    recorded = rebuilt_history(item, entries.values(), entries)
    unrecorded = {key: replace(entry, resolved_at=None) for key, entry in entries.items()}
    fallback = rebuilt_history(item, unrecorded.values(), unrecorded)
    # THEN with the times, each release is a version of its own, dated when it happened
    assert [record.kind for record in recorded] == ["deposit", "hold", "void", "hold", "expire"]
    assert (recorded[2].created_at, recorded[4].created_at) == (
        entries[voided.id].resolved_at,
        entries[expiring.id].resolved_at,
    )
    # AND without them, the void falls on the hold's creation (one version that moves
    # nothing), the expiry on its expiry time, and a step that moves nothing keeps the
    # versions whole up to the item's
    assert [(record.kind, record.created_at) for record in fallback] == [
        ("deposit", recorded[0].created_at),
        ("void", voided.created_at),
        ("hold", expiring.created_at),
        ("expire", expiring.expires_at),
        ("status", item.updated_at),
    ]
    assert fallback[1].deltas == fallback[-1].deltas
    assert fallback[-1].totals == recorded[-1].totals == item.totals
    assert [record.version for record in fallback] == list(range(1, item.version + 1))


def test_more_changes_in_the_journal_than_the_item_has_versions_is_refused() -> None:
    # GIVEN a wallet with two deposits, whose item claims a single version
    _, store, ledger, _book, wallet = with_wallet("versions")
    ledger.deposit(wallet, "1.00")
    ledger.deposit(wallet, "2.00")
    entries = journal(store)
    item = replace(wallet_item(store, wallet), version=1)
    # WHEN rebuilt / THEN refused, saying why
    with pytest.raises(RebuildRefused, match=r"2 changes of .* more than its 1 versions"):
        rebuilt_history(item, entries.values(), entries)


def test_a_posting_whose_pending_entry_is_missing_is_refused() -> None:
    # GIVEN a posted hold whose pending entry is missing from the journal
    _, store, ledger, _book, wallet = with_wallet("posting")
    ledger.deposit(wallet, "5.00")
    held = ledger.hold(wallet, "1.00")
    ledger.post_entry(held.id)
    entries = {key: entry for key, entry in journal(store).items() if key != held.id}
    # WHEN rebuilt / THEN refused, naming the missing entry
    with pytest.raises(RebuildRefused, match=f"resolves {held.id}, not found"):
        rebuilt_history(wallet_item(store, wallet), entries.values(), entries)


def test_an_item_the_journal_does_not_explain_is_listed_and_fails_the_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the store --table opens, holding an account whose item was rewritten
    memory = MemoryStore()
    ledger = Ledger(memory)
    book = ledger.create_ledger("forged").id
    wallet = ledger.create_account(book, "wallet", "liability", "USD").id
    ledger.deposit(wallet, "1.00")
    forge_posted_credits(memory, wallet, 900)
    monkeypatch.setattr(rebuilding, "table_store", lambda access: memory)
    # WHEN its ledger is rebuilt
    result = CliRunner().invoke(
        main, ["projections", "rebuild", "--ledger", book, "--table", "ledger"]
    )
    # THEN the summary and the refused item are printed, and the command fails
    assert result.exit_code == 1
    assert "records_written: 1" in result.stdout
    assert (
        f"{wallet}  0      the journal does not add up to the item: "
        "posted_credits 100 by the journal, 900 held"
    ) in result.stdout
    assert "error: rebuild_refused: 1 item(s) left as they were" in result.stderr


def test_a_store_that_cannot_replace_history_is_refused() -> None:
    # GIVEN a store that offers none of a rebuild's writes
    class ReadOnly:
        projections = ("history",)

    ledger = Ledger(ReadOnly())  # type: ignore[arg-type]
    # WHEN a rebuild is asked / THEN it is refused as history the store does not keep
    with pytest.raises(HistoryNotKept, match="keeps no history to rebuild"):
        ledger.rebuild_projections(ledger_id="ldg_x")
