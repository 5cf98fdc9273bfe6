"""Refusals of the ledger through the API: each code of the contract, exact details, and
nothing written."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ledger.domain.errors import Conflict

from .builders import balance, deposit, new_account, new_ledger
from .harness import Api


@dataclass(frozen=True)
class Books:
    """The module's ledger: two funded USD wallets, a JPY wallet, an asset; another ledger."""

    ledger_id: str
    wallet: str
    other_wallet: str
    yen: str
    asset: str
    foreign_ledger_id: str
    foreign_wallet: str


@pytest.fixture(scope="module")
def books(api: Api) -> Books:
    """Accounts shared by the module's refused requests."""
    ledger_id = new_ledger(api)
    wallet, other_wallet = new_account(api, ledger_id, code="2000"), new_account(api, ledger_id)
    deposit(api, wallet, "100")
    deposit(api, other_wallet, "100")
    foreign_ledger_id = new_ledger(api)
    return Books(
        ledger_id,
        wallet,
        other_wallet,
        new_account(api, ledger_id, currency="JPY"),
        new_account(api, ledger_id, type="asset"),
        foreign_ledger_id,
        new_account(api, foreign_ledger_id),
    )


def token() -> str:
    """A random token in the alphabet of ids."""
    return "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz234567") for _ in range(16))


def missing_account(ledger_id: str) -> str:
    """A well-formed id of a USD liability account that does not exist."""
    return f"acc_{ledger_id.removeprefix('ldg_')}_USD-2-c_{token()}"


def missing_entry(ledger_id: str) -> str:
    """A well-formed id of an entry that does not exist."""
    return f"ent_{ledger_id.removeprefix('ldg_')}_{token()}{token()[:10]}"


def refused(
    api: Api, method: str, path: str, body: object = None, **options: Any
) -> tuple[int, str, dict[str, Any]]:
    """Send a request that must be refused; assert it wrote nothing; its status, code, details."""
    with api.nothing_written():
        reply = api.call(method, path, body, **options)
    assert reply.headers["X-Request-Id"] == reply.request_id
    return reply.error()


def test_an_unbalanced_entry_is_refused_with_both_totals(api: Api, books: Books) -> None:
    # GIVEN / WHEN an entry debits 1 and credits 2
    body = {
        "ledger_id": books.ledger_id,
        "lines": [
            {"account_id": books.wallet, "side": "debit", "amount": "1"},
            {"account_id": books.other_wallet, "side": "credit", "amount": "2"},
        ],
    }

    # THEN it is refused with the currency's two totals
    assert refused(api, "POST", "/v1/entries", body) == (
        400,
        "unbalanced_entry",
        {"currency": "USD", "debits": "1.00", "credits": "2.00"},
    )


@pytest.mark.parametrize(
    ("path", "resource"),
    [
        ("/v1/ledgers/{ledger}", "ledger"),
        ("/v1/accounts/{account}", "account"),
        ("/v1/accounts/{account}/balance", "account"),
        ("/v1/entries/{entry}", "entry"),
    ],
)
def test_reading_what_does_not_exist_is_404_naming_it(
    api: Api, books: Books, path: str, resource: str
) -> None:
    # GIVEN well-formed ids that name nothing
    identifiers = {
        "ledger": f"ldg_{token()}",
        "account": missing_account(books.ledger_id),
        "entry": missing_entry(books.ledger_id),
    }

    # WHEN one is read
    reply = api.call("GET", path.format(**identifiers))

    # THEN it is not found, by resource and id
    assert reply.error() == (404, "not_found", {"resource": resource, "id": identifiers[resource]})


