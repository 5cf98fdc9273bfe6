"""Shared vocabulary of the functional tests: the store view, account openers, page walkers."""

from __future__ import annotations

import secrets
from collections import defaultdict
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from ledger.domain.ids import new_account_id
from ledger.domain.model import Account, Page, Side
from ledger.domain.money import builtin_currencies
from ledger.service import Ledger
from ledger.store import Store

T = TypeVar("T")

# Every stored item by its primary key (pk, sk), as the store holds it.
State = Mapping[tuple[str, str], object]
# `with nothing_written(): ...` fails if the block changed any stored item.
NothingWritten = Callable[[], AbstractContextManager[None]]

# Far more pages than any test writes: a listing that never ends fails instead of hanging.
pages_max = 100


class Backend(Protocol):
    """A store under test together with a view of everything it holds."""

    @property
    def store(self) -> Store:
        """The store the ledger writes to."""

    def state(self) -> State:
        """A snapshot of every stored item."""


def random_owner() -> str:
    """An owner id no other test uses."""
    return f"owner-{secrets.token_hex(6)}"


def new_book(ledger: Ledger, owner_id: str | None = None) -> str:
    """Create a ledger and return its id."""
    return ledger.create_ledger("Books", owner_id=owner_id or random_owner()).id


def open_account(
    ledger: Ledger,
    ledger_id: str,
    type: str = "liability",
    currency: str = "USD",
    **options: Any,
) -> Account:
    """Open an account with a random name; `options` go to create_account as they are."""
    name = f"{type} {secrets.token_hex(3)}"
    return ledger.create_account(ledger_id, name, type, currency, **options)


def missing_account_id(ledger_id: str, currency: str = "USD", side: Side = Side.CREDIT) -> str:
    """A well-formed account id of `ledger_id` that names no stored account."""
    return new_account_id(ledger_id, builtin_currencies[currency], side, None)


def walk_pages(fetch: Callable[[str | None], Page[T]]) -> list[list[T]]:
    """Every page of a listing, following next_cursor until it is None."""
    pages: list[list[T]] = []
    cursor: str | None = None
    for _ in range(pages_max):
        page = fetch(cursor)
        pages.append(page.items)
        cursor = page.next_cursor
        if cursor is None:
            return pages
    raise AssertionError(f"listing still had a next_cursor after {pages_max} pages")


def all_accounts(ledger: Ledger, ledger_id: str, page_size: int = 3) -> list[Account]:
    """Every account of a ledger, world accounts included, walked page by page."""
    pages = walk_pages(
        lambda cursor: ledger.list_accounts(ledger_id, limit=page_size, cursor=cursor)
    )
    return [account for page in pages for account in page]


def posted_totals_by_currency(accounts: list[Account]) -> dict[str, tuple[int, int]]:
    """Per currency, the sum of posted debits and the sum of posted credits."""
    debits: dict[str, int] = defaultdict(int)
    credits: dict[str, int] = defaultdict(int)
    for account in accounts:
        debits[account.currency.code] += account.totals.posted_debits
        credits[account.currency.code] += account.totals.posted_credits
    return {code: (debits[code], credits[code]) for code in debits.keys() | credits.keys()}


@dataclass(frozen=True)
class Books:
    """Two ledgers of one owner with accounts in every state a refused request may meet."""

    owner_id: str
    ledger_id: str
    other_ledger_id: str
    wallet: Account  # liability, USD, holds 100.00 (deposited from the bank, key "fund-wallet")
    payee: Account  # liability, USD, empty
    bank: Account  # asset, USD, holds 100.00 (the wallet's deposit came from it)
    credit: Account  # liability, USD, 5.00 of its own and a 50.00 credit line
    euro: Account  # liability, EUR, holds 10.00
    points: Account  # liability, POINTS (registered with scale 0), holds 7
    suspended: Account  # liability, USD, suspended
    closed: Account  # liability, USD, closed
    expense: Account  # expense, USD, code "6000"
    revenue: Account  # revenue, USD
    keyed: Account  # liability, USD, opened with idempotency key "open-1"
    foreign: Account  # liability, USD, in the other ledger


def build_books(ledger: Ledger) -> Books:
    """Create the `Books` every refusal test starts from."""
    owner = random_owner()
    ledger_id = ledger.create_ledger("Main", owner_id=owner, idempotency_key="books-1").id
    other_ledger_id = ledger.create_ledger("Other", owner_id=owner).id
    ledger.register_currency(ledger_id, "POINTS", 0)
    books = Books(
        owner_id=owner,
        ledger_id=ledger_id,
        other_ledger_id=other_ledger_id,
        wallet=open_account(ledger, ledger_id, code="2000"),
        payee=open_account(ledger, ledger_id),
        bank=open_account(ledger, ledger_id, type="asset", code="1000"),
        credit=open_account(ledger, ledger_id, overdraft="limit", credit_limit="50.00"),
        euro=open_account(ledger, ledger_id, currency="EUR"),
        points=open_account(ledger, ledger_id, currency="POINTS"),
        suspended=open_account(ledger, ledger_id),
        closed=open_account(ledger, ledger_id),
        expense=open_account(ledger, ledger_id, type="expense", code="6000"),
        revenue=open_account(ledger, ledger_id, type="revenue"),
        keyed=ledger.create_account(
            ledger_id, "Keyed", "liability", "USD", idempotency_key="open-1"
        ),
        foreign=open_account(ledger, other_ledger_id),
    )
    ledger.deposit(
        books.wallet.id,
        "100.00",
        counterparty_account_id=books.bank.id,
        idempotency_key="fund-wallet",
    )
    ledger.deposit(books.credit.id, "5.00")
    ledger.deposit(books.euro.id, "10.00")
    ledger.deposit(books.points.id, "7")
    ledger.update_account(books.suspended.id, status="suspended")
    ledger.update_account(books.closed.id, status="closed")
    return books
