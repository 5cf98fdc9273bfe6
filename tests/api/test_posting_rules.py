"""Posting rules through the API: versions, reads, listings, dry runs, scope and refusals."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from ledger.auth.api_keys import Role

from .builders import balance, deposit, new_account, new_ledger
from .harness import Api, Keys

event_type = "expense.created"


def rules_path(ledger_id: str, event: str = event_type) -> str:
    """The path of a ledger's rule for an event type."""
    return f"/v1/ledgers/{ledger_id}/posting-rules/{event}"


def expense_rule() -> dict[str, Any]:
    """Credit the payment account (by code), debit the expense account (by id)."""
    return {
        "lines": [
            {"account_code": "cash", "side": "credit", "amount": "{{data.amount}}"},
            {
                "account_id": "{{data.expense_account_id}}",
                "side": "debit",
                "amount": "{{data.amount}}",
            },
        ],
        "reference": "{{data.invoice}}",
        "description": "Expense {{data.invoice}}",
    }


def books(api: Api, funded: str = "100") -> tuple[str, str, str]:
    """A ledger with a cash account of code `cash` (funded) and an expense account."""
    ledger_id = new_ledger(api)
    cash = new_account(api, ledger_id, "asset", code="cash")
    expense = new_account(api, ledger_id, "expense")
    deposit(api, cash, funded)
    return ledger_id, cash, expense


def event(ledger_id: str, expense: str, amount: str = "12.50", **changes: Any) -> dict[str, Any]:
    """An expense event for the ledger."""
    return {
        "id": f"evt-{secrets.token_hex(6)}",
        "type": event_type,
        "ledger_id": ledger_id,
        "occurred_at": "2026-03-01T09:30:00Z",
        "data": {"amount": amount, "expense_account_id": expense, "invoice": "INV-7"},
        **changes,
    }


def test_each_put_is_the_next_version_and_reads_answer_the_latest(api: Api) -> None:
    # GIVEN a ledger
    ledger_id = new_ledger(api)

    # WHEN its rule for an event type is put twice
    first = api.call("PUT", rules_path(ledger_id), expense_rule())
    changed = {**expense_rule(), "description": "Paid {{data.invoice}}"}
    second = api.call("PUT", rules_path(ledger_id), changed)

    # THEN each answers 200 with its version, and reads give the latest or the one asked
    assert (first.status, second.status) == (200, 200), (first.json, second.json)
    assert (first.json["version"], second.json["version"]) == (1, 2)
    assert second.json["event_type"] == event_type
    assert second.json["ledger_id"] == ledger_id
    assert second.json["lines"][0] == {
        "account_id": None,
        "account_code": "cash",
        "side": "credit",
        "amount": "{{data.amount}}",
    }
    assert second.json["reference"] == "{{data.invoice}}"
    assert api.call("GET", rules_path(ledger_id)).json == second.json
    assert api.call("GET", rules_path(ledger_id), query={"version": 1}).json == first.json


def test_the_listing_holds_the_latest_rule_of_each_type_in_pages(api: Api) -> None:
    # GIVEN a ledger with three rules, one of them put twice
    ledger_id = new_ledger(api)
    for name in ("payment.made", "expense.created", "income.received", "expense.created"):
        assert api.call("PUT", rules_path(ledger_id, name), expense_rule()).status == 200

    # WHEN they are listed two at a time
    first = api.call("GET", f"/v1/ledgers/{ledger_id}/posting-rules", query={"limit": 2})
    rest = api.call(
        "GET",
        f"/v1/ledgers/{ledger_id}/posting-rules",
        query={"limit": 2, "cursor": first.json["next_cursor"]},
    )

    # THEN every type appears once, by type, at its latest version
    listed = [(rule["event_type"], rule["version"]) for rule in first.json["items"]]
    listed += [(rule["event_type"], rule["version"]) for rule in rest.json["items"]]
    assert listed == [("expense.created", 2), ("income.received", 1), ("payment.made", 1)]
    assert rest.json["next_cursor"] is None


def test_a_dry_run_answers_the_entry_and_writes_nothing(api: Api, keys: Keys) -> None:
    # GIVEN books with an expense rule
    ledger_id, cash, expense = books(api)
    api.call("PUT", rules_path(ledger_id), expense_rule())
    body = {"event": event(ledger_id, expense)}
    operator = keys.operator

    # WHEN an operator dry-runs an event
    with api.nothing_written():
        reply = api.call("POST", f"{rules_path(ledger_id)}/dry-run", body, key=operator)

    # THEN the entry it would post is answered, marked a dry run, from version 1
    assert reply.status == 200, reply.json
    assert reply.json["dry_run"] is True
    assert reply.json["kind"] == "entry"
    assert reply.json["reference"] == "INV-7"
    assert reply.json["effective_at"] == "2026-03-01T09:30:00Z"
    assert reply.json["posting_rule"] == {
        "event_type": event_type,
        "version": 1,
        "event_id": body["event"]["id"],
    }
    assert {(line["account_id"], line["side"], line["amount"]) for line in reply.json["lines"]} == {
        (cash, "credit", "12.50"),
        (expense, "debit", "12.50"),
    }
    assert balance(api, cash)["posted"] == "100.00"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"data": {"amount": "500.00", "invoice": "x"}}, (400, "validation_error")),
        ("insufficient", (422, "insufficient_funds")),
        ("unknown_account", (404, "not_found")),
        ({"data": {"amount": 12.5}}, (400, "validation_error")),
        ({"type": "income.received"}, (400, "validation_error")),
        ({"ledger_id": "ldg_aaaaaaaaaaaaaaaa"}, (400, "validation_error")),
        ({"occurred_at": "yesterday"}, (400, "validation_error")),
    ],
)
def test_a_dry_run_is_refused_as_a_real_post_would_be(
    api: Api, change: Any, expected: tuple[int, str]
) -> None:
    # GIVEN books with an expense rule and an event the change spoils
    ledger_id, _, expense = books(api, funded="10")
    api.call("PUT", rules_path(ledger_id), expense_rule())
    sent = event(ledger_id, expense)
    if change == "insufficient":
        sent["data"]["amount"] = "10.01"
    elif change == "unknown_account":
        sent["data"]["amount"] = "5.00"
        sent["data"]["expense_account_id"] = expense[:-4] + "aaaa"
    else:
        sent = {**sent, **change}

    # WHEN it is dry-run
    with api.nothing_written():
        reply = api.call("POST", f"{rules_path(ledger_id)}/dry-run", {"event": sent})

    # THEN it is refused with the real post's refusal
    assert reply.error()[:2] == expected, reply.json


