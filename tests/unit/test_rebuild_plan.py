"""Rebuilt history on the pure core: releases dated when entries resolved, or by the
documented fallback for entries resolved before that was recorded; refusals."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ledger.domain.model import Account, Entry
from ledger.planning.rebuild import RebuildRefused, rebuilt_history
from ledger.service import Ledger
from ledger.store.memory import MemoryStore


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def journal(store: MemoryStore) -> dict[str, Entry]:
    return {item.id: item for item in store._items.values() if isinstance(item, Entry)}


def wallet_of(store: MemoryStore, wallet: str) -> Account:
    (item, *_) = store.items(wallet, 1)
    assert isinstance(item, Account)
    return item


def test_a_release_is_dated_when_it_resolved_or_else_by_the_fallback() -> None:
    # GIVEN a wallet with a hold voided a minute later and one expired by the sweeper
    clock = Clock()
    store = MemoryStore()
    ledger = Ledger(store, clock=clock)
    book = ledger.create_ledger("fallback").id
    wallet = ledger.create_account(book, "wallet", "liability", "USD").id
    ledger.deposit(wallet, "10.00")
    voided = ledger.hold(wallet, "1.00")
    clock.now += timedelta(minutes=1)
    ledger.void_entry(voided.id)
    expiring = ledger.hold(wallet, "2.00", expires_in=60)
    clock.now += timedelta(minutes=10)
    ledger.expire_pending()
    entries = journal(store)
    item = wallet_of(store, wallet)
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
    store = MemoryStore()
    ledger = Ledger(store, clock=Clock())
    book = ledger.create_ledger("versions").id
    wallet = ledger.create_account(book, "wallet", "liability", "USD").id
    ledger.deposit(wallet, "1.00")
    ledger.deposit(wallet, "2.00")
    entries = journal(store)
    item = replace(wallet_of(store, wallet), version=1)
    # WHEN rebuilt / THEN refused, saying why
    with pytest.raises(RebuildRefused, match=r"2 changes of .* more than its 1 versions"):
        rebuilt_history(item, entries.values(), entries)


def test_a_posting_whose_pending_entry_is_missing_is_refused() -> None:
    # GIVEN a posted hold whose pending entry is missing from the journal
    store = MemoryStore()
    ledger = Ledger(store, clock=Clock())
    book = ledger.create_ledger("posting").id
    wallet = ledger.create_account(book, "wallet", "liability", "USD").id
    ledger.deposit(wallet, "5.00")
    held = ledger.hold(wallet, "1.00")
    ledger.post_entry(held.id)
    entries = {key: entry for key, entry in journal(store).items() if key != held.id}
    # WHEN rebuilt / THEN refused, naming the missing entry
    with pytest.raises(RebuildRefused, match=f"resolves {held.id}, not found"):
        rebuilt_history(wallet_of(store, wallet), entries.values(), entries)