@pytest.mark.parametrize(
    ("method", "path", "resource"),
    [
        ("GET", "/v1/ledgers/nonsense", "ledger"),
        ("GET", "/v1/accounts/nonsense", "account"),
        ("GET", "/v1/accounts/nonsense/balance", "account"),
        ("GET", "/v1/entries/nonsense", "entry"),
        ("POST", "/v1/entries/nonsense/post", "entry"),
        ("POST", "/v1/entries/nonsense/void", "entry"),
        ("POST", "/v1/entries/nonsense/reverse", "entry"),
        ("POST", "/v1/holds/nonsense/confirm", "entry"),
        ("POST", "/v1/holds/nonsense/release", "entry"),
        ("POST", "/v1/escrows/nonsense/release", "entry"),
        ("POST", "/v1/escrows/nonsense/refund", "entry"),
        ("PATCH", "/v1/accounts/nonsense", "account"),
        ("DELETE", "/v1/api-keys/nonsense", "api_key"),
    ],
)
def test_a_malformed_id_is_404_not_a_crash(api: Api, method: str, path: str, resource: str) -> None:
    # GIVEN / WHEN a route is called with an id no object can have
    body = {"name": "N"} if method == "PATCH" else None
    status, code, details = refused(api, method, path, body)

    # THEN it is simply not found
    assert (status, code, details) == (404, "not_found", {"resource": resource, "id": "nonsense"})


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/nothing"),
        ("DELETE", "/v1/ledgers"),
        ("POST", "/v1/health"),
        ("GET", "/v2/ledgers"),
    ],
)
def test_a_route_the_api_does_not_serve_is_404_route(api: Api, method: str, path: str) -> None:
    # GIVEN / WHEN a path or method the API does not serve is called
    reply = api.call(method, path, {} if method == "POST" else None)

    # THEN it is not found as a route
    assert reply.error() == (404, "not_found", {"resource": "route", "id": path})
    assert reply.headers["X-Request-Id"] == reply.request_id


def test_moving_money_of_an_account_that_does_not_exist_is_404(api: Api, books: Books) -> None:
    # GIVEN / WHEN a deposit names a well-formed account that does not exist
    ghost = missing_account(books.ledger_id)
    status, code, details = refused(
        api, "POST", "/v1/deposits", {"account_id": ghost, "amount": "1"}
    )

    # THEN it is not found
    assert (status, code, details) == (404, "not_found", {"resource": "account", "id": ghost})


def test_confirming_an_entry_that_is_no_hold_is_404_hold(api: Api, books: Books) -> None:
    # GIVEN a deposit
    entry_id = deposit(api, books.wallet, "1")["id"]

    # WHEN it is confirmed as if it were a hold
    status, code, details = refused(api, "POST", f"/v1/holds/{entry_id}/confirm")

    # THEN there is no such hold
    assert (status, code, details) == (404, "not_found", {"resource": "hold", "id": entry_id})


def test_listing_entries_of_an_unknown_account_is_404(api: Api, books: Books) -> None:
    # GIVEN / WHEN a listing filters by a well-formed account that does not exist
    ghost = missing_account(books.ledger_id)
    reply = api.call("GET", "/v1/entries", query={"account_id": ghost})

    # THEN the account is not found
    assert reply.error() == (404, "not_found", {"resource": "account", "id": ghost})


def test_a_taken_code_is_409(api: Api, books: Books) -> None:
    # GIVEN the wallet with code 2000
    # WHEN another account asks for code 2000
    body = {
        "ledger_id": books.ledger_id,
        "name": "Twin",
        "type": "liability",
        "currency": "USD",
        "code": "2000",
    }

    # THEN it is refused
    assert refused(api, "POST", "/v1/accounts", body) == (
        409,
        "code_taken",
        {"field": "code", "code": "2000"},
    )


def test_withdrawing_more_than_the_balance_is_insufficient_funds(api: Api, books: Books) -> None:
    # GIVEN the wallet holding what it holds
    before = balance(api, books.wallet)

    # WHEN more than that is withdrawn
    status, code, details = refused(
        api, "POST", "/v1/withdrawals", {"account_id": books.wallet, "amount": "1000000"}
    )

    # THEN it is refused naming the account, and its balance is as it was
    assert (status, code, details) == (422, "insufficient_funds", {"account_id": books.wallet})
    assert balance(api, books.wallet) == before


def test_a_suspended_account_is_account_inactive(api: Api, books: Books) -> None:
    # GIVEN a suspended account
    account_id = new_account(api, books.ledger_id)
    api.call("PATCH", f"/v1/accounts/{account_id}", {"status": "suspended"})

    # WHEN money is deposited into it
    status, code, details = refused(
        api, "POST", "/v1/deposits", {"account_id": account_id, "amount": "1"}
    )

    # THEN it is refused naming the account
    assert (status, code, details) == (422, "account_inactive", {"account_id": account_id})


