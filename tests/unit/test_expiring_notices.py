"""Expiring notices over the memory store: read in bounded pages, only for an entry with an
expiry, on a store that keeps an outbox; and the function's notice setting."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

import pytest

from ledger.domain import limits
from ledger.domain.model import Entry, Page
from ledger.environment import InvalidSetting, expiring_notice_s, expiring_notice_variable
from ledger.service import Ledger
from ledger.store.listings import ExpiredPending
from ledger.store.memory import MemoryStore

if TYPE_CHECKING:
    from ledger.store import R, Store
    from ledger.store.listings import Listing

start = datetime(2026, 1, 1, tzinfo=UTC)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class StrayListing(MemoryStore):
    """Lists one more entry, `stray`, on the first page of expiry shard 0."""

    stray: Entry | None = None

    def page(self, listing: Listing, limit: int, cursor: str | None, kind: type[R]) -> Page[R]:
        listed = super().page(listing, limit, cursor, kind)
        if not (isinstance(listing, ExpiredPending) and listing.shard == 0 and cursor is None):
            return listed
        items = list(listed.items)
        items.append(cast("R", self.stray))
        return Page(items, listed.next_cursor)


class NoOutbox:
    """A store with no outbox to write notices to (a read-only view, say)."""


def funded_wallet(ledger: Ledger) -> str:
    book = ledger.create_ledger("notices")
    wallet = ledger.create_account(book.id, "Wallet", "liability", "USD")
    ledger.deposit(wallet.id, "100.00")
    return wallet.id


def test_an_entry_listed_without_an_expiry_gets_no_notice() -> None:
    # GIVEN a listing that, besides a hold expiring in 10 minutes, lists one without expiry
    store = StrayListing()
    ledger = Ledger(store, clock=Clock())
    wallet = funded_wallet(ledger)
    expiring = ledger.hold(wallet, "1.00", expires_in=600)
    store.stray = ledger.hold(wallet, "2.00")
    # WHEN notices run with an hour's notice
    written = ledger.notice_expiring(3600)
    # THEN only the expiring hold was noticed
    assert written == 1
    assert [event.detail["id"] for event in store.outbox] == [expiring.id]
    assert ledger.get_entry(store.stray.id).expiring_noticed_at is None


def test_a_store_without_an_outbox_cannot_notice() -> None:
    # GIVEN a ledger over a store that keeps no outbox
    ledger = Ledger(cast("Store", NoOutbox()))
    # WHEN notices run / THEN they are refused, naming the store
    with pytest.raises(TypeError, match="NoOutbox cannot write expiring notices"):
        ledger.notice_expiring(3600)


def test_notices_read_bounded_pages_and_leave_the_rest_to_the_next_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN one expiry partition, pages of 2 and at most 2 pages per run
    monkeypatch.setattr(limits, "expiry_shards", 1)
    monkeypatch.setattr(limits, "expiry_sweep_page_size", 2)
    monkeypatch.setattr(limits, "expiry_sweep_pages_max", 2)
    # AND five holds expiring within the notice
    store = MemoryStore()
    clock = Clock()
    ledger = Ledger(store, clock=clock)
    wallet = funded_wallet(ledger)
    holds = [ledger.hold(wallet, "1.00", expires_in=60 + index) for index in range(5)]
    # WHEN notices run twice
    runs = [ledger.notice_expiring(3600) for _ in range(2)]
    # THEN the first took two pages of two, the earliest expiries first, and stopped; the
    # second read the same pages again (noticed entries stay listed until resolved)
    assert runs == [4, 0]
    assert [event.detail["id"] for event in store.outbox] == [hold.id for hold in holds[:4]]
    # AND once the earliest is resolved, the next run reaches the fifth
    ledger.release_hold(holds[0].id)
    assert ledger.notice_expiring(3600) == 1
    assert store.outbox[-1].detail["id"] == holds[4].id


@pytest.mark.parametrize("value", [None, "", "  "])
def test_an_unset_notice_is_the_default(monkeypatch: pytest.MonkeyPatch, value: str | None) -> None:
    # GIVEN LEDGER_EXPIRING_NOTICE_S unset or blank
    if value is None:
        monkeypatch.delenv(expiring_notice_variable, raising=False)
    else:
        monkeypatch.setenv(expiring_notice_variable, value)
    # WHEN the notice is read / THEN it is the default given
    assert expiring_notice_s(1234) == 1234


@pytest.mark.parametrize(
    ("value", "seconds"), [("1", 1), (" 900 ", 900), (str(limits.expires_in_s_max), 31622400)]
)
def test_a_notice_of_whole_seconds_within_the_longest_expiry_is_taken(
    monkeypatch: pytest.MonkeyPatch, value: str, seconds: int
) -> None:
    # GIVEN a notice set to a whole number of seconds in range
    monkeypatch.setenv(expiring_notice_variable, value)
    # WHEN it is read / THEN it is that number, not the default
    assert expiring_notice_s(3600) == seconds


@pytest.mark.parametrize(
    "value", ["0", "-5", "1.5", "1e3", "15m", "٣", str(limits.expires_in_s_max + 1)]
)
def test_an_unusable_notice_is_refused_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    # GIVEN a notice that is no whole number of seconds from 1 to the longest expiry
    monkeypatch.setenv(expiring_notice_variable, value)
    # WHEN it is read / THEN it is refused, naming the variable and the value
    with pytest.raises(InvalidSetting, match=f"{expiring_notice_variable} is {value!r}"):
        expiring_notice_s(3600)
