"""Which event each change of an entry or an account publishes: one at most, by rule."""

from __future__ import annotations

from dataclasses import replace

import pytest
from events_records import new_book, open_account

from ledger.domain import events
from ledger.domain.model import EntryStatus
from ledger.planning.events import account_publication, entry_publication
from ledger.service import Ledger
from ledger.store.memory import MemoryStore


@pytest.fixture
def ledger() -> Ledger:
    return Ledger(MemoryStore())


def test_an_entry_publishes_by_how_it_was_created(ledger: Ledger) -> None:
    # GIVEN a deposit, a hold and the reversal of the deposit
    book = new_book(ledger)
    account = open_account(ledger, book)
    deposit = ledger.deposit(account.id, "10.00")
    reversal = ledger.reverse_entry(deposit.id)
    ledger.deposit(account.id, "5.00")
    hold = ledger.hold(account.id, "3.00")
    # WHEN each is created
    kinds = [entry_publication(None, entry) for entry in (deposit, hold, reversal)]
    # THEN a posted, a pending and a reversed event, each with an id of its own
    assert [each.detail_type for each in kinds if each] == [
        events.entry_posted,
        events.entry_pending,
        events.entry_reversed,
    ]
    assert len({each.event_id for each in kinds if each}) == 3
    assert [each.time for each in kinds if each] == [
        deposit.created_at,
        hold.created_at,
        reversal.created_at,
    ]


def test_a_pending_entry_publishes_its_release_but_not_its_posting(ledger: Ledger) -> None:
    # GIVEN a hold voided, and another confirmed
    book = new_book(ledger)
    account = open_account(ledger, book)
    ledger.deposit(account.id, "10.00")
    voided_hold = ledger.hold(account.id, "3.00")
    voided = ledger.release_hold(voided_hold.id)
    posted_hold = ledger.hold(account.id, "2.00")
    ledger.confirm_hold(posted_hold.id)
    confirmed = ledger.get_entry(posted_hold.id)
    # WHEN the pending entries change
    void = entry_publication(voided_hold, voided)
    expiry = entry_publication(voided_hold, replace(voided, status=EntryStatus.EXPIRED))
    posting = entry_publication(posted_hold, confirmed)
    again = entry_publication(voided, voided)
    # THEN a void and an expiry publish, dated when resolved; a posting publishes by its
    # own entry and a change of a resolved entry by nothing
    assert void is not None
    assert void.detail_type == events.entry_voided
    assert void.time == voided.resolved_at
    assert expiry is not None
    assert expiry.detail_type == events.entry_expired
    assert posting is None
    assert again is None


def test_an_account_publishes_its_creation_and_every_later_change(ledger: Ledger) -> None:
    # GIVEN an account, then the same account after a deposit and after a rename
    book = new_book(ledger)
    opened = open_account(ledger, book)
    ledger.deposit(opened.id, "5.00")
    funded = ledger.get_account(opened.id)
    renamed = ledger.update_account(opened.id, name="Renamed")
    # WHEN each change is looked at
    created = account_publication(None, opened)
    moved = account_publication(opened, funded)
    details = account_publication(funded, renamed)
    # THEN creation and each change publish, with ids telling them apart; no change, nothing
    assert created is not None
    assert created.detail_type == events.account_created
    assert moved is not None
    assert moved.detail_type == events.account_updated
    assert details is not None
    assert details.detail_type == events.account_updated
    assert len({created.event_id, moved.event_id, details.event_id}) == 3
    assert account_publication(funded, funded) is None


def test_a_sharded_account_publishes_its_details_but_not_its_money(ledger: Ledger) -> None:
    # GIVEN a sharded revenue account whose own item takes money
    book = new_book(ledger)
    revenue = open_account(ledger, book, "revenue", overdraft="allow", shards=4)
    moved = replace(
        revenue, version=revenue.version + 1, totals=replace(revenue.totals, posted_credits=500)
    )
    renamed = replace(moved, name="Fees")
    # THEN its money change publishes nothing and its rename an update
    assert account_publication(revenue, moved) is None
    published = account_publication(moved, renamed)
    assert published is not None
    assert published.detail_type == events.account_updated
