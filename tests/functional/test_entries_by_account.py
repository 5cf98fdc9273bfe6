"""A ledger's entries filtered by account: newest first, page by page, each page bounded."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.domain import limits
from ledger.domain.errors import LedgerMismatch, NotFound, ValidationError
from ledger.domain.model import Account, Entry
from ledger.service import Ledger, LineInput

from .checks import refused
from .helpers import NothingWritten, missing_account_id, new_book, open_account, walk_pages


def _ids(pages: list[list[Entry]]) -> list[list[str]]:
    return [[entry.id for entry in page] for page in pages]


def _pages_of(
    ledger: Ledger, book: str, account: Account, limit: int, **filters: Any
) -> list[list[str]]:
    """Every page of the account's entries, as entry ids."""
    return _ids(
        walk_pages(
            lambda cursor: ledger.list_entries(
                book, account_id=account.id, limit=limit, cursor=cursor, **filters
            )
        )
    )


def test_entries_of_an_account_come_newest_first_whatever_its_side(
    ledger: Ledger, book: str
) -> None:
    # GIVEN entries on alice (in, out, pending, a multi-line one) among entries on others
    alice, bob, shop = (open_account(ledger, book) for _ in range(3))
    fees = open_account(ledger, book, type="revenue")
    alice_entries = [ledger.deposit(alice.id, "20.00")]
    ledger.deposit(bob.id, "50.00")
    ledger.transfer(bob.id, shop.id, "5.00")
    alice_entries.append(ledger.transfer(alice.id, bob.id, "3.00"))
    alice_entries.append(ledger.hold(alice.id, "4.00"))
    ledger.spend(bob.id, "1.00", counterparty_account_id=shop.id)
    alice_entries.append(
        ledger.create_entry(
            book,
            [
                LineInput(alice.id, "debit", "2.00"),
                LineInput(shop.id, "credit", "1.50"),
                LineInput(fees.id, "credit", "0.50"),
            ],
        )
    )
    ledger.transfer(shop.id, bob.id, "2.00")
    # WHEN alice's entries are listed two at a time
    pages = _pages_of(ledger, book, alice, limit=2)
    # THEN exactly hers come, newest first, each once, in full pages
    assert pages == [
        [alice_entries[3].id, alice_entries[2].id],
        [alice_entries[1].id, alice_entries[0].id],
    ]
    # AND each listed entry is the stored entry, with a line on alice
    listed = ledger.list_entries(book, account_id=alice.id).items
    assert listed == [ledger.get_entry(entry.id) for entry in alice_entries[::-1]]
    assert all(alice.id in {line.account_id for line in entry.lines} for entry in listed)


def test_page_stops_right_after_its_last_entry(ledger: Ledger, book: str) -> None:
    # GIVEN (oldest first) a deposit to alice, four deposits to bob, bob paying alice, and
    # one more deposit to bob
    alice, bob = open_account(ledger, book), open_account(ledger, book)
    first = ledger.deposit(alice.id, "1.00")
    to_bob = [ledger.deposit(bob.id, f"{index + 1}.00") for index in range(4)]
    payment = ledger.transfer(bob.id, alice.id, "1.00")
    last = ledger.deposit(bob.id, "9.00")
    # WHEN alice's entries are listed one at a time
    alice_pages = _pages_of(ledger, book, alice, limit=1)
    # THEN the last page is the oldest entry, and no empty page follows it
    assert alice_pages == [[payment.id], [first.id]]
    # WHEN bob's are listed three at a time
    bob_pages = _pages_of(ledger, book, bob, limit=3)
    # THEN the oldest entry (alice's) is read past on a last, empty page
    bob_entries = [entry.id for entry in (*to_bob, payment, last)][::-1]
    assert bob_pages == [bob_entries[:3], bob_entries[3:], []]


