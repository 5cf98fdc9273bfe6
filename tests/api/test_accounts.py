"""Accounts through the API: open, read with balance, the balance alone, list, change."""

from __future__ import annotations

from typing import Any

import pytest

from .builders import balance, balance_body, deposit, is_moment, new_account, new_ledger, world_of
from .harness import Api, Keys, random_owner


def account_body(reply_body: dict[str, Any], **expected: Any) -> dict[str, Any]:
    """A fresh account as the API shows it: `expected` over an empty USD liability."""
    currency = expected.get("currency", "USD")
    body: dict[str, Any] = {
        "id": reply_body["id"],
        "ledger_id": reply_body["ledger_id"],
        "name": reply_body["name"],
        "type": "liability",
        "normal_balance": "credit",
        "currency": currency,
        "code": None,
        "parent_id": None,
        "owner_id": None,
        "status": "active",
        "overdraft": {"mode": "forbid", "limit": "0" if currency == "JPY" else "0.00"},
        "metadata": {},
        "system": False,
        "shards": 1,
        "created_at": reply_body["created_at"],
        "updated_at": reply_body["updated_at"],
        "balance": balance_body(reply_body["id"], currency, reply_body["balance"]["as_of"]),
    }
    body.update(expected)
    return body


def test_opening_an_account_answers_201_with_the_account_and_a_zero_balance(api: Api) -> None:
    # GIVEN a ledger
    ledger_id = new_ledger(api)

    # WHEN an asset account is opened with every optional field
    reply = api.call(
        "POST",
        "/v1/accounts",
        {
            "ledger_id": ledger_id,
            "name": "Cash",
            "type": "asset",
            "currency": "USD",
            "code": "1000",
            "owner_id": "customer-1",
            "overdraft": {"mode": "limit", "limit": "10.5"},
            "metadata": {"bank": "first"},
        },
    )

    # THEN it is answered in full, amounts in the currency's scale
    assert reply.status == 201
    assert reply.json == account_body(
        reply.json,
        ledger_id=ledger_id,
        name="Cash",
        type="asset",
        normal_balance="debit",
        code="1000",
        owner_id="customer-1",
        overdraft={"mode": "limit", "limit": "10.50"},
        metadata={"bank": "first"},
        balance=balance_body(
            reply.json["id"],
            "USD",
            reply.json["balance"]["as_of"],
            credit_limit="10.50",
            spendable="10.50",
        ),
    )
    assert reply.json["id"].startswith(f"acc_{ledger_id.removeprefix('ldg_')}_USD-2-d_")
    assert all(is_moment(reply.json[name]) for name in ("created_at", "updated_at"))
    assert is_moment(reply.json["balance"]["as_of"])


def test_a_jpy_account_renders_amounts_without_decimals(api: Api) -> None:
    # GIVEN a JPY account
    account_id = new_account(api, new_ledger(api), currency="JPY")

    # WHEN 3 yen are deposited and the account is read
    deposit(api, account_id, "3")
    reply = api.call("GET", f"/v1/accounts/{account_id}")

    # THEN its balance reads "3", never "3.00"
    assert reply.status == 200
    assert reply.json == account_body(
        reply.json,
        currency="JPY",
        balance=balance_body(
            account_id,
            "JPY",
            reply.json["balance"]["as_of"],
            posted="3",
            available="3",
            spendable="3",
            total_in="3",
            version=1,
        ),
    )


def test_the_balance_route_answers_the_balance_object_in_the_currency_scale(api: Api) -> None:
    # GIVEN a USD account with a deposit of 100.5 and a hold of 0.25
    account_id = new_account(api, new_ledger(api))
    deposit(api, account_id, "100.5")
    held = api.call("POST", "/v1/holds", {"account_id": account_id, "amount": "0.25"})
    assert held.status == 201

    # WHEN its balance is read
    body = balance(api, account_id)

    # THEN every amount has two decimals and the hold is held, not posted
    assert body == balance_body(
        account_id,
        "USD",
        body["as_of"],
        posted="100.50",
        pending_out="0.25",
        held="0.25",
        available="100.25",
        spendable="100.25",
        total_in="100.50",
        version=2,
    )
    assert is_moment(body["as_of"])


