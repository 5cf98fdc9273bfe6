"""Code from docs/embedding.md runs unchanged on the client: the same method names, the
same arguments in the same order, and the same answers (in the API's JSON) modulo ids and
times."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from ledger import Ledger, LineInput, MemoryStore
from ledger.api.views import account_view, entry_view
from ledger.client import LedgerClient
from ledger.domain.model import Account, Entry

from .builders import token
from .conftest import DevServer, request_timeout_s

pytestmark = pytest.mark.xdist_group("e2e")

# Whatever differs between two runs of the same calls: ids, links (ids too), versions and
# the moments they ran at.
_varying = re.compile(r"(^|_)(id|at|of|by|version)$|^reverses$")


def _comparable(value: Any) -> Any:
    """The answer without its ids, times and versions, which differ from run to run."""
    if isinstance(value, dict):
        return {
            name: _comparable(item) for name, item in value.items() if not _varying.search(name)
        }
    if isinstance(value, list):
        return [_comparable(item) for item in value]
    return value


def _json(value: object) -> Any:
    """A library result as the API shows it; a client result is that JSON already."""
    if isinstance(value, Account):
        return account_view(value)
    if isinstance(value, Entry):
        return entry_view(value)
    return value


def _id(value: Any) -> str:
    return str(value["id"] if isinstance(value, dict) else value.id)


def embedding_snippet(books: Any, owner: str) -> list[Any]:
    """The calls of docs/embedding.md's "Moving money" and after, on a library or a client;
    every call below is the same text for both."""
    book = books.create_ledger("Payments", owner_id=owner)
    alice = books.create_account(
        _id(book), "Alice", "liability", "USD", overdraft="limit", credit_limit="50.00"
    )
    bob = books.create_account(_id(book), "Bob", "liability", "USD")
    fees = books.create_account(_id(book), "Card fees", "revenue", "USD", code="4000")
    merchant = books.create_account(_id(book), "Merchant", "liability", "USD")
    results: list[Any] = [alice, bob, fees, merchant]
    results.append(books.deposit(_id(alice), "100.00", reference="topup-1"))
    results.append(books.spend(_id(alice), Decimal("9.99"), reference="order-17"))
    results.append(books.transfer(_id(alice), _id(bob), "30.00"))
    lines = [
        LineInput(_id(alice), "debit", "10.00"),
        LineInput(_id(fees), "credit", "0.30"),
        LineInput(_id(merchant), "credit", "9.70"),
    ]
    results.append(books.create_entry(_id(book), lines, description="card payment"))
    hold = books.hold(_id(alice), "20.00", expires_in=3600)
    results.append(books.confirm_hold(_id(hold), "18.50"))
    pending = books.create_entry(
        _id(book),
        [LineInput(_id(alice), "debit", "5.00"), LineInput(_id(merchant), "credit", "5.00")],
        pending=True,
        expires_in=600,
    )
    results.append(books.post_entry(_id(pending), "4.00"))
    other = books.create_entry(
        _id(book),
        [LineInput(_id(alice), "debit", "1.00"), LineInput(_id(merchant), "credit", "1.00")],
        pending=True,
    )
    results.append(books.void_entry(_id(other)))
    charge = books.spend(_id(alice), "12.00", reference="order-18")
    results.append(books.reverse_entry(_id(charge), description="duplicate charge"))
    results.append(books.update_account(_id(alice), overdraft="limit", credit_limit="100.00"))
    results.append(books.update_account(_id(bob), status="suspended"))
    results.append(books.update_account(_id(bob), name="Robert", metadata={"tier": "gold"}))
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
    # THEN every call answers the same, ids and times aside
    assert [_comparable(_json(result)) for result in embedded] == [
        _comparable(result) for result in remote
    ]