def test_closing_an_account_with_money_is_refused(api: Api, books: Books) -> None:
    # GIVEN the funded wallet
    # WHEN an admin closes it
    status, code, details = refused(
        api, "PATCH", f"/v1/accounts/{books.other_wallet}", {"status": "closed"}
    )

    # THEN it is refused: it is not empty
    assert (status, code) == (422, "account_not_empty")
    assert details["account_id"] == books.other_wallet


def test_a_refused_change_of_status_changes_nothing_else(api: Api, books: Books) -> None:
    # GIVEN a funded account, which cannot be closed
    account_id = new_account(api, books.ledger_id)
    deposit(api, account_id, "5")

    # WHEN an admin renames it, re-tags it and closes it, in one request
    body = {"name": "Renamed", "metadata": {"tier": "gold"}, "status": "closed"}
    with api.nothing_written():
        reply = api.call("PATCH", f"/v1/accounts/{account_id}", body)

    # THEN the request is refused as a whole (checked on the way: nothing written)
    assert reply.error()[:2] == (422, "account_not_empty")


def test_a_transfer_between_currencies_is_currency_mismatch(api: Api, books: Books) -> None:
    # GIVEN / WHEN dollars are transferred to a yen wallet
    body = {"from_account_id": books.wallet, "to_account_id": books.yen, "amount": "1"}

    # THEN it is refused naming the yen wallet
    assert refused(api, "POST", "/v1/transfers", body) == (
        422,
        "currency_mismatch",
        {"account_id": books.yen},
    )


def test_a_line_in_another_currency_is_currency_mismatch(api: Api, books: Books) -> None:
    # GIVEN / WHEN a line says EUR for a USD account
    body = {
        "ledger_id": books.ledger_id,
        "lines": [
            {"account_id": books.wallet, "side": "debit", "amount": "1", "currency": "EUR"},
            {"account_id": books.other_wallet, "side": "credit", "amount": "1"},
        ],
    }

    # THEN it is refused naming the line's currency
    assert refused(api, "POST", "/v1/entries", body) == (
        422,
        "currency_mismatch",
        {"field": "lines[0].currency", "account_id": books.wallet},
    )


def test_a_transfer_between_ledgers_is_ledger_mismatch(api: Api, books: Books) -> None:
    # GIVEN / WHEN money is transferred to another ledger's account
    body = {"from_account_id": books.wallet, "to_account_id": books.foreign_wallet, "amount": "1"}
    status, code, details = refused(api, "POST", "/v1/transfers", body)

    # THEN it is refused naming the foreign account
    assert (status, code, details["account_id"]) == (422, "ledger_mismatch", books.foreign_wallet)


def test_an_entry_with_a_foreign_line_is_ledger_mismatch(api: Api, books: Books) -> None:
    # GIVEN / WHEN an entry of the ledger has a line on another ledger's account
    body = {
        "ledger_id": books.ledger_id,
        "lines": [
            {"account_id": books.wallet, "side": "debit", "amount": "1"},
            {"account_id": books.foreign_wallet, "side": "credit", "amount": "1"},
        ],
    }

    # THEN it is refused naming the line
    assert refused(api, "POST", "/v1/entries", body) == (
        422,
        "ledger_mismatch",
        {"account_id": books.foreign_wallet, "field": "lines[1].account_id"},
    )


def test_a_parent_in_another_ledger_is_ledger_mismatch(api: Api, books: Books) -> None:
    # GIVEN / WHEN an account names another ledger's account as parent
    body = {
        "ledger_id": books.ledger_id,
        "name": "Child",
        "type": "liability",
        "currency": "USD",
        "parent_id": books.foreign_wallet,
    }
    status, code, details = refused(api, "POST", "/v1/accounts", body)

    # THEN it is refused naming the parent
    assert (status, code, details["account_id"]) == (422, "ledger_mismatch", books.foreign_wallet)


def test_listing_entries_of_another_ledgers_account_is_ledger_mismatch(
    api: Api, books: Books
) -> None:
    # GIVEN / WHEN a ledger's entries are filtered by another ledger's account
    reply = api.call(
        "GET",
        "/v1/entries",
        query={"ledger_id": books.ledger_id, "account_id": books.foreign_wallet},
    )

    # THEN it is refused
    status, code, details = reply.error()
    assert (status, code, details["account_id"]) == (422, "ledger_mismatch", books.foreign_wallet)


