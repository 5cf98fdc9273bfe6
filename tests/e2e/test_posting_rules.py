"""Posting rules over real HTTP against `ledger dev`: the shipped rules applied with the
CLI, read back, and an event dry-run through one of them."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ledger.cli import main

from .builders import balance, call, deposit, new_account, new_ledger, ok, token
from .conftest import DevServer

pytestmark = pytest.mark.xdist_group("e2e")

shipped = Path(__file__).resolve().parents[2] / "docs" / "posting-rules"


def test_the_shipped_rules_are_applied_with_the_cli_and_an_event_dry_runs(
    dev_server: DevServer,
) -> None:
    # GIVEN books with the accounts the shipped rules name
    ledger_id = new_ledger(dev_server)
    cash = new_account(dev_server, ledger_id, "asset", code="cash")
    bank = new_account(dev_server, ledger_id, "asset")
    new_account(dev_server, ledger_id, "expense", code="expense.food")
    deposit(dev_server, bank, "100.00")

    # WHEN `ledger rules apply` puts the five files
    runner = CliRunner(env={"LEDGER_URL": dev_server.url, "LEDGER_API_KEY": dev_server.admin_key})
    files = [str(path) for path in sorted(shipped.glob("*.json"))]
    applied = runner.invoke(main, ["rules", "apply", *files, "--ledger", ledger_id])

    # THEN each is version 1 and listed, and a dry run of an expense answers its entry
    # without moving money
    assert applied.exit_code == 0, applied.output
    assert applied.stdout.count(": version 1") == 5
    listed = ok(call(dev_server, "GET", f"/v1/ledgers/{ledger_id}/posting-rules"))
    assert len(listed["items"]) == 5
    event = {
        "id": f"exp-{token()}",
        "type": "expense.created",
        "ledger_id": ledger_id,
        "occurred_at": "2026-03-01T09:30:00Z",
        "data": {
            "expense_id": "E1",
            "amount": "12.50",
            "category": "food",
            "payment_account_id": bank,
        },
    }
    path = f"/v1/ledgers/{ledger_id}/posting-rules/expense.created/dry-run"
    entry = ok(call(dev_server, "POST", path, {"event": event}))
    assert entry["dry_run"] is True
    assert entry["posting_rule"] == {
        "event_type": "expense.created",
        "version": 1,
        "event_id": event["id"],
    }
    assert (balance(dev_server, bank)["posted"], balance(dev_server, cash)["posted"]) == (
        "100.00",
        "0.00",
    )
