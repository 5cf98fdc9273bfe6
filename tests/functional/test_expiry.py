"""Expiry on every store: past `expires_at` a pending entry can no longer be posted, and
the sweeper voids it as expired, found through the sparse expiry index in bounded pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ledger.domain import limits
from ledger.domain.errors import AlreadyResolved, PendingExpired
from ledger.domain.model import Entry, EntryStatus
from ledger.service import Ledger, LineInput
from ledger.store.listings import ExpiredPending

from .checks import assert_invariants
from .helpers import Backend, NothingWritten, new_book, open_account

far_future = timedelta(days=10_000)


class ManualClock:
    """A clock the test moves; each reading is one millisecond after the previous."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> ManualClock:
    """The time of the ledger under test."""
    return ManualClock()


@pytest.fixture
def timed(backend: Backend, clock: ManualClock) -> Ledger:
    """The library facade over the store under test, on the test's clock."""
    return Ledger(backend.store, clock=clock)


def _wallet(ledger: Ledger, book: str) -> str:
    wallet = open_account(ledger, book).id
    ledger.deposit(wallet, "100.00")
    return wallet


def _indexed_as_expired(backend: Backend, moment: datetime) -> set[str]:
    """The ids the expiry index lists as expired by `moment`, over every shard."""
    found: set[str] = set()
    for shard in range(limits.expiry_shards):
        page = backend.store.page(ExpiredPending(shard, moment), 100, None, Entry)
        assert page.next_cursor is None
        found.update(entry.id for entry in page.items)
    return found


def _expired_post(ledger: Ledger, nothing_written: NothingWritten, entry_id: str) -> PendingExpired:
    with nothing_written(), pytest.raises(PendingExpired) as caught:
        ledger.confirm_hold(entry_id)
    return caught.value


def test_a_hold_past_its_expiry_cannot_be_confirmed_and_is_swept(
    timed: Ledger, clock: ManualClock, nothing_written: NothingWritten, backend: Backend
) -> None:
    # GIVEN a hold of 30.00 expiring in a minute
    book = new_book(timed)
    wallet = _wallet(timed, book)
    hold = timed.hold(wallet, "30.00", expires_in=60)
    assert hold.expires_at == hold.created_at + timedelta(seconds=60)
    # WHEN the sweeper runs before the expiry
    with nothing_written():
        early = timed.expire_pending()
    # THEN it leaves the hold alone
    assert early == 0
    assert timed.get_entry(hold.id).status is EntryStatus.PENDING
    # WHEN the minute has passed and the hold is confirmed
    clock.advance(61)
    error = _expired_post(timed, nothing_written, hold.id)
    # THEN it is refused as expired
    assert (error.code, error.status, error.details) == (
        "pending_expired",
        422,
        {"entry_id": hold.id},
    )
    # WHEN the sweeper runs
    swept = timed.expire_pending()
    # THEN it expires the hold and gives the wallet its money back
    assert swept == 1
    expired = timed.get_entry(hold.id)
    assert (expired.status, expired.posting_entry_id) == (EntryStatus.EXPIRED, None)
    balance = timed.get_balance(wallet)
    assert (balance.posted, balance.pending_out, balance.held, balance.available) == (
        10000,
        0,
        0,
        10000,
    )
    # AND the hold is resolved for good: nothing more to sweep, confirm or release
    with nothing_written():
        again = timed.expire_pending()
    assert again == 0
    for attempt in (timed.confirm_hold, timed.release_hold):
        with nothing_written(), pytest.raises(AlreadyResolved):
            attempt(hold.id)
    assert_invariants(backend, book)


