"""Monitors through the API: created evaluated at the balance now, listed in pages,
deleted; roles and scopes as for other account routes; bad input refused, nothing written."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.domain import limits

from .builders import deposit, is_moment, new_account, new_ledger
from .harness import Api, Keys, random_key

monitor_fields = {
    "id",
    "account_id",
    "ledger_id",
    "field",
    "operator",
    "value",
    "description",
    "state",
    "version",
    "created_at",
}


def monitors_of(account_id: str) -> str:
    return f"/v1/accounts/{account_id}/monitors"


def create(api: Api, account_id: str, body: dict[str, Any], **options: Any) -> dict[str, Any]:
    reply = api.call("POST", monitors_of(account_id), body, **options)
    assert reply.status == 201, reply.json
    monitor: dict[str, Any] = reply.json
    return monitor


@pytest.fixture(scope="module")
def wallet(api: Api) -> str:
    """A wallet of 50.00, for tests that only read or are refused."""
    account_id = new_account(api, new_ledger(api))
    deposit(api, account_id, "50.00")
    return account_id


def test_a_monitor_is_created_with_its_state_at_the_balance_now(api: Api) -> None:
    # GIVEN a wallet of 50.00
    account_id = new_account(api, new_ledger(api))
    deposit(api, account_id, "50.00")
    # WHEN monitors are created on either side of its balance, and for large entries
    below = create(
        api,
        account_id,
        {"field": "available", "operator": "lt", "value": "100", "description": "low"},
    )
    above = create(api, account_id, {"field": "posted", "operator": "gte", "value": "100.5"})
    large = create(api, account_id, {"field": "entry_amount", "operator": "gt", "value": "0"})
    # THEN each is evaluated at the balance's version, amounts in the currency's scale
    assert set(below) == monitor_fields
    assert (below["state"], below["value"], below["description"]) == ("triggered", "100.00", "low")
    assert (above["state"], above["value"], above["version"]) == ("ok", "100.50", 1)
    assert large["state"] == "ok"
    assert below["account_id"] == account_id
    assert is_moment(below["created_at"])
    assert below["id"].startswith("mon_")


def test_credit_utilization_takes_a_percent(api: Api) -> None:
    # GIVEN an account on a 100.00 credit line
    account_id = new_account(api, new_ledger(api), overdraft={"mode": "limit", "limit": "100.00"})
    # WHEN a utilization monitor of 87.5 percent is created
    monitor = create(
        api, account_id, {"field": "credit_utilization", "operator": "gte", "value": "87.50"}
    )
    # THEN its value is the percent, and nothing is drawn yet
    assert (monitor["value"], monitor["state"]) == ("87.5", "ok")


def test_monitors_are_listed_oldest_first_in_pages_and_deleted(api: Api) -> None:
    # GIVEN three monitors of an account
    account_id = new_account(api, new_ledger(api))
    made = [
        create(api, account_id, {"field": "held", "operator": "gt", "value": str(amount)})["id"]
        for amount in (1, 2, 3)
    ]
    # WHEN they are listed two at a time
    first = api.call("GET", monitors_of(account_id), query={"limit": 2})
    cursor = first.json["next_cursor"]
    second = api.call("GET", monitors_of(account_id), query={"limit": 2, "cursor": cursor})
    # THEN every one comes once, oldest first
    assert [item["id"] for item in first.json["items"] + second.json["items"]] == made
    assert second.json["next_cursor"] is None
    # AND a deleted one is gone, and deleting it again is not found
    removed = api.call("DELETE", f"{monitors_of(account_id)}/{made[0]}")
    assert (removed.status, removed.json["id"]) == (200, made[0])
    left = api.call("GET", monitors_of(account_id)).json["items"]
    assert [item["id"] for item in left] == made[1:]
    again = api.call("DELETE", f"{monitors_of(account_id)}/{made[0]}")
    assert again.error()[:2] == (404, "not_found")


def test_a_replayed_creation_answers_the_same_and_a_reused_key_is_refused(api: Api) -> None:
    # GIVEN a monitor created with an idempotency key
    account_id = new_account(api, new_ledger(api))
    key = random_key()
    body = {"field": "available", "operator": "lt", "value": "5"}
    first = api.call("POST", monitors_of(account_id), body, headers={"Idempotency-Key": key})
    # WHEN the same request comes again, and the key with another body
    again = api.call("POST", monitors_of(account_id), body, headers={"Idempotency-Key": key})
    other = api.call(
        "POST", monitors_of(account_id), {**body, "value": "6"}, headers={"Idempotency-Key": key}
    )
    # THEN the first is replayed, the second refused
    assert (again.status, again.json) == (201, first.json)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert other.error()[:2] == (409, "idempotency_key_reused")
    assert len(api.call("GET", monitors_of(account_id)).json["items"]) == 1


def test_an_account_holds_a_bounded_number_of_monitors(api: Api) -> None:
    # GIVEN an account with as many monitors as it may hold
    account_id = new_account(api, new_ledger(api))
    for amount in range(limits.monitors_per_account_max):
        create(api, account_id, {"field": "posted", "operator": "gt", "value": str(amount)})
    # WHEN one more is asked for THEN it is refused, with nothing written
    with api.nothing_written():
        reply = api.call(
            "POST", monitors_of(account_id), {"field": "posted", "operator": "gt", "value": "99"}
        )
    status, code, details = reply.error()
    assert (status, code, details["max"]) == (422, "too_many_monitors", 20)


def test_a_sharded_account_takes_monitors(api: Api) -> None:
    # GIVEN a revenue account of 4 shards with money on it
    ledger_id = new_ledger(api)
    revenue = new_account(api, ledger_id, "revenue", overdraft={"mode": "allow"}, shards=4)
    # WHEN a monitor of it is created THEN it is evaluated on its summed balance
    monitor = create(api, revenue, {"field": "posted", "operator": "lte", "value": "0"})
    assert (monitor["state"], monitor["version"]) == ("triggered", 0)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"field": "balance", "operator": "lt", "value": "1"}, "field"),
        ({"field": "posted", "operator": "eq", "value": "1"}, "operator"),
        ({"field": "posted", "operator": "lt", "value": 1}, "value"),
        ({"field": "posted", "operator": "lt", "value": "1.001"}, "value"),
        ({"field": "available", "operator": "lt", "value": "-1"}, "value"),
        ({"field": "credit_utilization", "operator": "lt", "value": "101"}, "value"),
        ({"field": "posted", "operator": "lt"}, "value"),
        ({"field": "posted", "operator": "lt", "value": "1", "extra": 1}, "extra"),
        ({"field": "posted", "operator": "lt", "value": "1", "description": "\x00"}, None),
    ],
)
def test_bad_input_is_refused_by_name_with_nothing_written(
    api: Api, wallet: str, body: dict[str, Any], field: str | None
) -> None:
    # GIVEN a body no monitor can be made from WHEN it is sent
    with api.nothing_written():
        reply = api.call("POST", monitors_of(wallet), body)
    # THEN it is a 400 naming the field
    status, code, details = reply.error()
    assert (status, code) == (400, "validation_error")
    if field is not None:
        assert details["field"] == field


def test_unknown_accounts_and_monitors_are_not_found(api: Api, wallet: str) -> None:
    # GIVEN a well-formed account id that names no account, and monitor ids of none
    ledger_id = new_ledger(api)
    stranger = new_account(api, ledger_id)[:-4] + "zzzz"
    body = {"field": "posted", "operator": "lt", "value": "1"}
    # WHEN they are used THEN each is a 404
    assert api.call("POST", monitors_of(stranger), body).error()[:2] == (404, "not_found")
    assert api.call("GET", monitors_of(stranger)).error()[:2] == (404, "not_found")
    assert api.call("GET", monitors_of("acc_nonsense")).error()[:2] == (404, "not_found")
    for monitor_id in ("mon_nonsense", "mon_" + "a" * 16):
        reply = api.call("DELETE", f"{monitors_of(wallet)}/{monitor_id}")
        assert reply.error()[:2] == (404, "not_found")


def test_readers_read_operators_write_and_scopes_hide_or_forbid(
    api: Api, keys: Keys, wallet: str
) -> None:
    # GIVEN a monitor of the wallet, a reader, and an operator scoped to another ledger
    monitor = create(api, wallet, {"field": "posted", "operator": "lt", "value": "1"})
    outsider = keys.of("operator", ledger_ids=[new_ledger(api)])
    body = {"field": "posted", "operator": "lt", "value": "2"}
    # WHEN each asks THEN the reader reads but neither the reader nor the outsider writes
    listed = api.call("GET", monitors_of(wallet), key=keys.reader)
    assert monitor["id"] in [item["id"] for item in listed.json["items"]]
    with api.nothing_written():
        refused = [
            api.call("POST", monitors_of(wallet), body, key=keys.reader),
            api.call("DELETE", f"{monitors_of(wallet)}/{monitor['id']}", key=keys.reader),
            api.call("POST", monitors_of(wallet), body, key=outsider),
            api.call("DELETE", f"{monitors_of(wallet)}/{monitor['id']}", key=outsider),
        ]
    assert [reply.error()[:2] for reply in refused] == [(403, "forbidden")] * 4
    hidden = api.call("GET", monitors_of(wallet), key=outsider)
    assert hidden.error()[:2] == (404, "not_found")
    # AND an operator writes
    made = create(api, wallet, body, key=keys.operator)
    assert made["value"] == "2.00"