def test_a_parent_of_another_type_is_type_mismatch(api: Api, books: Books) -> None:
    # GIVEN / WHEN a liability names an asset as its parent
    body = {
        "ledger_id": books.ledger_id,
        "name": "Child",
        "type": "liability",
        "currency": "USD",
        "parent_id": books.asset,
    }

    # THEN it is refused naming the field
    assert refused(api, "POST", "/v1/accounts", body) == (
        422,
        "type_mismatch",
        {"field": "parent_id"},
    )


def test_confirming_a_hold_for_more_than_it_holds_is_amount_exceeds_pending(
    api: Api, books: Books
) -> None:
    # GIVEN a hold of 10
    hold_id = api.call("POST", "/v1/holds", {"account_id": books.wallet, "amount": "10"}).json["id"]

    # WHEN it is confirmed for 10.01
    status, code, details = refused(
        api, "POST", f"/v1/holds/{hold_id}/confirm", {"amount": "10.01"}
    )

    # THEN it is refused naming the hold, which stays pending
    assert (status, code, details) == (422, "amount_exceeds_pending", {"entry_id": hold_id})
    assert api.call("GET", f"/v1/entries/{hold_id}").json["status"] == "pending"
    api.call("POST", f"/v1/holds/{hold_id}/release")


@pytest.mark.parametrize("route", ["post", "void"])
def test_resolving_a_posted_entry_is_not_pending(api: Api, books: Books, route: str) -> None:
    # GIVEN a posted deposit
    entry_id = deposit(api, books.wallet, "1")["id"]

    # WHEN it is posted or voided as if pending
    status, code, details = refused(api, "POST", f"/v1/entries/{entry_id}/{route}")

    # THEN it was never pending
    assert (status, code, details) == (422, "not_pending", {"entry_id": entry_id})


@pytest.mark.parametrize(
    ("create", "first", "then"),
    [
        ("/v1/holds", "/v1/holds/{id}/confirm", "/v1/holds/{id}/release"),
        ("/v1/holds", "/v1/holds/{id}/release", "/v1/holds/{id}/confirm"),
        ("/v1/holds", "/v1/holds/{id}/release", "/v1/holds/{id}/release"),
        ("/v1/holds", "/v1/entries/{id}/void", "/v1/entries/{id}/post"),
        ("/v1/escrows", "/v1/escrows/{id}/release", "/v1/escrows/{id}/refund"),
        ("/v1/escrows", "/v1/escrows/{id}/refund", "/v1/escrows/{id}/release"),
    ],
)
def test_resolving_a_resolved_pending_entry_is_already_resolved(
    api: Api, books: Books, create: str, first: str, then: str
) -> None:
    # GIVEN a hold or escrow, resolved once
    body = (
        {"account_id": books.wallet, "amount": "1"}
        if create == "/v1/holds"
        else {
            "buyer_account_id": books.wallet,
            "seller_account_id": books.other_wallet,
            "amount": "1",
        }
    )
    entry_id = api.call("POST", create, body).json["id"]
    assert api.call("POST", first.format(id=entry_id)).status == 200

    # WHEN it is resolved again, another way
    status, code, details = refused(api, "POST", then.format(id=entry_id))

    # THEN it is resolved already
    assert (status, code, details) == (409, "already_resolved", {"entry_id": entry_id})


def test_reversing_twice_is_already_reversed(api: Api, books: Books) -> None:
    # GIVEN a reversed deposit
    entry_id = deposit(api, books.wallet, "1")["id"]
    reversal_id = api.call("POST", f"/v1/entries/{entry_id}/reverse").json["id"]

    # WHEN it is reversed again, for another reason
    status, code, details = refused(
        api, "POST", f"/v1/entries/{entry_id}/reverse", {"description": "again"}
    )

    # THEN it is refused, naming the reversal
    assert (status, code, details) == (
        409,
        "already_reversed",
        {"entry_id": entry_id, "reversed_by": reversal_id},
    )


@pytest.fixture
def expired_hold(api: Api, books: Books) -> str:
    """A hold of 1 made an hour ago to expire after a minute, not yet swept."""
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    past = api.library(clock=lambda: an_hour_ago)
    return past.hold(books.other_wallet, "1", expires_in=60).id