def test_the_world_account_appears_as_a_system_equity_account(api: Api) -> None:
    # GIVEN an account that received a deposit from the world
    account_id = new_account(api, new_ledger(api))
    deposit(api, account_id, "7")

    # WHEN the world account is read
    reply = api.call("GET", f"/v1/accounts/{world_of(account_id)}")

    # THEN it is the ledger's USD equity account that gave the 7.00
    assert reply.status == 200
    assert (reply.json["type"], reply.json["system"], reply.json["name"]) == (
        "equity",
        True,
        "World USD",
    )
    assert (reply.json["overdraft"]["mode"], reply.json["balance"]["posted"]) == ("allow", "-7.00")


@pytest.fixture(scope="module")
def chart(api: Api) -> dict[str, Any]:
    """A ledger with a parent liability, two children (one owned), an asset and the world."""
    ledger_id = new_ledger(api)
    parent = new_account(api, ledger_id, code="2000")
    owned = new_account(api, ledger_id, parent_id=parent, owner_id="customer-7")
    child = new_account(api, ledger_id, parent_id=parent)
    asset = new_account(api, ledger_id, type="asset")
    return {
        "ledger_id": ledger_id,
        "parent": parent,
        "owned": owned,
        "child": child,
        "asset": asset,
        "world": world_of(asset),
    }


def listed(api: Api, query: dict[str, str | int]) -> list[str]:
    """Every account id a listing gives, page after page."""
    ids: list[str] = []
    cursor: str | None = None
    for _ in range(20):
        page_query = dict(query) if cursor is None else {**query, "cursor": cursor}
        reply = api.call("GET", "/v1/accounts", query=page_query)
        assert reply.status == 200, reply.json
        ids.extend(item["id"] for item in reply.json["items"])
        cursor = reply.json["next_cursor"]
        if cursor is None:
            return ids
    raise AssertionError("the listing never ended")


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {"parent", "owned", "child", "asset", "world"}),
        ({"type": "liability"}, {"parent", "owned", "child"}),
        ({"type": "asset"}, {"asset"}),
        ({"type": "equity"}, {"world"}),
        ({"owner_id": "customer-7"}, {"owned"}),
        ({"owner_id": "nobody"}, set()),
        ({"parent_id": "parent"}, {"owned", "child"}),
        ({"type": "asset", "parent_id": "parent"}, set()),
    ],
)
def test_listing_accounts_filters_by_type_owner_and_parent(
    api: Api, chart: dict[str, Any], filters: dict[str, str], expected: set[str]
) -> None:
    # GIVEN the module's chart of accounts
    query: dict[str, str | int] = {"ledger_id": chart["ledger_id"]}
    query.update(filters)
    if "parent_id" in filters:
        query["parent_id"] = chart[filters["parent_id"]]

    # WHEN it is listed with the filters
    ids = listed(api, query)

    # THEN exactly the matching accounts come back, once each
    assert sorted(ids) == sorted(chart[name] for name in expected)


def test_listing_accounts_in_pages_of_two_visits_each_account_once(
    api: Api, chart: dict[str, Any]
) -> None:
    # GIVEN the module's five accounts
    # WHEN they are listed two at a time
    first = api.call("GET", "/v1/accounts", query={"ledger_id": chart["ledger_id"], "limit": 2})
    ids = listed(api, {"ledger_id": chart["ledger_id"], "limit": 2})

    # THEN a page holds at most two, carries a cursor while more follow, and the pages
    # together hold each account exactly once
    assert len(first.json["items"]) == 2
    assert isinstance(first.json["next_cursor"], str)
    assert sorted(ids) == sorted(
        chart[name] for name in ("parent", "owned", "child", "asset", "world")
    )


def test_an_account_page_item_is_the_account_with_its_balance(
    api: Api, chart: dict[str, Any]
) -> None:
    # GIVEN the owned child account
    # WHEN the owner's accounts are listed
    reply = api.call(
        "GET", "/v1/accounts", query={"ledger_id": chart["ledger_id"], "owner_id": "customer-7"}
    )

    # THEN the item is what reading the account answers
    single = api.call("GET", f"/v1/accounts/{chart['owned']}")
    assert reply.json == {"items": [single.json], "next_cursor": None}
    assert single.json["parent_id"] == chart["parent"]


