"""Account listings by ledger, type, owner and parent, walked page by page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ledger.domain.errors import NotFound, ValidationError
from ledger.domain.ids import world_account_id
from ledger.domain.model import Account, AccountType, Page
from ledger.domain.money import Currency
from ledger.service import Ledger

from .helpers import missing_account_id, new_book, open_account, walk_pages


def test_parent_listing_stays_inside_the_ledger(ledger: Ledger, book: str) -> None:
    # GIVEN a parent with a child in another ledger
    other = new_book(ledger)
    parent = open_account(ledger, other, type="asset")
    open_account(ledger, other, type="asset", parent_id=parent.id)
    # WHEN this ledger's accounts are listed under that parent
    listed = ledger.list_accounts(book, parent_id=parent.id).items
    # THEN no account of the other ledger is listed: the listing is this ledger's accounts
    assert [account.ledger_id for account in listed if account.ledger_id != book] == []


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": True}, "limit"),
        ({"limit": 2.0}, "limit"),
        ({"limit": "10"}, "limit"),
        ({"type": "cash"}, "type"),
        ({"owner_id": ""}, "owner_id"),
        ({"owner_id": "o" * 201}, "owner_id"),
        ({"parent_id": " "}, "parent_id"),
        ({"cursor": "garbage"}, "cursor"),
    ],
    ids=repr,
)
def test_malformed_account_listing_is_refused(
    ledger: Ledger, book: str, filters: dict[str, Any], field: str
) -> None:
    # GIVEN a listing request with one malformed filter
    # WHEN accounts are listed
    with pytest.raises(ValidationError) as caught:
        ledger.list_accounts(book, **filters)
    # THEN the filter is named
    assert caught.value.details == {"field": field}


def test_listing_a_malformed_ledger_is_not_found(ledger: Ledger) -> None:
    # GIVEN a malformed ledger id
    # WHEN its accounts or entries are listed
    for listing in (ledger.list_accounts, ledger.list_entries):
        with pytest.raises(NotFound) as caught:
            listing("ldg_?")
        # THEN the ledger is not found
        assert caught.value.details == {"resource": "ledger", "id": "ldg_?"}


def test_listing_limit_bounds_are_accepted(ledger: Ledger, book: str) -> None:
    # GIVEN two accounts (one plus the world account)
    open_account(ledger, book)
    # WHEN listed with the smallest and the largest limit
    smallest = ledger.list_accounts(book, limit=1)
    largest = ledger.list_accounts(book, limit=100)
    # THEN the pages hold one, and everything
    assert (len(smallest.items), smallest.next_cursor is not None) == (1, True)
    assert (len(largest.items), largest.next_cursor) == (2, None)


def test_ledger_listing_walks_every_account_once_as_it_is_now(ledger: Ledger, book: str) -> None:
    # GIVEN five accounts of mixed types and currencies, one funded, and another ledger's
    opened = [
        open_account(ledger, book, type=account_type, currency=currency)
        for account_type, currency in [
            ("asset", "USD"),
            ("liability", "USD"),
            ("liability", "EUR"),
            ("revenue", "USD"),
            ("expense", "EUR"),
        ]
    ]
    ledger.deposit(opened[1].id, "12.34")
    open_account(ledger, new_book(ledger))
    worlds = [world_account_id(book, Currency(code, 2)) for code in ("USD", "EUR")]
    # WHEN the ledger's accounts are listed three at a time
    pages = walk_pages(lambda cursor: ledger.list_accounts(book, limit=3, cursor=cursor))
    # THEN every account of the ledger, world accounts included, comes exactly once
    listed = [account for page in pages for account in page]
    assert [len(page) for page in pages] == [3, 3, 1]
    assert len({account.id for account in listed}) == len(listed)
    assert {account.id for account in listed} == {*(account.id for account in opened), *worlds}
    # AND each listed account is the account as it is now, balance included
    assert listed == [ledger.get_account(account.id) for account in listed]
    assert next(item for item in listed if item.id == opened[1].id).balance().posted == 1234


def test_type_listing_holds_only_that_type(ledger: Ledger, book: str) -> None:
    # GIVEN three assets and a liability
    assets = {open_account(ledger, book, type="asset").id for _ in range(3)}
    open_account(ledger, book, type="liability")
    # WHEN assets are listed two at a time
    pages = walk_pages(
        lambda cursor: ledger.list_accounts(book, type="asset", limit=2, cursor=cursor)
    )
    # THEN exactly the assets come, once each
    listed = [account.id for page in pages for account in page]
    assert [len(page) for page in pages] == [2, 1]
    assert sorted(listed) == sorted(assets)
    # AND the equity listing holds just the world account
    equity = ledger.list_accounts(book, type=AccountType.EQUITY).items
    assert [account.id for account in equity] == [world_account_id(book, Currency("USD", 2))]


def test_owner_listing_holds_only_that_owners_accounts(ledger: Ledger, book: str) -> None:
    # GIVEN three accounts of one holder in two types and currencies, and one of another
    mine = {
        open_account(ledger, book, type=account_type, currency=currency, owner_id="alice").id
        for account_type, currency in [("liability", "USD"), ("liability", "JPY"), ("asset", "USD")]
    }
    open_account(ledger, book, owner_id="bob")
    # WHEN alice's accounts are listed two at a time
    pages = walk_pages(
        lambda cursor: ledger.list_accounts(book, owner_id="alice", limit=2, cursor=cursor)
    )
    # THEN exactly hers come, once each
    listed = [account.id for page in pages for account in page]
    assert [len(page) for page in pages] == [2, 1]
    assert sorted(listed) == sorted(mine)
    # AND owner and type combine
    liabilities = ledger.list_accounts(book, owner_id="alice", type="liability").items
    assert len(liabilities) == 2
    assert {account.type for account in liabilities} == {AccountType.LIABILITY}


def test_parent_listing_walks_every_child(ledger: Ledger, book: str) -> None:
    # GIVEN a parent with three children and a grandchild
    parent = open_account(ledger, book, type="expense")
    children = [open_account(ledger, book, type="expense", parent_id=parent.id) for _ in range(3)]
    open_account(ledger, book, type="expense", parent_id=children[0].id)
    # WHEN its children are listed two at a time
    pages = walk_pages(
        lambda cursor: ledger.list_accounts(book, parent_id=parent.id, limit=2, cursor=cursor)
    )
    # THEN each direct child comes once
    listed = [account.id for page in pages for account in page]
    assert [len(page) for page in pages] == [2, 1]
    assert sorted(listed) == sorted(account.id for account in children)


def test_owner_and_parent_together_are_refused(ledger: Ledger, book: str) -> None:
    # GIVEN a ledger
    # WHEN accounts are listed by owner and parent at once
    with pytest.raises(ValidationError) as caught:
        ledger.list_accounts(book, owner_id="alice", parent_id=missing_account_id(book))
    # THEN it is refused
    assert caught.value.details == {"field": "owner_id"}


def test_cursor_of_another_listing_is_refused(ledger: Ledger, book: str) -> None:
    # GIVEN a cursor from one ledger's listing (an account and its world account)
    open_account(ledger, book)
    cursor = ledger.list_accounts(book, limit=1).next_cursor
    assert cursor is not None
    # WHEN it is given to the by-type listing, or to another ledger's listing
    other_listings: list[Callable[[], Page[Account]]] = [
        lambda: ledger.list_accounts(book, type="liability", cursor=cursor),
        lambda: ledger.list_accounts(new_book(ledger), cursor=cursor),
    ]
    for other_listing in other_listings:
        with pytest.raises(ValidationError) as caught:
            other_listing()
        # THEN it is refused
        assert caught.value.details == {"field": "cursor"}
