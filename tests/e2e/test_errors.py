"""Every error code of the contract over real HTTP: status, code, details, request id."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

import pytest

from ledger.domain import limits

from .builders import balance, call, deposit, new_account, new_key, new_ledger, raw, token
from .conftest import DevServer

# One pytest worker runs every end-to-end test, against one `ledger dev`.
pytestmark = pytest.mark.xdist_group("e2e")

# The sweeper runs once a minute: two holds a few seconds apart cannot both be swept early.
expiry_attempts_max = 2
expires_in_s = 1
expiry_wait_s = 2.0


@dataclass(frozen=True)
class Books:
    """The module's ledger: two USD wallets holding 100, a yen wallet, an asset; another
    ledger's wallet."""

    ledger_id: str
    wallet: str
    other_wallet: str
    yen: str
    asset: str
    foreign_wallet: str


@pytest.fixture(scope="module")
def books(dev_server: DevServer) -> Books:
    """Accounts shared by the module's refused requests."""
    ledger_id = new_ledger(dev_server)
    wallet, other_wallet = new_account(dev_server, ledger_id), new_account(dev_server, ledger_id)
    deposit(dev_server, wallet, "100")
    deposit(dev_server, other_wallet, "100")
    return Books(
        ledger_id,
        wallet,
        other_wallet,
        new_account(dev_server, ledger_id, currency="JPY"),
        new_account(dev_server, ledger_id, type="asset"),
        new_account(dev_server, new_ledger(dev_server)),
    )


def hold(server: DevServer, account_id: str, amount: str, **fields: object) -> str:
    """The id of a new hold on the account."""
    reply = call(
        server, "POST", "/v1/holds", {"account_id": account_id, "amount": amount, **fields}
    )
    assert reply.status == 201, reply.json
    identifier: str = reply.json["id"]
    return identifier


def test_a_missing_field_is_validation_error_naming_it(dev_server: DevServer, books: Books) -> None:
    # GIVEN / WHEN a deposit comes without an amount
    reply = call(dev_server, "POST", "/v1/deposits", {"account_id": books.wallet})

    # THEN it is refused naming the field
    status, code, details = reply.error()
    assert (status, code, details["field"]) == (400, "validation_error", "amount")


def test_a_float_amount_is_validation_error(dev_server: DevServer, books: Books) -> None:
    # GIVEN the wallet's balance
    before = balance(dev_server, books.wallet)

    # WHEN a deposit gives its amount as a JSON number
    reply = call(dev_server, "POST", "/v1/deposits", {"account_id": books.wallet, "amount": 10.5})

    # THEN it is refused naming the amount, and nothing moved
    status, code, details = reply.error()
    assert (status, code, details["field"]) == (400, "validation_error", "amount")
    assert balance(dev_server, books.wallet) == before


def test_malformed_json_is_validation_error_on_the_body(dev_server: DevServer) -> None:
    # GIVEN / WHEN a ledger is created with a body that is not JSON
    reply = raw(dev_server, "POST", "/v1/ledgers", b'{"name": "books",')

    # THEN it is refused as a bad body
    assert reply.error() == (400, "validation_error", {"field": "body"})


def test_a_body_over_64_kib_is_refused(dev_server: DevServer, books: Books) -> None:
    # GIVEN a deposit whose description makes the body one byte over the bound
    body = {"account_id": books.wallet, "amount": "1", "description": ""}
    padding = limits.request_body_bytes_max + 1 - len(json.dumps(body).encode())
    data = json.dumps({**body, "description": "x" * padding}).encode()
    assert len(data) == limits.request_body_bytes_max + 1

    # WHEN it is sent
    reply = raw(dev_server, "POST", "/v1/deposits", data)

    # THEN it is refused before any route reads it
    assert reply.error() == (400, "validation_error", {"field": "body"})


def test_an_unbalanced_entry_is_refused_with_both_totals(
    dev_server: DevServer, books: Books
) -> None:
    # GIVEN / WHEN an entry debits 1 and credits 2
    body = {
        "ledger_id": books.ledger_id,
        "lines": [
            {"account_id": books.wallet, "side": "debit", "amount": "1"},
            {"account_id": books.other_wallet, "side": "credit", "amount": "2"},
        ],
    }

    # THEN it is refused with the currency's two totals
    assert call(dev_server, "POST", "/v1/entries", body).error() == (
        400,
        "unbalanced_entry",
        {"currency": "USD", "debits": "1.00", "credits": "2.00"},
    )