def test_an_operator_renames_an_account_and_replaces_its_metadata(api: Api, keys: Keys) -> None:
    # GIVEN an account with a deposit, and an operator key
    account_id = new_account(api, new_ledger(api), metadata={"old": "1"})
    deposit(api, account_id, "5")
    operator = keys.operator

    # WHEN the operator changes its name and metadata
    reply = api.call(
        "PATCH",
        f"/v1/accounts/{account_id}",
        {"name": "Renamed", "metadata": {"new": "2"}},
        key=operator,
    )

    # THEN the account is answered changed, its balance untouched
    assert reply.status == 200
    assert (reply.json["name"], reply.json["metadata"]) == ("Renamed", {"new": "2"})
    assert (reply.json["balance"]["posted"], reply.json["balance"]["version"]) == ("5.00", 1)
    assert api.call("GET", f"/v1/accounts/{account_id}").json == reply.json


def test_an_admin_suspends_an_account_and_gives_it_a_credit_line(api: Api) -> None:
    # GIVEN an asset account
    account_id = new_account(api, new_ledger(api), type="asset")

    # WHEN an admin suspends it, then sets an overdraft limit of 25
    suspended = api.call("PATCH", f"/v1/accounts/{account_id}", {"status": "suspended"})
    reply = api.call(
        "PATCH", f"/v1/accounts/{account_id}", {"overdraft": {"mode": "limit", "limit": "25"}}
    )

    # THEN both changes show, the limit in the currency's scale
    assert (suspended.status, reply.status) == (200, 200)
    assert reply.json["status"] == "suspended"
    assert reply.json["overdraft"] == {"mode": "limit", "limit": "25.00"}
    assert (reply.json["balance"]["credit_limit"], reply.json["balance"]["spendable"]) == (
        "25.00",
        "25.00",
    )


def test_status_and_overdraft_in_one_request_are_refused_and_change_nothing(api: Api) -> None:
    # GIVEN an asset account
    account_id = new_account(api, new_ledger(api), type="asset")

    # WHEN an admin asks for a status and an overdraft change at once
    with api.nothing_written():
        reply = api.call(
            "PATCH",
            f"/v1/accounts/{account_id}",
            {"status": "suspended", "overdraft": {"mode": "limit", "limit": "25"}},
        )

    # THEN it is refused: each is its own guarded write, and a PATCH is all or nothing
    assert reply.error() == (400, "validation_error", {"field": "overdraft"})


def test_a_suspended_account_can_be_reactivated(api: Api) -> None:
    # GIVEN a suspended account
    account_id = new_account(api, new_ledger(api))
    api.call("PATCH", f"/v1/accounts/{account_id}", {"status": "suspended"})

    # WHEN it is made active again
    reply = api.call("PATCH", f"/v1/accounts/{account_id}", {"status": "active"})

    # THEN it takes deposits again
    assert (reply.status, reply.json["status"]) == (200, "active")
    assert deposit(api, account_id, "1")["status"] == "posted"


def test_an_empty_account_can_be_closed(api: Api) -> None:
    # GIVEN an account that never held anything
    account_id = new_account(api, new_ledger(api))

    # WHEN an admin closes it
    reply = api.call("PATCH", f"/v1/accounts/{account_id}", {"status": "closed"})

    # THEN it is closed
    assert (reply.status, reply.json["status"]) == (200, "closed")


def test_accounts_of_two_owners_never_mix(api: Api) -> None:
    # GIVEN two ledgers of one owner, each with an account
    owner = random_owner()
    first, second = new_ledger(api, owner), new_ledger(api, owner)
    first_account, second_account = new_account(api, first), new_account(api, second)

    # WHEN each ledger's accounts are listed
    # THEN each holds its own account and its world only
    assert sorted(listed(api, {"ledger_id": first})) == sorted(
        [first_account, world_of(first_account)]
    )
    assert sorted(listed(api, {"ledger_id": second})) == sorted(
        [second_account, world_of(second_account)]
    )


@pytest.mark.parametrize("axis", ["at", "effective_at"])
def test_a_balance_of_the_past_is_refused_where_no_history_is_kept(api: Api, axis: str) -> None:
    # GIVEN an account that received 5 today, on a table whose stream consumers do not run
    account_id = new_account(api, new_ledger(api))
    deposit(api, account_id, "5")

    # WHEN its balance is asked as of 2020 on either time axis
    reply = api.call(
        "GET", f"/v1/accounts/{account_id}/balance", query={axis: "2020-01-01T00:00:00Z"}
    )

    # THEN it is refused as not kept, never answered with today's 5.00
    assert reply.error()[:2] == (501, "history_not_kept")
    assert "posted" not in reply.json


