"""Statement matching over HTTP: its shape, the operator role, large bodies, and bad input
refused with the error contract and nothing written. Moto keeps no history (no consumer
runs), so no entry is a candidate here; the matching itself is tested on the library."""

from __future__ import annotations

import json
from typing import Any

import pytest

from ledger.domain import limits

from .builders import new_account, new_ledger
from .harness import Api, Keys

projections = "history,audit"
row = {"id": "r1", "amount": "-10.00", "date": "2026-03-02T09:00:00Z", "reference": "x"}


def matches_of(ledger_id: str) -> str:
    return f"/v1/ledgers/{ledger_id}/statement-matches"


@pytest.fixture(scope="module")
def account(api: Api) -> str:
    return new_account(api, new_ledger(api))


def ledger_of(account_id: str) -> str:
    return "ldg_" + account_id.split("_")[1]


def body(account_id: str, **fields: Any) -> dict[str, Any]:
    return {"account_id": account_id, "source": "bank", "rows": [row], **fields}


def test_a_run_answers_the_contract_shape(api: Api, account: str, keys: Keys) -> None:
    ledger_id = ledger_of(account)
    rules = {
        "match_on": ["amount", "date"],
        "date_tolerance_s": 60,
        "amount_tolerance": "0.05",
        "strategy": "one_to_many",
    }
    # WHEN an operator runs a statement, dry and with rules
    reply = api.call(
        "POST",
        matches_of(ledger_id),
        body(account, rules=rules, dry_run=True),
        key=keys.operator,
    )
    # THEN the answer has API.md's fields; nothing is there to match
    assert reply.status == 200, reply.json
    assert set(reply.json) == {
        "run_id",
        "matched",
        "unmatched_external",
        "unmatched_entries",
        "already_matched",
        "dry_run",
    }
    assert reply.json["run_id"].startswith("mrun_")
    assert (reply.json["matched"], reply.json["unmatched_external"]) == ([], ["r1"])
    assert reply.json["dry_run"] is True
    # AND a reader may not run one
    refused = api.call("POST", matches_of(ledger_id), body(account), key=keys.reader)
    assert refused.status == 403


def test_ten_thousand_rows_fit_in_one_body(api: Api, account: str) -> None:
    ledger_id = ledger_of(account)
    rows = [
        {**row, "id": f"bank-2026-03-{n:08d}", "description": "card payment, shop 1234"}
        for n in range(limits.statement_rows_max)
    ]
    sent = body(account, rows=rows, dry_run=True)
    assert len(json.dumps(sent)) > limits.request_body_bytes_max
    reply = api.call("POST", matches_of(ledger_id), sent)
    assert reply.status == 200, reply.json
    assert len(reply.json["unmatched_external"]) == limits.statement_rows_max


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"source": "a b"}, "source"),
        ({"rows": []}, "rows"),
        ({"rows": [row] * (limits.statement_rows_max + 1)}, "rows"),
        ({"rows": [{**row, "amount": 10}]}, "rows[0].amount"),
        ({"rows": [row, {**row, "id": "r2", "amount": "1.001"}]}, "rows[1].amount"),
        ({"rows": [{**row, "date": "2026-03-02"}]}, "rows[0].date"),
        ({"rows": [{**row, "colour": "red"}]}, "rows[0].colour"),
        ({"rows": [row, row]}, "rows[1].id"),
        ({"rules": {"strategy": "all"}}, "rules.strategy"),
        ({"rules": {"amount_tolerance": "-1"}}, "rules.amount_tolerance"),
        ({"dry_run": "yes"}, "dry_run"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(
    api: Api, account: str, change: dict[str, Any], field: str
) -> None:
    ledger_id = ledger_of(account)
    with api.nothing_written():
        reply = api.call("POST", matches_of(ledger_id), {**body(account), **change})
    assert reply.status == 400, reply.json
    assert reply.json["error"]["code"] == "validation_error"
    assert reply.json["error"]["details"]["field"] == field


def test_other_ledgers_and_unknown_accounts_are_refused(api: Api, account: str) -> None:
    other = new_ledger(api)
    with api.nothing_written():
        mismatch = api.call("POST", matches_of(other), body(account))
        unknown = api.call("POST", matches_of(ledger_of(account)), body(account[:-4] + "aaaa"))
    assert (mismatch.status, mismatch.json["error"]["code"]) == (422, "ledger_mismatch")
    assert (unknown.status, unknown.json["error"]["code"]) == (404, "not_found")


def test_a_body_over_the_route_bound_is_refused(api: Api, account: str) -> None:
    ledger_id = ledger_of(account)
    raw = b'{"pad": "' + b"x" * limits.statement_match_body_bytes_max + b'"}'
    with api.nothing_written():
        reply = api.call("POST", matches_of(ledger_id), raw_body=raw)
    assert reply.status == 400
    assert reply.json["error"]["details"]["field"] == "body"
