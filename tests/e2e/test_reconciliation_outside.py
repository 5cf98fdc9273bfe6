"""Reconciliation against the outside world under `ledger dev`: a bank statement matched over
HTTP and from the CLI, and external balance checks, one outside its tolerance published as
`ledger.reconciliation.mismatch` on the local bus."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ledger.cli import main

from .builders import call, new_account, new_ledger, ok, once_projected, token
from .conftest import DevServer

pytestmark = pytest.mark.xdist_group("e2e")


def booked(server: DevServer, account_id: str, amount: str, reference: str, at: str) -> str:
    """The id of a deposit into the account, of that reference and effective time."""
    body = {"account_id": account_id, "amount": amount, "reference": reference, "effective_at": at}
    entry_id: str = ok(call(server, "POST", "/v1/deposits", body), 201)["id"]
    return entry_id


def published(server: DevServer, detail_type: str, check_id: str) -> list[dict[str, Any]]:
    """The events of that type about the check on the local bus so far."""
    bus = Path(server.data_dir) / "events.jsonl"
    lines = bus.read_text().splitlines() if bus.exists() else []
    events = [json.loads(line) for line in lines]
    return [
        event
        for event in events
        if event["detail-type"] == detail_type and event["detail"].get("id") == check_id
    ]


def test_a_bank_statement_is_matched_once_and_its_balance_checked(
    dev_server: DevServer, tmp_path: Path
) -> None:
    # GIVEN a bank account with two booked receipts, once history has them
    ledger_id = new_ledger(dev_server)
    bank = new_account(dev_server, ledger_id, "asset")
    first = booked(dev_server, bank, "250.00", "inv-1", "2026-03-01T10:00:00Z")
    second = booked(dev_server, bank, "42.10", "inv-2", "2026-03-01T16:00:00Z")
    rows = [
        {"id": "b-1", "amount": "250.00", "date": "2026-03-01T10:05:00Z", "reference": "inv-1"},
        {"id": "b-2", "amount": "42.10", "date": "2026-03-01T17:00:00Z", "reference": "inv-2"},
        {"id": "b-3", "amount": "99.00", "date": "2026-03-01T18:00:00Z", "reference": "inv-3"},
    ]
    path = f"/v1/ledgers/{ledger_id}/statement-matches"
    body = {
        "account_id": bank,
        "source": "operating-bank",
        "rows": rows,
        "rules": {"date_tolerance_s": 7200},
    }
    dry = once_projected(
        lambda: ok(call(dev_server, "POST", path, {**body, "dry_run": True})),
        lambda found: len(found["matched"]) == 2,
    )

    # WHEN the statement is matched for real
    run = ok(call(dev_server, "POST", path, body))

    # THEN each receipt matches its row, as the dry run said, and the third row is unmatched
    expected = [
        {"external_id": "b-1", "entry_ids": [first]},
        {"external_id": "b-2", "entry_ids": [second]},
    ]
    assert dry["matched"] == run["matched"] == expected
    assert (run["unmatched_external"], run["unmatched_entries"]) == (["b-3"], [])
    assert (dry["dry_run"], run["dry_run"]) == (True, False)
    # AND the same statement again, from the CLI, finds both rows already matched and exits 1
    statement = tmp_path / "march.csv"
    statement.write_text(
        "id,amount,date,reference\n"
        + "".join(f"{r['id']},{r['amount']},{r['date']},{r['reference']}\n" for r in rows)
    )
    runner = CliRunner(env={"LEDGER_URL": dev_server.url, "LEDGER_API_KEY": dev_server.admin_key})
    arguments = ["reconcile", "external", "--account", bank, "--file", str(statement)]
    again = runner.invoke(
        main, [*arguments, "--source", "operating-bank", "--date-tolerance", "7200", "--json"]
    )
    assert again.exit_code == 1, again.output
    shown = json.loads(again.stdout)
    assert (shown["matched"], shown["already_matched"]) == ([], ["b-1", "b-2"])
    assert shown["unmatched_external"] == ["b-3"]

    # WHEN the bank's balance is checked: once as it agrees, once 7.90 above the books
    checks = f"/v1/ledgers/{ledger_id}/external-balances"
    agreeing: dict[str, Any] = {
        "source": "operating-bank",
        "currency": "USD",
        "amount": "292.10",
        "account_ids": [bank],
    }
    within = ok(call(dev_server, "POST", checks, agreeing, idempotency_key=token()), 201)
    beyond_body = {**agreeing, "amount": "300.00", "tolerance": "1.00"}
    beyond = ok(call(dev_server, "POST", checks, beyond_body, idempotency_key=token()), 201)

    # THEN the numbers are the books' and the source's
    assert (within["ledger_total"], within["difference"], within["within_tolerance"]) == (
        "292.10",
        "0.00",
        True,
    )
    assert (beyond["difference"], beyond["within_tolerance"], beyond["accounts_counted"]) == (
        "7.90",
        False,
        1,
    )
    # AND both are listed for the source, newest first
    listed = ok(call(dev_server, "GET", checks, query={"source": "operating-bank"}))["items"]
    assert [check["id"] for check in listed] == [beyond["id"], within["id"]]
    # AND only the check outside its tolerance reaches the bus, once
    mismatch = "ledger.reconciliation.mismatch"
    events = once_projected(lambda: published(dev_server, mismatch, beyond["id"]), bool)
    assert len(events) == 1
    assert events[0]["detail"]["difference"] == "7.90"
    assert published(dev_server, mismatch, within["id"]) == []
    # AND a refused check writes nothing
    refused = call(dev_server, "POST", checks, {**agreeing, "source": "bank#1"})
    status, code, details = refused.error()
    assert (status, code, details["field"]) == (400, "validation_error", "source")
    assert len(ok(call(dev_server, "GET", checks))["items"]) == 2
