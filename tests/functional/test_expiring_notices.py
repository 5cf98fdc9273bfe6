"""Expiring notices on every store: one `ledger.entry.expiring` per pending entry, within
the notice before its expiry, in the outbox with the entry marked, never twice."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from ledger.domain import events
from ledger.domain.errors import ValidationError
from ledger.domain.events import OutboxEvent
from ledger.domain.model import EntryStatus
from ledger.service import Ledger
from ledger.store.dynamodb.outbox import outbox_event
from ledger.store.memory import MemoryStore

from .helpers import Backend, new_book, open_account
from .test_expiry import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def timed(backend: Backend, clock: ManualClock) -> Ledger:
    return Ledger(backend.store, clock=clock)


def outbox_of(backend: Backend) -> list[OutboxEvent]:
    """The derived events a store holds, oldest first."""
    if isinstance(backend.store, MemoryStore):
        return list(backend.store.outbox)
    items: list[Any] = [
        item for (pk, _), item in sorted(backend.state().items()) if pk.startswith("OUTBOX#")
    ]
    return [outbox_event(item) for item in items]


def test_a_hold_is_noticed_once_within_the_notice_of_its_expiry(
    timed: Ledger, clock: ManualClock, backend: Backend
) -> None:
    # GIVEN holds expiring in 10 minutes, in 2 hours, and one without expiry
    book = new_book(timed)
    wallet = open_account(timed, book).id
    timed.deposit(wallet, "100.00")
    soon = timed.hold(wallet, "10.00", expires_in=600)
    later = timed.hold(wallet, "20.00", expires_in=7200)
    timed.hold(wallet, "5.00")
    # WHEN notices run with an hour's notice, twice
    first = timed.notice_expiring(3600)
    second = timed.notice_expiring(3600)
    # THEN only the hold expiring within the hour was noticed, and only once
    assert (first, second) == (1, 0)
    (notice,) = outbox_of(backend)
    assert notice.detail_type == events.entry_expiring
    assert notice.detail["id"] == soon.id
    assert notice.detail["expires_at"] is not None
    assert notice.ledger_id == book
    assert timed.get_entry(soon.id).expiring_noticed_at is not None
    # AND once time moves within the notice of the later hold, it is noticed too
    clock.advance(3700)
    assert timed.notice_expiring(3600) == 1
    assert [each.detail["id"] for each in outbox_of(backend)] == [soon.id, later.id]
    assert len({each.event_id for each in outbox_of(backend)}) == 2


def test_a_resolved_or_expired_hold_gets_no_notice(
    timed: Ledger, clock: ManualClock, backend: Backend
) -> None:
    # GIVEN a hold released, and one already past its expiry but not swept yet
    book = new_book(timed)
    wallet = open_account(timed, book).id
    timed.deposit(wallet, "100.00")
    released = timed.hold(wallet, "10.00", expires_in=600)
    timed.release_hold(released.id)
    lapsed = timed.hold(wallet, "10.00", expires_in=60)
    clock.advance(120)
    # WHEN notices run
    written = timed.notice_expiring(3600)
    # THEN neither got one: the expiry sweep takes the lapsed one
    assert written == 0
    assert outbox_of(backend) == []
    assert timed.get_entry(lapsed.id).status is EntryStatus.PENDING


def test_a_notice_refuses_a_hold_resolved_after_it_was_listed(backend: Backend) -> None:
    # GIVEN a hold released after a sweep listed it
    ledger = Ledger(backend.store)
    book = new_book(ledger)
    wallet = open_account(ledger, book).id
    ledger.deposit(wallet, "100.00")
    hold = ledger.hold(wallet, "10.00", expires_in=600)
    ledger.release_hold(hold.id)
    # WHEN the store is asked to notice it
    event = OutboxEvent("evt_x", events.entry_expiring, book, hold.created_at, {"id": hold.id})
    noticed = backend.store.notice_expiring(hold.id, hold.created_at, event)  # type: ignore[attr-defined]
    # THEN nothing is written
    assert noticed is False
    assert outbox_of(backend) == []


def test_a_notice_is_a_positive_time_within_the_longest_expiry(timed: Ledger) -> None:
    for notice_s in (0, -5, 366 * 24 * 3600 + 1):
        with pytest.raises(ValidationError):
            timed.notice_expiring(notice_s)


def test_the_notice_detail_is_the_entry_as_the_api_shows_it(
    timed: Ledger, backend: Backend
) -> None:
    # GIVEN a hold noticed
    book = new_book(timed)
    wallet = open_account(timed, book).id
    timed.deposit(wallet, "100.00")
    hold = timed.hold(wallet, "12.50", expires_in=60, reference="order-7")
    timed.notice_expiring(timedelta(minutes=5).seconds)
    # THEN its detail carries the entry's public fields, amounts as decimal strings
    (notice,) = outbox_of(backend)
    detail = json.loads(json.dumps(notice.detail))
    assert detail["reference"] == "order-7"
    assert detail["status"] == "pending"
    assert {line["amount"] for line in detail["lines"]} == {"12.50"}
    assert detail["id"] == hold.id