def test_no_key_is_unauthorized(dev_server: DevServer, books: Books) -> None:
    # GIVEN / WHEN the ledger is read without a key
    reply = call(dev_server, "GET", f"/v1/ledgers/{books.ledger_id}", anonymous=True)

    # THEN it is 401
    status, code, _ = reply.error()
    assert (status, code) == (401, "unauthorized")


def test_a_reader_writing_is_forbidden(dev_server: DevServer, books: Books) -> None:
    # GIVEN a reader key for the ledger
    _, reader = new_key(dev_server, "reader", ledger_ids=[books.ledger_id])

    # WHEN it deposits
    body = {"account_id": books.wallet, "amount": "1"}
    reply = call(dev_server, "POST", "/v1/deposits", body, key=reader)

    # THEN it is 403
    status, code, _ = reply.error()
    assert (status, code) == (403, "forbidden")


def test_an_unknown_ledger_is_not_found(dev_server: DevServer) -> None:
    # GIVEN / WHEN a well-formed ledger id that names nothing is read
    ledger_id = f"ldg_{'a' * 16}"
    reply = call(dev_server, "GET", f"/v1/ledgers/{ledger_id}")

    # THEN it is not found, by resource and id
    assert reply.error() == (404, "not_found", {"resource": "ledger", "id": ledger_id})


def test_a_key_reused_with_another_body_is_refused_and_a_refusal_keeps_it_free(
    dev_server: DevServer, books: Books
) -> None:
    # GIVEN a key first used on a withdrawal refused for lack of funds
    key = token()
    too_much = {"account_id": books.wallet, "amount": "1000000"}
    refused = call(dev_server, "POST", "/v1/withdrawals", too_much, idempotency_key=key)
    assert refused.error() == (422, "insufficient_funds", {"account_id": books.wallet})

    # WHEN the key is used again on a withdrawal that succeeds, then on another body
    body = {"account_id": books.wallet, "amount": "1"}
    first = call(dev_server, "POST", "/v1/withdrawals", body, idempotency_key=key)
    other = {**body, "amount": "2"}
    reused = call(dev_server, "POST", "/v1/withdrawals", other, idempotency_key=key)

    # THEN the refusal had not consumed the key, and the other body is refused
    assert (first.status, first.replayed) == (201, False)
    status, code, _ = reused.error()
    assert (status, code) == (409, "idempotency_key_reused")


def test_releasing_a_released_hold_is_already_resolved(dev_server: DevServer, books: Books) -> None:
    # GIVEN a released hold
    hold_id = hold(dev_server, books.wallet, "1")
    assert call(dev_server, "POST", f"/v1/holds/{hold_id}/release").status == 200

    # WHEN it is confirmed
    reply = call(dev_server, "POST", f"/v1/holds/{hold_id}/confirm")

    # THEN it is resolved already
    assert reply.error() == (409, "already_resolved", {"entry_id": hold_id})


def test_reversing_twice_is_already_reversed(dev_server: DevServer, books: Books) -> None:
    # GIVEN a reversed deposit
    entry_id = deposit(dev_server, books.wallet, "1")["id"]
    first = call(dev_server, "POST", f"/v1/entries/{entry_id}/reverse")
    assert first.status == 201, first.json

    # WHEN it is reversed again
    reply = call(dev_server, "POST", f"/v1/entries/{entry_id}/reverse", {"description": "again"})

    # THEN it is refused naming the reversal
    assert reply.error() == (
        409,
        "already_reversed",
        {"entry_id": entry_id, "reversed_by": first.json["id"]},
    )


def test_a_taken_code_is_code_taken(dev_server: DevServer, books: Books) -> None:
    # GIVEN an account with a code
    code = f"2{token()}"
    new_account(dev_server, books.ledger_id, code=code)

    # WHEN another account asks for it
    body = {
        "ledger_id": books.ledger_id,
        "name": "Twin",
        "type": "liability",
        "currency": "USD",
        "code": code,
    }
    reply = call(dev_server, "POST", "/v1/accounts", body)

    # THEN it is refused
    assert reply.error() == (409, "code_taken", {"field": "code", "code": code})