@pytest.mark.parametrize("route", ["/v1/holds/{id}/confirm", "/v1/entries/{id}/post"])
def test_confirming_a_hold_past_its_expiry_is_pending_expired(
    api: Api, expired_hold: str, route: str
) -> None:
    # GIVEN a hold whose expiry passed before any sweep
    # WHEN it is confirmed
    status, code, details = refused(api, "POST", route.format(id=expired_hold))

    # THEN it is refused as expired
    assert (status, code, details["entry_id"]) == (422, "pending_expired", expired_hold)


def test_a_swept_hold_is_already_resolved(api: Api, expired_hold: str) -> None:
    # GIVEN an expired hold, swept
    assert api.library(clock=lambda: datetime.now(UTC)).expire_pending() >= 1
    assert api.call("GET", f"/v1/entries/{expired_hold}").json["status"] == "expired"

    # WHEN it is confirmed
    status, code, details = refused(api, "POST", f"/v1/holds/{expired_hold}/confirm")

    # THEN it is resolved already
    assert (status, code, details) == (409, "already_resolved", {"entry_id": expired_hold})


def test_a_batch_refusal_names_its_operation_and_applies_nothing(api: Api, books: Books) -> None:
    # GIVEN a batch whose second operation overdraws an empty account
    empty = new_account(api, books.ledger_id)
    body = {
        "operations": [
            {"type": "deposit", "account_id": books.wallet, "amount": "1"},
            {"type": "withdrawal", "account_id": empty, "amount": "5"},
        ]
    }

    # WHEN it is sent
    status, code, details = refused(api, "POST", "/v1/batches", body)

    # THEN it is refused naming operation 1, and the deposit of operation 0 did not happen
    assert (status, code, details) == (
        422,
        "insufficient_funds",
        {"account_id": empty, "operation_index": 1},
    )


def test_a_batch_currency_mismatch_names_its_operation(api: Api, books: Books) -> None:
    # GIVEN / WHEN a batch's third operation transfers dollars to yen
    body = {
        "operations": [
            {"type": "deposit", "account_id": books.wallet, "amount": "1"},
            {"type": "deposit", "account_id": books.other_wallet, "amount": "1"},
            {
                "type": "transfer",
                "from_account_id": books.wallet,
                "to_account_id": books.yen,
                "amount": "1",
            },
        ]
    }
    status, code, details = refused(api, "POST", "/v1/batches", body)

    # THEN the refusal names operation 2
    assert (status, code, details["operation_index"]) == (422, "currency_mismatch", 2)


def test_a_batch_validation_refusal_names_its_operation(api: Api, books: Books) -> None:
    # GIVEN / WHEN a batch's second operation has too many decimals
    body = {
        "operations": [
            {"type": "deposit", "account_id": books.wallet, "amount": "1"},
            {"type": "deposit", "account_id": books.wallet, "amount": "1.001"},
        ]
    }
    status, code, details = refused(api, "POST", "/v1/batches", body)

    # THEN the refusal names the field and operation 1
    assert (status, code, details) == (
        400,
        "validation_error",
        {"field": "amount", "operation_index": 1},
    )


def test_an_unforeseen_failure_is_internal_error(
    api: Api, books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a ledger whose store read fails unexpectedly
    from ledger.api.runtime import runtime

    def broken(_ledger_id: str) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(runtime().ledger, "get_ledger", broken)

    # WHEN the ledger is read
    reply = api.call("GET", f"/v1/ledgers/{books.ledger_id}")

    # THEN the caller gets internal_error, without the cause
    assert reply.error() == (500, "internal_error", {})
    assert reply.json["error"]["message"] == "the ledger failed to answer; retry with the same key"
    assert reply.headers["X-Request-Id"] == reply.request_id


def test_contention_that_outlasts_the_retries_is_503_conflict(
    api: Api, books: Books, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a ledger whose writes keep conflicting
    from ledger.api.runtime import runtime

    def contended(*_arguments: object, **_options: object) -> None:
        raise Conflict("the accounts are busy; retry with the same key")

    monkeypatch.setattr(runtime().ledger, "deposit", contended)

    # WHEN money is deposited
    reply = api.call("POST", "/v1/deposits", {"account_id": books.wallet, "amount": "1"})

    # THEN it is 503 conflict, safe to retry
    assert reply.error() == (503, "conflict", {})
