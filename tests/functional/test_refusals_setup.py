"""Refused ledger, currency and account requests: the exact error, and nothing written.

Every test here only sends requests that must fail, so the module shares one set of
`books` per store; each test checks that its request left every stored item alone.
"""

from __future__ import annotations

from typing import Any

import pytest

from ledger.domain.errors import (
    AccountInactive,
    AccountNotEmpty,
    CodeTaken,
    IdempotencyKeyReused,
    LedgerMismatch,
    NotFound,
    TypeMismatch,
    ValidationError,
)
from ledger.domain.ids import new_ledger_id, world_account_id
from ledger.domain.model import Side
from ledger.domain.money import Currency
from ledger.service import Ledger

from .helpers import Books, NothingWritten, missing_account_id, open_account, random_owner

# Ledgers


@pytest.mark.parametrize(
    "ledger_id",
    [new_ledger_id(None, None), "ldg_nope", "", "acc_x"],
    ids=["well-formed", "short", "empty", "account-prefix"],
)
def test_missing_ledger_is_not_found(shared_ledger: Ledger, ledger_id: str) -> None:
    # GIVEN an id of no stored ledger (well-formed or not)
    # WHEN it is read
    with pytest.raises(NotFound) as caught:
        shared_ledger.get_ledger(ledger_id)
    # THEN the error names the resource and the id
    assert caught.value.code == "not_found"
    assert caught.value.details == {"resource": "ledger", "id": ledger_id}


@pytest.mark.parametrize(
    "change", [{"name": "Other books"}, {"metadata": {"a": "2"}}], ids=["name", "metadata"]
)
def test_ledger_key_with_another_body_is_refused(
    shared_ledger: Ledger,
    books: Books,
    shared_nothing_written: NothingWritten,
    change: dict[str, Any],
) -> None:
    # GIVEN the ledger "Main" created with key "books-1"
    request: dict[str, Any] = {"name": "Main", "owner_id": books.owner_id, **change}
    # WHEN the key comes back with a different body
    with shared_nothing_written(), pytest.raises(IdempotencyKeyReused) as caught:
        shared_ledger.create_ledger(**request, idempotency_key="books-1")
    # THEN the request is refused
    assert caught.value.code == "idempotency_key_reused"


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"name": 5}, "name"),
        ({"owner_id": "o" * 201}, "owner_id"),
        ({"owner_id": ""}, "owner_id"),
        ({"metadata": {"k": 1}}, "metadata.k"),
        ({"metadata": ["k"]}, "metadata"),
        ({"idempotency_key": ""}, "idempotency_key"),
        ({"idempotency_key": "k" * 256}, "idempotency_key"),
    ],
    ids=lambda value: repr(value)[:30],
)
def test_malformed_ledger_is_refused(
    shared_ledger: Ledger,
    shared_nothing_written: NothingWritten,
    arguments: dict[str, Any],
    field: str,
) -> None:
    # GIVEN a request with one malformed field
    request: dict[str, Any] = {"name": "Books", "owner_id": random_owner(), **arguments}
    # WHEN the ledger is created
    with shared_nothing_written(), pytest.raises(ValidationError) as caught:
        shared_ledger.create_ledger(**request)
    # THEN the field is named
    assert caught.value.code == "validation_error"
    assert caught.value.details == {"field": field}


@pytest.mark.parametrize("owner_id", ["", " ", "o" * 201, 7], ids=repr)
def test_list_ledgers_refuses_a_malformed_owner(shared_ledger: Ledger, owner_id: Any) -> None:
    # GIVEN a blank, overlong or non-text owner
    # WHEN ledgers are listed for it
    with pytest.raises(ValidationError) as caught:
        shared_ledger.list_ledgers(owner_id)
    # THEN the owner is named
    assert caught.value.details == {"field": "owner_id"}


def test_list_ledgers_refuses_a_foreign_or_garbled_cursor(
    shared_ledger: Ledger, books: Books
) -> None:
    # GIVEN a cursor from the listing of an owner with two ledgers
    cursor = shared_ledger.list_ledgers(books.owner_id, limit=1).next_cursor
    assert cursor is not None
    # WHEN it is used for another owner's listing, or garbled
    for owner, bad in (
        (random_owner(), cursor),
        (books.owner_id, "not-a-cursor!"),
        (books.owner_id, cursor[:-3]),
        (books.owner_id, "e30"),
    ):
        with pytest.raises(ValidationError) as caught:
            shared_ledger.list_ledgers(owner, cursor=bad)
        # THEN it is refused
        assert caught.value.details == {"field": "cursor"}, bad


# Currencies