def test_a_dry_run_without_a_rule_is_not_found(api: Api) -> None:
    # GIVEN books without a rule for payments
    ledger_id, _, expense = books(api)
    sent = event(ledger_id, expense, type="payment.made")

    # WHEN a payment is dry-run
    reply = api.call("POST", f"{rules_path(ledger_id, 'payment.made')}/dry-run", {"event": sent})

    # THEN no rule is found
    status, code, details = reply.error()
    assert (status, code, details) == (
        404,
        "not_found",
        {"resource": "posting_rule", "id": "payment.made"},
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {
                "lines": [{"account_code": "cash", "side": "debit", "amount": "{{data.a | upper}}"}]
                * 2
            },
            "lines[0].amount",
        ),
        (
            {"lines": [{"account_code": "cash", "side": "debit", "amount": "{{ 1 + 1 }}"}] * 2},
            "lines[0].amount",
        ),
        ({"lines": [{"side": "debit", "amount": "1"}] * 2}, "lines[0].account_id"),
        (
            {"lines": [{"account_id": "acc_x", "side": "debit", "amount": "1"}] * 2},
            "lines[0].account_id",
        ),
        ({"lines": [{"account_code": "a", "side": "debit", "amount": 1}] * 2}, "lines[0].amount"),
        ({"lines": [{"account_code": "a", "side": "debit", "amount": "1"}]}, "lines"),
        ({**expense_rule(), "reference": "{{data.x}"}, "reference"),
    ],
)
def test_a_rule_with_anything_but_data_placeholders_is_refused(
    api: Api, body: dict[str, Any], field: str
) -> None:
    # GIVEN a ledger
    ledger_id = new_ledger(api)

    # WHEN a rule holding something else than a plain placeholder is put
    with api.nothing_written():
        reply = api.call("PUT", rules_path(ledger_id), body)

    # THEN it is refused, naming the field
    status, code, details = reply.error()
    assert (status, code) == (400, "validation_error"), reply.json
    assert field in str(details), details


def test_an_event_type_that_no_rule_can_have_is_refused_or_not_found(api: Api) -> None:
    # GIVEN a ledger
    ledger_id = new_ledger(api)

    # WHEN a rule is put for a malformed type, and a malformed type is read
    put = api.call("PUT", rules_path(ledger_id, "Expense"), expense_rule())
    read = api.call("GET", rules_path(ledger_id, "Expense"))

    # THEN the put is a validation error and the read finds nothing
    assert put.error()[:2] == (400, "validation_error")
    assert read.error()[:2] == (404, "not_found")


def test_roles_and_scope_are_checked(api: Api, keys: Keys) -> None:
    # GIVEN a ledger with a rule, and keys of each role, one scoped to another ledger
    ledger_id, _, expense = books(api)
    api.call("PUT", rules_path(ledger_id), expense_rule())
    elsewhere = keys.of(Role.ADMIN, ledger_ids=[new_ledger(api)])
    dry_run = {"event": event(ledger_id, expense)}

    # WHEN they put, read and dry-run
    by_operator = api.call("PUT", rules_path(ledger_id), expense_rule(), key=keys.operator)
    by_reader = api.call("POST", f"{rules_path(ledger_id)}/dry-run", dry_run, key=keys.reader)
    read = api.call("GET", rules_path(ledger_id), key=keys.reader)
    outside_put = api.call("PUT", rules_path(ledger_id), expense_rule(), key=elsewhere)
    outside_read = api.call("GET", rules_path(ledger_id), key=elsewhere)
    outside_list = api.call("GET", f"/v1/ledgers/{ledger_id}/posting-rules", key=elsewhere)

    # THEN writes need their role and scope (403), reads outside the scope see nothing (404)
    assert by_operator.error()[:2] == (403, "forbidden")
    assert by_reader.error()[:2] == (403, "forbidden")
    assert read.status == 200
    assert outside_put.error()[:2] == (403, "forbidden")
    assert outside_read.error()[:2] == (404, "not_found")
    assert outside_list.error()[:2] == (404, "not_found")


def test_a_rule_of_a_ledger_that_does_not_exist_is_not_found(api: Api) -> None:
    # GIVEN / WHEN a rule is put for a ledger id nobody created, and one is read
    put = api.call("PUT", rules_path("ldg_aaaaaaaaaaaaaaaa"), expense_rule())
    read = api.call("GET", rules_path(new_ledger(api)))

    # THEN both are not found
    assert put.error()[:2] == (404, "not_found")
    assert read.error() == (404, "not_found", {"resource": "posting_rule", "id": event_type})