def test_page_examines_a_bounded_number_of_entries(
    ledger: Ledger, book: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a page bound of three index items, and (oldest first) a deposit to alice, four
    # deposits to bob, bob paying alice and one more deposit to bob
    monkeypatch.setattr(limits, "index_items_examined_per_page_max", 3)
    alice, bob = open_account(ledger, book), open_account(ledger, book)
    first = ledger.deposit(alice.id, "1.00")
    for index in range(4):
        ledger.deposit(bob.id, f"{index + 1}.00")
    payment = ledger.transfer(bob.id, alice.id, "1.00")
    ledger.deposit(bob.id, "9.00")
    # WHEN alice's entries are listed two at a time
    pages = _pages_of(ledger, book, alice, limit=2)
    # THEN each page reads at most three entries: a short page, an empty one, then the rest
    assert pages == [[payment.id], [], [first.id]]
    # AND the unfiltered listing is bounded the same way but fills its pages
    everything = _ids(walk_pages(lambda cursor: ledger.list_entries(book, limit=3, cursor=cursor)))
    assert [len(page) for page in everything] == [3, 3, 1]


def test_reference_and_account_filters_combine(ledger: Ledger, book: str) -> None:
    # GIVEN order-1 and order-2 entries on alice and on bob
    alice, bob = open_account(ledger, book), open_account(ledger, book)
    wanted = []
    for index in range(6):
        account = alice if index % 2 == 0 else bob
        reference = "order-1" if index % 3 != 2 else "order-2"
        entry = ledger.deposit(account.id, f"{index + 1}.00", reference=reference)
        if account is alice and reference == "order-1":
            wanted.append(entry.id)
    # WHEN alice's order-1 entries are listed one at a time
    pages = _pages_of(ledger, book, alice, limit=1, reference="order-1")
    # THEN exactly those come, newest first
    assert [entry_id for page in pages for entry_id in page] == wanted[::-1]
    assert len(wanted) == 2


def test_account_without_entries_lists_none(ledger: Ledger, book: str) -> None:
    # GIVEN an account that took no entry, in a ledger with entries
    idle, busy = open_account(ledger, book), open_account(ledger, book)
    ledger.deposit(busy.id, "1.00")
    # WHEN its entries are listed
    page = ledger.list_entries(book, account_id=idle.id)
    # THEN the page is empty and final
    assert (page.items, page.next_cursor) == ([], None)


def test_account_of_another_ledger_is_a_ledger_mismatch(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN an account with entries in another ledger
    foreign = open_account(ledger, new_book(ledger))
    ledger.deposit(foreign.id, "1.00")
    # WHEN this ledger's entries are listed by that account
    error = refused(
        nothing_written, lambda: ledger.list_entries(book, account_id=foreign.id), LedgerMismatch
    )
    # THEN it is refused as a ledger mismatch naming the field
    assert error.code == "ledger_mismatch"
    assert error.details == {"account_id": foreign.id, "field": "account_id"}


@pytest.mark.parametrize("well_formed", [True, False])
def test_missing_account_is_not_found(
    ledger: Ledger, book: str, nothing_written: NothingWritten, well_formed: bool
) -> None:
    # GIVEN an account id that names no account of the ledger (well-formed or not)
    ledger.deposit(open_account(ledger, book).id, "1.00")
    account_id = missing_account_id(book) if well_formed else "acc_?"
    # WHEN the ledger's entries are listed by it
    error = refused(
        nothing_written, lambda: ledger.list_entries(book, account_id=account_id), NotFound
    )
    # THEN the account is not found
    assert (error.code, error.details) == ("not_found", {"resource": "account", "id": account_id})


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"account_id": ""}, "account_id"),
        ({"account_id": 7}, "account_id"),
        ({"reference": " "}, "reference"),
        ({"limit": 0}, "limit"),
        ({"cursor": "garbage"}, "cursor"),
    ],
    ids=repr,
)
def test_malformed_account_filter_is_refused(
    ledger: Ledger,
    book: str,
    nothing_written: NothingWritten,
    filters: dict[str, Any],
    field: str,
) -> None:
    # GIVEN an account with an entry
    account = open_account(ledger, book)
    ledger.deposit(account.id, "1.00")
    # WHEN entries are listed with one malformed filter
    listing = {"account_id": account.id, **filters}
    error = refused(nothing_written, lambda: ledger.list_entries(book, **listing), ValidationError)
    # THEN the filter is named
    assert (error.code, error.details) == ("validation_error", {"field": field})


def test_cursor_of_another_ledger_is_refused(ledger: Ledger, book: str) -> None:
    # GIVEN a cursor from this ledger's account filter (two entries, one per page)
    account = open_account(ledger, book)
    ledger.deposit(account.id, "1.00")
    ledger.deposit(account.id, "2.00")
    cursor = ledger.list_entries(book, account_id=account.id, limit=1).next_cursor
    assert cursor is not None
    # WHEN it is given to another ledger's listing
    other = open_account(ledger, new_book(ledger))
    with pytest.raises(ValidationError) as caught:
        ledger.list_entries(other.ledger_id, account_id=other.id, cursor=cursor)
    # THEN it is refused
    assert caught.value.details == {"field": "cursor"}