@pytest.mark.parametrize("code", ["POINTS", "MILES"])
def test_currency_unknown_to_the_ledger_is_refused(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten, code: str
) -> None:
    # GIVEN a ledger that registered no currency (POINTS is registered in another ledger)
    # WHEN it opens an account in one
    with shared_nothing_written(), pytest.raises(ValidationError) as caught:
        open_account(shared_ledger, books.other_ledger_id, currency=code)
    # THEN the currency is named
    assert caught.value.details == {"field": "currency"}


@pytest.mark.parametrize(("code", "scale"), [("USD", 2), ("USD", 3), ("JPY", 0), ("ETH", 18)])
def test_builtin_currency_cannot_be_registered(
    shared_ledger: Ledger,
    books: Books,
    shared_nothing_written: NothingWritten,
    code: str,
    scale: int,
) -> None:
    # GIVEN a built-in currency
    # WHEN a ledger registers it, with its own scale or another
    with shared_nothing_written(), pytest.raises(ValidationError) as caught:
        shared_ledger.register_currency(books.ledger_id, code, scale)
    # THEN it is refused
    assert caught.value.details == {"field": "currency"}


def test_registered_currency_cannot_change_scale(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten
) -> None:
    # GIVEN POINTS registered with scale 0
    # WHEN it is registered again with scale 2
    with shared_nothing_written(), pytest.raises(ValidationError) as caught:
        shared_ledger.register_currency(books.ledger_id, "POINTS", 2)
    # THEN it is refused and the scale stays 0
    assert caught.value.details == {"field": "scale"}
    assert shared_ledger.get_ledger(books.ledger_id).currencies == {"POINTS": 0}


def test_registering_the_same_scale_again_changes_nothing(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten
) -> None:
    # GIVEN POINTS registered with scale 0
    # WHEN it is registered again with the same scale
    with shared_nothing_written():
        again = shared_ledger.register_currency(books.ledger_id, "POINTS", 0)
    # THEN the call succeeds without a change
    assert again == Currency("POINTS", 0)


@pytest.mark.parametrize(
    ("code", "scale", "field"),
    [
        ("points", 0, "currency"),
        ("P", 0, "currency"),
        ("P" * 13, 0, "currency"),
        ("", 0, "currency"),
        (5, 0, "currency"),
        ("MILES", 19, "scale"),
        ("MILES", -1, "scale"),
        ("MILES", True, "scale"),
        ("MILES", "2", "scale"),
        ("MILES", 1.0, "scale"),
    ],
    ids=repr,
)
def test_malformed_registration_is_refused(
    *,
    shared_ledger: Ledger,
    books: Books,
    shared_nothing_written: NothingWritten,
    code: Any,
    scale: Any,
    field: str,
) -> None:
    # GIVEN a malformed code or scale
    # WHEN it is registered
    with shared_nothing_written(), pytest.raises(ValidationError) as caught:
        shared_ledger.register_currency(books.ledger_id, code, scale)
    # THEN the field is named
    assert caught.value.details == {"field": field}


@pytest.mark.parametrize(
    "ledger_id", [new_ledger_id(None, None), "ldg_bad"], ids=["well-formed", "malformed"]
)
def test_registration_in_a_missing_ledger_is_not_found(
    shared_ledger: Ledger, shared_nothing_written: NothingWritten, ledger_id: str
) -> None:
    # GIVEN an id of no stored ledger
    # WHEN a currency is registered in it
    with shared_nothing_written(), pytest.raises(NotFound) as caught:
        shared_ledger.register_currency(ledger_id, "POINTS", 0)
    # THEN the ledger is not found
    assert caught.value.details == {"resource": "ledger", "id": ledger_id}


# Accounts


@pytest.mark.parametrize("account_id", ["acc_nope", "", "ldg_aaaaaaaaaaaaaaaa"])
def test_malformed_account_id_is_not_found(shared_ledger: Ledger, account_id: str) -> None:
    # GIVEN an id no account can have
    # WHEN its balance is read
    with pytest.raises(NotFound) as caught:
        shared_ledger.get_balance(account_id)
    # THEN it is not found, by that id
    assert caught.value.details == {"resource": "account", "id": account_id}


def test_well_formed_id_of_a_missing_account_is_not_found(
    shared_ledger: Ledger, books: Books
) -> None:
    # GIVEN well-formed ids of accounts never opened, some forged from a real one
    real = books.wallet.id
    for account_id in (
        missing_account_id(books.ledger_id),
        real.replace("USD-2-c", "USD-2-d"),
        real.replace("USD-2-c", "USD-3-c"),
        real.replace("USD-2-c", "EUR-2-c"),
    ):
        # WHEN it is read
        with pytest.raises(NotFound) as caught:
            shared_ledger.get_account(account_id)
        # THEN it is not found, by that id
        assert caught.value.details == {"resource": "account", "id": account_id}


