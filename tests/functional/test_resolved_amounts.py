"""A resolved pending entry shows, on every store, how much of it was posted and how much
released, so a reader of the pending entry and its posting entry never counts twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ledger.domain.model import EntryStatus
from ledger.service import Ledger

from .helpers import Backend, new_book, open_account


def _wallet(ledger: Ledger, book: str) -> str:
    wallet = open_account(ledger, book).id
    ledger.deposit(wallet, "100.00")
    return wallet


def test_a_partial_post_shows_what_was_posted_and_what_was_released(
    ledger: Ledger, book: str
) -> None:
    # GIVEN a pending hold of 50.00
    wallet = _wallet(ledger, book)
    hold = ledger.hold(wallet, "50.00")
    assert (hold.posted_amount, hold.released_amount) == (None, None)
    # WHEN 30.00 of it are confirmed
    resolved = ledger.confirm_hold(hold.id, "30.00")
    # THEN the hold shows 30.00 posted and 20.00 released, as returned and as read back
    stored = ledger.get_entry(hold.id)
    assert (stored.posted_amount, stored.released_amount) == (3000, 2000)
    assert stored == resolved
    # AND the posting entry carries the 30.00, so pending entry and posting add up once
    assert stored.posting_entry_id is not None
    posting = ledger.get_entry(stored.posting_entry_id)
    assert [line.amount for line in posting.lines] == [3000, 3000]
    assert ledger.get_balance(wallet).posted == 7000


def test_a_full_post_and_a_release_show_all_posted_or_all_released(
    ledger: Ledger, book: str
) -> None:
    # GIVEN two pending holds of 10.00
    wallet = _wallet(ledger, book)
    confirmed, released = ledger.hold(wallet, "10.00"), ledger.hold(wallet, "10.00")
    # WHEN one is confirmed whole and the other released
    ledger.confirm_hold(confirmed.id)
    ledger.release_hold(released.id)
    # THEN the first shows all posted, the second all released
    first, second = ledger.get_entry(confirmed.id), ledger.get_entry(released.id)
    assert (first.status, first.posted_amount, first.released_amount) == (
        EntryStatus.POSTED,
        1000,
        0,
    )
    assert (second.status, second.posted_amount, second.released_amount) == (
        EntryStatus.VOIDED,
        0,
        1000,
    )


def test_an_expired_hold_shows_all_released(backend: Backend) -> None:
    # GIVEN a hold of 10.00 expiring in a second, on a clock the test moves
    now = [datetime.now(UTC)]
    timed = Ledger(backend.store, clock=lambda: now[0])
    book = new_book(timed)
    wallet = _wallet(timed, book)
    hold = timed.hold(wallet, "10.00", expires_in=1)
    # WHEN it has expired and the sweeper runs
    now[0] += timedelta(seconds=2)
    assert timed.expire_pending() == 1
    # THEN the hold shows its whole amount released and nothing posted
    expired = timed.get_entry(hold.id)
    assert (expired.status, expired.posted_amount, expired.released_amount) == (
        EntryStatus.EXPIRED,
        0,
        1000,
    )
