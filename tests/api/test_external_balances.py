"""External balance checks through the API: checked, stored and listed; a mismatch emits
its event; roles and scopes as for other ledger routes; bad input refused, nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from .builders import deposit, is_moment, new_account, new_ledger
from .harness import Api, Keys, random_key

check_fields = {
    "id",
    "source",
    "currency",
    "external",
    "ledger_total",
    "difference",
    "within_tolerance",
    "accounts_counted",
    "as_of",
    "tolerance",
    "checked_at",
    "account_ids",
    "account_type",
    "checked_by",
}


def checks_of(ledger_id: str) -> str:
    return f"/v1/ledgers/{ledger_id}/external-balances"


def check(api: Api, ledger_id: str, body: dict[str, Any], **options: Any) -> dict[str, Any]:
    reply = api.call("POST", checks_of(ledger_id), body, **options)
    assert reply.status == 201, reply.json
    made: dict[str, Any] = reply.json
    return made


def outbox_items(api: Api) -> list[Any]:
    return [item for (pk, _), item in api.state().items() if pk.startswith("OUTBOX#")]


@pytest.fixture(scope="module")
def book(api: Api) -> tuple[str, str]:
    """A ledger with a wallet of 50.00, for tests that only read or are refused."""
    ledger_id = new_ledger(api)
    account_id = new_account(api, ledger_id)
    deposit(api, account_id, "50.00")
    return ledger_id, account_id


def test_a_check_answers_the_contract_and_a_mismatch_writes_its_event(api: Api) -> None:
    # GIVEN a ledger with two wallets of 50.00 and 0.50
    ledger_id = new_ledger(api)
    wallets = [new_account(api, ledger_id) for _ in range(2)]
    deposit(api, wallets[0], "50.00")
    deposit(api, wallets[1], "0.50")
    before = len(outbox_items(api))
    # WHEN the bank's 50.50 is checked by ids, and 49 by type with a tolerance of 1.00
    agreed = check(
        api,
        ledger_id,
        {"source": "bank", "currency": "USD", "amount": "50.5", "account_ids": wallets},
    )
    off = check(
        api,
        ledger_id,
        {
            "source": "bank",
            "currency": "USD",
            "amount": "49",
            "account_type": "liability",
            "tolerance": "1",
        },
    )
    # THEN each is the contract's object with the amounts in the currency's scale
    assert set(agreed) == check_fields
    assert (agreed["external"], agreed["ledger_total"], agreed["difference"]) == (
        "50.50",
        "50.50",
        "0.00",
    )
    assert (agreed["within_tolerance"], agreed["accounts_counted"]) == (True, 2)
    assert (agreed["account_ids"], agreed["account_type"], agreed["tolerance"]) == (
        wallets,
        None,
        "0.00",
    )
    assert agreed["id"].startswith("ext_")
    assert agreed["checked_by"].startswith("key_")
    assert is_moment(agreed["as_of"])
    assert is_moment(agreed["checked_at"])
    assert (off["difference"], off["within_tolerance"], off["account_type"]) == (
        "-1.50",
        False,
        "liability",
    )
    # AND only the mismatch wrote an event
    assert len(outbox_items(api)) == before + 1


def test_checks_are_listed_by_source_newest_first_in_pages(api: Api) -> None:
    # GIVEN two checks of "bank" and one of "chain"
    ledger_id = new_ledger(api)
    wallet = new_account(api, ledger_id)
    body = {"currency": "USD", "amount": "0", "account_ids": [wallet]}
    made = [
        check(api, ledger_id, {**body, "source": source})["id"]
        for source in ("bank", "chain", "bank")
    ]
    # WHEN all are listed two at a time, and "chain" alone
    first = api.call("GET", checks_of(ledger_id), query={"limit": 2})
    cursor = first.json["next_cursor"]
    second = api.call("GET", checks_of(ledger_id), query={"limit": 2, "cursor": cursor})
    chain = api.call("GET", checks_of(ledger_id), query={"source": "chain"})
    # THEN bank's come newest first, then chain's, each once
    listed = [item["id"] for item in first.json["items"] + second.json["items"]]
    assert listed == [made[2], made[0], made[1]]
    assert second.json["next_cursor"] is None
    assert [item["id"] for item in chain.json["items"]] == [made[1]]
    # AND a cursor given to another source's listing is refused
    moved = api.call("GET", checks_of(ledger_id), query={"source": "chain", "cursor": cursor})
    assert moved.error()[:2] == (400, "validation_error")


def test_a_replay_answers_the_same_and_a_reused_key_is_refused(
    api: Api, book: tuple[str, str]
) -> None:
    # GIVEN a check made with an idempotency key
    ledger_id, wallet = book
    key = random_key()
    body = {"source": "bank", "currency": "USD", "amount": "1.00", "account_ids": [wallet]}
    first = api.call("POST", checks_of(ledger_id), body, headers={"Idempotency-Key": key})
    # WHEN the same request comes again, and the key with another body
    with api.nothing_written():
        again = api.call("POST", checks_of(ledger_id), body, headers={"Idempotency-Key": key})
        other = api.call(
            "POST", checks_of(ledger_id), {**body, "amount": "2"}, headers={"Idempotency-Key": key}
        )
    # THEN the first is replayed, the second refused
    assert (first.status, again.status, again.json) == (201, 201, first.json)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert other.error()[:2] == (409, "idempotency_key_reused")


def future() -> str:
    return (datetime.now(UTC) + timedelta(days=1)).isoformat()


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"amount": 1}, (400, "validation_error", "amount")),
        ({"amount": "1.001"}, (400, "validation_error", "amount")),
        ({"amount": "+1"}, (400, "validation_error", "amount")),
        ({"tolerance": "-1"}, (400, "validation_error", "tolerance")),
        ({"source": "a b"}, (400, "validation_error", "source")),
        ({"source": ""}, (400, "validation_error", "source")),
        ({"currency": "XYZ"}, (400, "validation_error", "currency")),
        ({"account_ids": None}, (400, "validation_error", "account_ids")),
        ({"account_type": "liability"}, (400, "validation_error", "account_type")),
        ({"account_ids": []}, (400, "validation_error", "account_ids")),
        (
            {"account_ids": None, "account_type": "wallet"},
            (400, "validation_error", "account_type"),
        ),
        ({"as_of": "yesterday"}, (400, "validation_error", "as_of")),
        ({"as_of": "FUTURE"}, (400, "validation_error", "as_of")),
        ({"as_of": "2026-01-01T00:00:00Z"}, (501, "history_not_kept", None)),
        ({"account_ids": ["acc_nonsense"]}, (404, "not_found", None)),
        ({"currency": "EUR"}, (422, "currency_mismatch", None)),
        ({"extra": 1}, (400, "validation_error", "extra")),
    ],
)
def test_bad_input_is_refused_by_name_with_nothing_written(
    api: Api,
    book: tuple[str, str],
    changes: dict[str, Any],
    expected: tuple[int, str, str | None],
) -> None:
    # GIVEN a body no check can be made from WHEN it is sent
    ledger_id, wallet = book
    body = {"source": "bank", "currency": "USD", "amount": "1.00", "account_ids": [wallet]}
    body.update({name: future() if value == "FUTURE" else value for name, value in changes.items()})
    body = {name: value for name, value in body.items() if value is not None}
    with api.nothing_written():
        reply = api.call("POST", checks_of(ledger_id), body)
    # THEN it is refused with its code, naming the field
    status, code, field = expected
    found_status, found_code, details = reply.error()
    assert (found_status, found_code) == (status, code)
    if field is not None:
        assert details["field"] == field


def test_an_account_of_another_ledger_is_a_ledger_mismatch(api: Api, book: tuple[str, str]) -> None:
    # GIVEN an account of another ledger
    ledger_id, _ = book
    stranger = new_account(api, new_ledger(api))
    body = {"source": "bank", "currency": "USD", "amount": "1.00", "account_ids": [stranger]}
    # WHEN it is checked against this ledger THEN it is refused, with nothing written
    with api.nothing_written():
        reply = api.call("POST", checks_of(ledger_id), body)
    assert reply.error()[:2] == (422, "ledger_mismatch")


def test_unknown_ledgers_are_not_found(api: Api) -> None:
    # GIVEN a well-formed ledger id that names no ledger
    ledger_id = "ldg_" + "a" * 16
    body = {"source": "bank", "currency": "USD", "amount": "1.00", "account_type": "asset"}
    # WHEN it is checked or listed THEN each is a 404, with nothing written
    with api.nothing_written():
        assert api.call("POST", checks_of(ledger_id), body).error()[:2] == (404, "not_found")
    assert api.call("GET", checks_of(ledger_id)).error()[:2] == (404, "not_found")


def test_readers_read_operators_write_and_scopes_hide_or_forbid(
    api: Api, keys: Keys, book: tuple[str, str]
) -> None:
    # GIVEN a check of the ledger, a reader, and an operator scoped to another ledger
    ledger_id, wallet = book
    body = {"source": "bank", "currency": "USD", "amount": "50.00", "account_ids": [wallet]}
    made = check(api, ledger_id, body)
    outsider = keys.of("operator", ledger_ids=[new_ledger(api)])
    # WHEN each asks THEN the reader reads but neither the reader nor the outsider writes
    listed = api.call("GET", checks_of(ledger_id), key=keys.reader)
    assert made["id"] in [item["id"] for item in listed.json["items"]]
    with api.nothing_written():
        refused = [
            api.call("POST", checks_of(ledger_id), body, key=keys.reader),
            api.call("POST", checks_of(ledger_id), body, key=outsider),
        ]
    assert [reply.error()[:2] for reply in refused] == [(403, "forbidden")] * 2
    hidden = api.call("GET", checks_of(ledger_id), key=outsider)
    assert hidden.error()[:2] == (404, "not_found")
    # AND an operator writes, as itself
    mine = check(api, ledger_id, body, key=keys.operator)
    assert mine["checked_by"] != made["checked_by"]