def test_code_is_unique_in_its_ledger(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten
) -> None:
    # GIVEN the bank account holds code "1000"
    # WHEN another account of the ledger asks for it, in another type and currency
    with shared_nothing_written(), pytest.raises(CodeTaken) as caught:
        open_account(shared_ledger, books.ledger_id, currency="EUR", code="1000")
    # THEN it is refused, naming the code
    assert caught.value.code == "code_taken"
    assert caught.value.details == {"field": "code", "code": "1000"}


@pytest.mark.parametrize("code", ["", " ", "has space", "-leading", "a#b", "x" * 101, 7], ids=repr)
def test_malformed_code_is_refused(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten, code: Any
) -> None:
    # GIVEN a code with forbidden characters or length
    # WHEN an account is opened with it
    with shared_nothing_written(), pytest.raises(ValidationError) as caught:
        open_account(shared_ledger, books.ledger_id, code=code)
    # THEN the code is named
    assert caught.value.details == {"field": "code"}


@pytest.mark.parametrize(
    ("parent", "child_type"),
    [
        ("bank", "liability"),
        ("bank", "expense"),
        ("expense", "asset"),
        ("wallet", "equity"),
        ("revenue", "liability"),
    ],
)
def test_parent_of_another_type_is_refused(
    *,
    shared_ledger: Ledger,
    books: Books,
    shared_nothing_written: NothingWritten,
    parent: str,
    child_type: str,
) -> None:
    # GIVEN a parent of one type (of the same normal side as the child or not)
    parent_id = getattr(books, parent).id
    # WHEN a child of another type is opened under it
    with shared_nothing_written(), pytest.raises(TypeMismatch) as caught:
        open_account(shared_ledger, books.ledger_id, type=child_type, parent_id=parent_id)
    # THEN it is refused, naming the field
    assert caught.value.code == "type_mismatch"
    assert caught.value.details == {"field": "parent_id"}


def test_parent_in_another_ledger_is_refused(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten
) -> None:
    # GIVEN a parent in the other ledger
    # WHEN a child in this ledger names it
    with shared_nothing_written(), pytest.raises(LedgerMismatch) as caught:
        open_account(shared_ledger, books.ledger_id, parent_id=books.foreign.id)
    # THEN it is refused
    assert caught.value.code == "ledger_mismatch"
    assert caught.value.details == {"account_id": books.foreign.id, "field": "parent_id"}


def test_missing_parent_is_not_found(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten
) -> None:
    # GIVEN a well-formed id of no account, and a malformed one
    for parent_id in (missing_account_id(books.ledger_id, side=Side.DEBIT), "acc_garbage"):
        # WHEN a child names it as parent
        with shared_nothing_written(), pytest.raises(NotFound) as caught:
            open_account(shared_ledger, books.ledger_id, type="asset", parent_id=parent_id)
        # THEN the parent is not found
        assert caught.value.details == {"resource": "account", "id": parent_id}


def test_world_account_cannot_be_a_parent(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten
) -> None:
    # GIVEN the ledger's USD world account
    world_id = world_account_id(books.ledger_id, Currency("USD", 2))
    # WHEN an equity account names it as parent
    with shared_nothing_written(), pytest.raises(ValidationError) as caught:
        open_account(shared_ledger, books.ledger_id, type="equity", parent_id=world_id)
    # THEN it is refused
    assert caught.value.details == {"field": "parent_id"}


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"overdraft": "limit"}, "credit_limit"),
        ({"overdraft": "limit", "credit_limit": "0"}, "credit_limit"),
        ({"overdraft": "limit", "credit_limit": "-5"}, "credit_limit"),
        ({"overdraft": "limit", "credit_limit": "1.001"}, "credit_limit"),
        ({"overdraft": "limit", "credit_limit": 50}, "credit_limit"),
        ({"credit_limit": "50"}, "credit_limit"),
        ({"overdraft": "forbid", "credit_limit": "50"}, "credit_limit"),
        ({"overdraft": "allow", "credit_limit": "50"}, "credit_limit"),
        ({"overdraft": "sometimes"}, "overdraft"),
        ({"type": "cash"}, "type"),
        ({"type": None}, "type"),
        ({"currency": 840}, "currency"),
        ({"currency": "usd"}, "currency"),
        ({"name": ""}, "name"),
        ({"name": "n" * 201}, "name"),
        ({"owner_id": "o" * 201}, "owner_id"),
        ({"metadata": {"k": 5}}, "metadata.k"),
        ({"metadata": "k=v"}, "metadata"),
        ({"idempotency_key": "\n"}, "idempotency_key"),
    ],
    ids=lambda value: repr(value)[:40],
)
def test_malformed_account_is_refused(
    shared_ledger: Ledger,
    books: Books,
    shared_nothing_written: NothingWritten,
    options: dict[str, Any],
    field: str,
) -> None:
    # GIVEN a request with one malformed field
    request: dict[str, Any] = {"name": "Wallet", "type": "liability", "currency": "USD", **options}
    # WHEN the account is opened
    with shared_nothing_written(), pytest.raises(ValidationError) as caught:
        shared_ledger.create_account(books.ledger_id, **request)
    # THEN the field is named
    assert caught.value.details == {"field": field}


