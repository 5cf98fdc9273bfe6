"""Reports over HTTP: trial balance, balance sheet and reconciliation, rendered to scale."""

from __future__ import annotations

from .builders import deposit, new_account, new_ledger
from .harness import Api, Keys


def _spend(api: Api, account_id: str, amount: str) -> None:
    reply = api.call("POST", "/v1/spends", {"account_id": account_id, "amount": amount})
    assert reply.status == 201, reply.json


def test_trial_balance_shows_each_account_on_its_side_and_balances(api: Api) -> None:
    # GIVEN a wallet that received 100.50 and spent 20.25
    ledger_id = new_ledger(api)
    wallet = new_account(api, ledger_id)
    deposit(api, wallet, "100.50")
    _spend(api, wallet, "20.25")

    # WHEN the trial balance in USD is asked for
    reply = api.call("GET", f"/v1/ledgers/{ledger_id}/trial-balance", query={"currency": "USD"})

    # THEN the wallet stands at 80.25 credit, the world at 80.25 debit, and it balances
    assert reply.status == 200
    lines = {line["account_id"]: line for line in reply.json["lines"]}
    assert (lines[wallet]["debit"], lines[wallet]["credit"]) == ("0.00", "80.25")
    world = next(line for line in reply.json["lines"] if line["system"])
    assert (world["debit"], world["credit"]) == ("80.25", "0.00")
    assert (reply.json["total_debits"], reply.json["total_credits"]) == ("80.25", "80.25")
    assert reply.json["balanced"] is True
    assert reply.json["currency"] == "USD"


def test_balance_sheet_rolls_children_up_into_their_parent(api: Api) -> None:
    # GIVEN a parent liability account with a funded child
    ledger_id = new_ledger(api)
    parent = new_account(api, ledger_id)
    child = new_account(api, ledger_id, parent_id=parent)
    deposit(api, child, "7.00")

    # WHEN the balance sheet is asked for
    reply = api.call("GET", f"/v1/ledgers/{ledger_id}/balance-sheet", query={"currency": "USD"})

    # THEN the parent's total includes its child, and assets equal liabilities plus equity
    assert reply.status == 200
    roots = {node["account_id"]: node for node in reply.json["accounts"]["liability"]}
    assert (roots[parent]["balance"], roots[parent]["total"]) == ("0.00", "7.00")
    assert [node["account_id"] for node in roots[parent]["children"]] == [child]
    assert reply.json["liabilities"] == "7.00"
    assert reply.json["equity"] == "-7.00"
    assert reply.json["balanced"] is True


def test_a_reconciliation_of_a_healthy_ledger_is_ok(api: Api) -> None:
    # GIVEN a ledger with some business
    ledger_id = new_ledger(api)
    wallet = new_account(api, ledger_id)
    deposit(api, wallet, "12.00")

    # WHEN it is reconciled
    reply = api.call("POST", f"/v1/ledgers/{ledger_id}/reconciliations")

    # THEN nothing is amiss and the USD totals balance
    assert reply.status == 200
    assert (reply.json["ok"], reply.json["mismatches"]) == (True, [])
    assert reply.json["totals"]["USD"] == {
        "posted_debits": "12.00",
        "posted_credits": "12.00",
        "pending_debits": "0.00",
        "pending_credits": "0.00",
        "balanced": True,
        "escrowed": "0.00",
        "available": "12.00",
    }
    assert (reply.json["accounts_checked"], reply.json["entries_checked"]) == (2, 1)


def test_a_reconciliation_reports_a_tampered_account_in_its_currency(api: Api) -> None:
    # GIVEN an account whose stored credits were altered behind the ledger's back
    ledger_id = new_ledger(api)
    wallet = new_account(api, ledger_id)
    deposit(api, wallet, "12.00")
    api.key_store.client.update_item(
        TableName=api.table_name,
        Key={"pk": {"S": f"ACCOUNT#{wallet}"}, "sk": {"S": "ACCOUNT"}},
        UpdateExpression="SET posted_credits = :forged",
        ExpressionAttributeValues={":forged": {"N": "1300"}},
    )

    # WHEN it is reconciled
    reply = api.call("POST", f"/v1/ledgers/{ledger_id}/reconciliations")

    # THEN the mismatch names the account, the field and both amounts to scale
    assert reply.status == 200
    assert reply.json["ok"] is False
    assert {
        "account_id": wallet,
        "field": "posted_credits",
        "expected": "12.00",
        "actual": "13.00",
        "kind": "journal",
        "shard": 0,
        "missing_versions": [],
    } in reply.json["mismatches"]


def test_reports_outside_the_keys_scope_are_not_found_and_readers_cannot_reconcile(
    api: Api, keys: Keys
) -> None:
    # GIVEN a ledger, a key scoped to another ledger, and a reader of this one
    ledger_id = new_ledger(api)
    stranger = keys.of("admin", ledger_ids=[new_ledger(api)])
    reader = keys.of("reader", ledger_ids=[ledger_id])

    # WHEN they ask for its reports
    hidden = api.call(
        "GET", f"/v1/ledgers/{ledger_id}/trial-balance", query={"currency": "USD"}, key=stranger
    )
    refused = api.call("POST", f"/v1/ledgers/{ledger_id}/reconciliations", key=reader)

    # THEN the stranger sees nothing and the reader may not run a reconciliation
    assert hidden.error() == (404, "not_found", {"resource": "ledger", "id": ledger_id})
    assert refused.error()[:2] == (403, "forbidden")


def test_a_report_in_an_unknown_currency_is_a_validation_error(api: Api) -> None:
    # GIVEN a ledger
    ledger_id = new_ledger(api)

    # WHEN its balance sheet is asked for in a currency it does not know
    reply = api.call("GET", f"/v1/ledgers/{ledger_id}/balance-sheet", query={"currency": "XYZ"})

    # THEN the currency is named as the problem
    assert reply.error()[:2] == (400, "validation_error")
    assert reply.json["error"]["details"] == {"field": "currency"}