def test_overdrawing_is_insufficient_funds_and_moves_nothing(
    dev_server: DevServer, books: Books
) -> None:
    # GIVEN the other wallet's balance
    before = balance(dev_server, books.other_wallet)

    # WHEN more than it holds is spent
    body = {"account_id": books.other_wallet, "amount": "1000000"}
    reply = call(dev_server, "POST", "/v1/spends", body)

    # THEN it is refused naming the account, and the balance is as it was
    assert reply.error() == (422, "insufficient_funds", {"account_id": books.other_wallet})
    assert balance(dev_server, books.other_wallet) == before


def test_a_suspended_account_is_account_inactive(dev_server: DevServer, books: Books) -> None:
    # GIVEN a suspended account
    account_id = new_account(dev_server, books.ledger_id)
    suspend = call(dev_server, "PATCH", f"/v1/accounts/{account_id}", {"status": "suspended"})
    assert suspend.status == 200, suspend.json

    # WHEN money is deposited into it
    reply = call(dev_server, "POST", "/v1/deposits", {"account_id": account_id, "amount": "1"})

    # THEN it is refused naming the account
    assert reply.error() == (422, "account_inactive", {"account_id": account_id})


def test_dollars_to_yen_is_currency_mismatch(dev_server: DevServer, books: Books) -> None:
    # GIVEN / WHEN dollars are transferred to the yen wallet
    body = {"from_account_id": books.wallet, "to_account_id": books.yen, "amount": "1"}
    reply = call(dev_server, "POST", "/v1/transfers", body)

    # THEN it is refused naming the yen wallet
    assert reply.error() == (422, "currency_mismatch", {"account_id": books.yen})


def test_a_transfer_to_another_ledger_is_ledger_mismatch(
    dev_server: DevServer, books: Books
) -> None:
    # GIVEN / WHEN money is transferred to another ledger's wallet
    body = {"from_account_id": books.wallet, "to_account_id": books.foreign_wallet, "amount": "1"}
    status, code, details = call(dev_server, "POST", "/v1/transfers", body).error()

    # THEN it is refused naming the foreign wallet
    assert (status, code, details["account_id"]) == (422, "ledger_mismatch", books.foreign_wallet)


def test_confirming_more_than_held_is_amount_exceeds_pending(
    dev_server: DevServer, books: Books
) -> None:
    # GIVEN a hold of 10
    hold_id = hold(dev_server, books.wallet, "10")

    # WHEN it is confirmed for 10.01
    reply = call(dev_server, "POST", f"/v1/holds/{hold_id}/confirm", {"amount": "10.01"})

    # THEN it is refused, and the hold stays pending
    assert reply.error() == (422, "amount_exceeds_pending", {"entry_id": hold_id})
    assert call(dev_server, "GET", f"/v1/entries/{hold_id}").json["status"] == "pending"


def test_posting_a_posted_entry_is_not_pending(dev_server: DevServer, books: Books) -> None:
    # GIVEN a posted deposit
    entry_id = deposit(dev_server, books.wallet, "1")["id"]

    # WHEN it is posted as if pending
    reply = call(dev_server, "POST", f"/v1/entries/{entry_id}/post")

    # THEN it was never pending
    assert reply.error() == (422, "not_pending", {"entry_id": entry_id})


def test_a_parent_of_another_type_is_type_mismatch(dev_server: DevServer, books: Books) -> None:
    # GIVEN / WHEN a liability names an asset as its parent
    body = {
        "ledger_id": books.ledger_id,
        "name": "Child",
        "type": "liability",
        "currency": "USD",
        "parent_id": books.asset,
    }
    reply = call(dev_server, "POST", "/v1/accounts", body)

    # THEN it is refused naming the field
    assert reply.error() == (422, "type_mismatch", {"field": "parent_id"})


def test_confirming_an_expired_hold_is_pending_expired(dev_server: DevServer, books: Books) -> None:
    # GIVEN a hold that expires after a second, confirmed two seconds later; should the
    # minute's sweep void it first (already_resolved), a second hold cannot meet it again
    for _ in range(expiry_attempts_max):
        hold_id = hold(dev_server, books.other_wallet, "1", expires_in=expires_in_s)
        time.sleep(expiry_wait_s)

        # WHEN it is confirmed
        reply = call(dev_server, "POST", f"/v1/holds/{hold_id}/confirm")
        if reply.status != 409:
            break

    # THEN it is refused as expired, and the held amount is not spent
    status, code, details = reply.error()
    assert (status, code, details["entry_id"]) == (422, "pending_expired", hold_id)
    assert call(dev_server, "GET", f"/v1/entries/{hold_id}").json["status"] != "posted"