def test_a_statement_is_refused_where_no_history_is_kept(api: Api) -> None:
    # GIVEN an account, on a table whose stream consumers do not run
    account_id = new_account(api, new_ledger(api))

    # WHEN its statement is asked
    reply = api.call("GET", f"/v1/accounts/{account_id}/statement")

    # THEN it is refused as not kept
    assert reply.error()[:2] == (501, "history_not_kept")


@pytest.mark.parametrize("axis", ["at", "effective_at"])
@pytest.mark.parametrize("text", ["yesterday", "2020-01-01T00:00:00", "2020-13-01T00:00:00Z"])
def test_a_bad_balance_time_is_refused_naming_its_parameter(api: Api, axis: str, text: str) -> None:
    # GIVEN an account
    account_id = new_account(api, new_ledger(api))
    # WHEN its balance is asked at a time that is no RFC 3339 time with an offset
    reply = api.call("GET", f"/v1/accounts/{account_id}/balance", query={axis: text})
    # THEN it is refused, naming the parameter
    assert reply.error()[:2] == (400, "validation_error")
    assert reply.json["error"]["details"] == {"field": axis}


def test_a_sharded_revenue_account_answers_as_one_account(api: Api) -> None:
    # GIVEN a ledger whose world has 4 shards, and a funded wallet
    ledger_id = new_ledger(api, world_shards=4)
    wallet = new_account(api, ledger_id)
    deposit(api, wallet, "20.00")
    # WHEN an admin opens a revenue account of 8 shards and the wallet pays it three times
    reply = api.call(
        "POST",
        "/v1/accounts",
        {
            "ledger_id": ledger_id,
            "name": "Fees",
            "type": "revenue",
            "currency": "USD",
            "overdraft": {"mode": "allow"},
            "shards": 8,
        },
    )
    assert (reply.status, reply.json["shards"]) == (201, 8)
    fees = reply.json["id"]
    for _ in range(3):
        paid = api.call(
            "POST",
            "/v1/transfers",
            {"from_account_id": wallet, "to_account_id": fees, "amount": "1.50"},
        )
        assert paid.status == 201, paid.json
    # THEN its balance is every payment once, its version counts them
    shown = balance(api, fees)
    assert (shown["posted"], shown["version"]) == ("4.50", 3)
    # AND the ledger and its world say how many shards the world has
    assert api.call("GET", f"/v1/ledgers/{ledger_id}").json["world_shards"] == 4
    assert api.call("GET", f"/v1/accounts/{world_of(wallet)}").json["shards"] == 4


@pytest.mark.parametrize(
    "fields",
    [
        {"shards": 2},
        {"shards": 2, "overdraft": {"mode": "limit", "limit": "5.00"}},
        {"shards": 65, "overdraft": {"mode": "allow"}},
        {"shards": 0, "overdraft": {"mode": "allow"}},
        {"shards": "8", "overdraft": {"mode": "allow"}},
    ],
)
def test_shards_outside_the_rules_are_a_400_naming_shards(api: Api, fields: dict[str, Any]) -> None:
    # GIVEN a ledger
    ledger_id = new_ledger(api)
    # WHEN an account is opened with shards it may not have
    body = {"ledger_id": ledger_id, "name": "Hot", "type": "revenue", "currency": "USD", **fields}
    with api.nothing_written():
        reply = api.call("POST", "/v1/accounts", body)
    # THEN it is refused naming `shards`
    assert reply.error() == (400, "validation_error", {"field": "shards"})


@pytest.mark.parametrize("world_shards", [0, 65, "8", True])
def test_world_shards_outside_1_to_64_is_a_400(api: Api, world_shards: Any) -> None:
    # WHEN a ledger is created with a world shard count no ledger can have
    with api.nothing_written():
        reply = api.call("POST", "/v1/ledgers", {"name": "Books", "world_shards": world_shards})
    # THEN it is refused naming `world_shards`
    assert reply.error() == (400, "validation_error", {"field": "world_shards"})
