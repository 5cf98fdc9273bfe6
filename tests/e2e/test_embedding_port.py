"""Code from docs/embedding.md runs unchanged on the client: the same method names, the
same arguments in the same order, and the same typed answers modulo ids and times."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from dev_process import request_timeout_s
from ledger import Ledger, LineInput, MemoryStore
from ledger.client import LedgerClient
from ledger.domain.model import Account, Entry
from ledger.domain.views import account_view, entry_view

from .builders import token
from .conftest import DevServer

pytestmark = pytest.mark.xdist_group("e2e")

# Whatever differs between two runs of the same calls: ids, links (ids too), versions, the
# moments they ran at, and the actor (the API names its request; the library, no one).
_varying = re.compile(r"(^|_)(id|at|of|by|version)$|^(reverses|actor)$")


def _comparable(value: Any) -> Any:
    """The answer without its ids, times and versions, which differ from run to run."""
    if isinstance(value, dict):
        return {
            name: _comparable(item) for name, item in value.items() if not _varying.search(name)
        }
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    return value


def _json(value: Account | Entry) -> Any:
    """A result as the API shows it, to compare field by field."""
    return account_view(value) if isinstance(value, Account) else entry_view(value)


def embedding_snippet(books: Any, owner: str) -> list[Any]:
    """The calls of docs/embedding.md's "Moving money" and after, on a library or a client;
    every call below is the same text for both."""
    book = books.create_ledger("Payments", owner_id=owner)
    alice = books.create_account(
        book.id, "Alice", "liability", "USD", overdraft="limit", credit_limit="50.00"
    )
    bob = books.create_account(book.id, "Bob", "liability", "USD")
    fees = books.create_account(book.id, "Card fees", "revenue", "USD", code="4000")
    merchant = books.create_account(book.id, "Merchant", "liability", "USD")
    results: list[Any] = [alice, bob, fees, merchant]
    results.append(books.deposit(alice.id, "100.00", reference="topup-1"))
    results.append(books.spend(alice.id, Decimal("9.99"), reference="order-17"))
    results.append(books.transfer(alice.id, bob.id, "30.00"))
    lines = [
        LineInput(alice.id, "debit", "10.00"),
        LineInput(fees.id, "credit", "0.30"),
        LineInput(merchant.id, "credit", "9.70"),
    ]
    results.append(books.create_entry(book.id, lines, description="card payment"))
    hold = books.hold(alice.id, "20.00", expires_in=3600)
    results.append(books.confirm_hold(hold.id, "18.50"))
    pending = books.create_entry(
        book.id,
        [LineInput(alice.id, "debit", "5.00"), LineInput(merchant.id, "credit", "5.00")],
        pending=True,
        expires_in=600,
    )
    results.append(books.post_entry(pending.id, "4.00"))
    other = books.create_entry(
        book.id,
        [LineInput(alice.id, "debit", "1.00"), LineInput(merchant.id, "credit", "1.00")],
        pending=True,
    )
    results.append(books.void_entry(other.id))
    charge = books.spend(alice.id, "12.00", reference="order-18")
    results.append(books.reverse_entry(charge.id, description="duplicate charge"))
    results.append(books.update_account(alice.id, overdraft="limit", credit_limit="100.00"))
    results.append(books.update_account(bob.id, status="suspended"))
    results.append(books.update_account(bob.id, name="Robert", metadata={"tier": "gold"}))
    return results


@pytest.fixture(scope="module")
def client(dev_server: DevServer) -> LedgerClient:
    """A client with the admin key."""
    return LedgerClient(dev_server.url, dev_server.admin_key, timeout_s=request_timeout_s)


def test_embedding_code_runs_on_the_client_with_the_same_answers(client: LedgerClient) -> None:
    # GIVEN the embedding guide's calls, and a library over a memory store
    library = Ledger(MemoryStore())
    run: Callable[[Any], list[Any]] = lambda books: embedding_snippet(books, f"o-{token()}")  # noqa: E731
    # WHEN the same code runs on the library and on the client against `ledger dev`
    embedded = run(library)
    remote = run(client)
    # THEN every call answers with the same type and the same fields, ids and times aside
    assert [type(result) for result in remote] == [type(result) for result in embedded]
    assert [_comparable(_json(result)) for result in embedded] == [
        _comparable(_json(result)) for result in remote
    ]
    # AND the amounts are the library's integer minor units on both
    assert [result.balance().posted for result in remote[-2:]] == [
        result.balance().posted for result in embedded[-2:]
    ]