def test_only_unresolved_entries_past_their_expiry_are_swept(
    timed: Ledger, clock: ManualClock, backend: Backend
) -> None:
    # GIVEN holds and escrows expiring in a minute (one confirmed, one released, one
    # refunded, two left pending), one expiring in a day, and one that never expires
    book = new_book(timed)
    wallet, seller = _wallet(timed, book), open_account(timed, book).id
    confirmed, released, left = (timed.hold(wallet, "1.00", expires_in=60) for _ in range(3))
    refunded, escrowed = (timed.escrow(wallet, seller, "2.00", expires_in=60) for _ in range(2))
    tomorrow = timed.hold(wallet, "4.00", expires_in=86_400)
    forever = timed.hold(wallet, "8.00")
    timed.confirm_hold(confirmed.id)
    timed.release_hold(released.id)
    timed.refund_escrow(refunded.id)
    # WHEN a minute passes and the sweeper runs
    clock.advance(61)
    swept = timed.expire_pending()
    # THEN it expires exactly the two left pending
    assert swept == 2
    statuses = {
        name: timed.get_entry(entry.id).status
        for name, entry in {
            "confirmed": confirmed,
            "released": released,
            "left": left,
            "refunded": refunded,
            "escrowed": escrowed,
            "tomorrow": tomorrow,
            "forever": forever,
        }.items()
    }
    assert statuses == {
        "confirmed": EntryStatus.POSTED,
        "released": EntryStatus.VOIDED,
        "left": EntryStatus.EXPIRED,
        "refunded": EntryStatus.VOIDED,
        "escrowed": EntryStatus.EXPIRED,
        "tomorrow": EntryStatus.PENDING,
        "forever": EntryStatus.PENDING,
    }
    # AND the expired escrow's money is the buyer's again; the seller expects nothing
    wallet_balance = timed.get_balance(wallet)
    assert (wallet_balance.posted, wallet_balance.held, wallet_balance.escrowed) == (9900, 1200, 0)
    assert timed.get_balance(seller).pending_in == 0
    # AND only the entry with a later expiry is left in the expiry index
    assert _indexed_as_expired(backend, clock.now + far_future) == {tomorrow.id}
    # WHEN far more time passes
    clock.advance(far_future.total_seconds())
    # THEN the day-long hold expires too, but the one without expiry never does
    assert timed.expire_pending() == 1
    assert timed.get_entry(tomorrow.id).status is EntryStatus.EXPIRED
    assert timed.get_entry(forever.id).status is EntryStatus.PENDING
    assert _indexed_as_expired(backend, clock.now + far_future) == set()
    assert_invariants(backend, book)


def test_a_pending_entry_past_its_expiry_can_still_be_voided(
    timed: Ledger, clock: ManualClock, nothing_written: NothingWritten, backend: Backend
) -> None:
    # GIVEN a pending raw entry that expired, not yet swept
    book = new_book(timed)
    wallet, payee = _wallet(timed, book), open_account(timed, book).id
    pending = timed.create_entry(
        book,
        [LineInput(wallet, "debit", "5.00"), LineInput(payee, "credit", "5.00")],
        pending=True,
        expires_in=1,
    )
    clock.advance(2)
    # WHEN posting it and then voiding it
    with nothing_written(), pytest.raises(PendingExpired):
        timed.post_entry(pending.id)
    voided = timed.void_entry(pending.id)
    # THEN the post is refused but the void releases it, and the sweeper has nothing left
    assert voided.status is EntryStatus.VOIDED
    with nothing_written():
        assert timed.expire_pending() == 0
    assert timed.get_balance(wallet).available == 10000
    assert_invariants(backend, book)


def test_expiry_releases_holds_of_suspended_accounts(
    timed: Ledger, clock: ManualClock, backend: Backend
) -> None:
    # GIVEN a hold on a wallet that is then suspended
    book = new_book(timed)
    wallet = _wallet(timed, book)
    hold = timed.hold(wallet, "30.00", expires_in=60)
    timed.update_account(wallet, status="suspended")
    # WHEN the hold expires and the sweeper runs
    clock.advance(61)
    swept = timed.expire_pending()
    # THEN the hold is expired anyway: releasing money needs no active account
    assert swept == 1
    assert timed.get_entry(hold.id).status is EntryStatus.EXPIRED
    assert timed.get_balance(wallet).held == 0
    assert_invariants(backend, book)


def test_the_sweeper_reads_bounded_pages(
    timed: Ledger, clock: ManualClock, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN one expiry partition, pages of 2 and at most 2 pages per sweep
    monkeypatch.setattr(limits, "expiry_shards", 1)
    monkeypatch.setattr(limits, "expiry_sweep_page_size", 2)
    monkeypatch.setattr(limits, "expiry_sweep_pages_max", 2)
    # AND five holds that expire
    book = new_book(timed)
    wallet = _wallet(timed, book)
    holds = [timed.hold(wallet, "1.00", expires_in=60) for _ in range(5)]
    clock.advance(61)
    # WHEN the sweeper runs
    first = timed.expire_pending()
    # THEN it expires two pages of two, the oldest expiries first, and stops
    assert first == 4
    statuses = [timed.get_entry(hold.id).status for hold in holds]
    assert statuses == [EntryStatus.EXPIRED] * 4 + [EntryStatus.PENDING]
    # AND the next sweeps take the rest, then find nothing
    assert [timed.expire_pending() for _ in range(2)] == [1, 0]
    assert timed.get_entry(holds[-1].id).status is EntryStatus.EXPIRED
    assert _indexed_as_expired(backend, clock.now + far_future) == set()
    assert timed.get_balance(wallet).held == 0
    assert_invariants(backend, book)