@pytest.mark.parametrize(
    "ledger_id", [new_ledger_id(None, None), "ldg_short"], ids=["well-formed", "malformed"]
)
def test_account_in_a_missing_ledger_is_not_found(
    shared_ledger: Ledger, shared_nothing_written: NothingWritten, ledger_id: str
) -> None:
    # GIVEN the id of no stored ledger
    # WHEN an account is opened in it
    with shared_nothing_written(), pytest.raises(NotFound) as caught:
        shared_ledger.create_account(ledger_id, "Wallet", "liability", "JPY")
    # THEN the ledger is not found, and no world account appeared either
    assert caught.value.details == {"resource": "ledger", "id": ledger_id}


@pytest.mark.parametrize(
    "change", [{"name": "Other"}, {"type": "revenue"}, {"code": "W-1"}], ids=repr
)
def test_account_key_with_another_body_is_refused(
    shared_ledger: Ledger,
    books: Books,
    shared_nothing_written: NothingWritten,
    change: dict[str, Any],
) -> None:
    # GIVEN the account "Keyed" opened with key "open-1"
    request: dict[str, Any] = {"name": "Keyed", "type": "liability", "currency": "USD", **change}
    # WHEN the key comes back with a different request
    with shared_nothing_written(), pytest.raises(IdempotencyKeyReused) as caught:
        shared_ledger.create_account(books.ledger_id, **request, idempotency_key="open-1")
    # THEN it is refused
    assert caught.value.code == "idempotency_key_reused"


@pytest.mark.parametrize("status", ["frozen", "", "ACTIVE"], ids=repr)
def test_unknown_status_is_refused(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten, status: Any
) -> None:
    # GIVEN an active account
    # WHEN it is given a status that does not exist
    with shared_nothing_written(), pytest.raises(ValidationError) as caught:
        shared_ledger.update_account(books.payee.id, status=status)
    # THEN the status is named
    assert caught.value.details == {"field": "status"}


@pytest.mark.parametrize("status", ["active", "suspended", "closed"])
def test_system_account_status_cannot_change(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten, status: str
) -> None:
    # GIVEN the ledger's USD world account
    world_id = world_account_id(books.ledger_id, Currency("USD", 2))
    # WHEN its status is set, even to the one it has
    with shared_nothing_written(), pytest.raises(ValidationError) as caught:
        shared_ledger.update_account(world_id, status=status)
    # THEN it is refused
    assert caught.value.details == {"field": "status"}


def test_status_of_a_missing_account_is_not_found(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten
) -> None:
    # GIVEN a well-formed id of no account, and a malformed one
    for account_id in (missing_account_id(books.ledger_id), "acc_nope"):
        # WHEN it is suspended
        with shared_nothing_written(), pytest.raises(NotFound) as caught:
            shared_ledger.update_account(account_id, status="suspended")
        # THEN it is not found
        assert caught.value.details == {"resource": "account", "id": account_id}


@pytest.mark.parametrize("status", ["active", "suspended", "closed"])
def test_closed_account_stays_closed(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten, status: str
) -> None:
    # GIVEN a closed account
    # WHEN any status is set on it
    with shared_nothing_written(), pytest.raises(AccountInactive) as caught:
        shared_ledger.update_account(books.closed.id, status=status)
    # THEN it is refused: closed is final
    assert caught.value.code == "account_inactive"
    assert caught.value.details == {"account_id": books.closed.id}


def test_account_with_a_balance_cannot_close(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten
) -> None:
    # GIVEN accounts with a balance: own funds, drawn credit seen from both sides
    for account in (books.wallet, books.bank, books.credit):
        # WHEN it is closed
        with shared_nothing_written(), pytest.raises(AccountNotEmpty) as caught:
            shared_ledger.update_account(account.id, status="closed")
        # THEN it is refused
        assert caught.value.code == "account_not_empty"
        assert caught.value.details == {"account_id": account.id}
