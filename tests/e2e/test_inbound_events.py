"""Inbound events through `ledger dev`: `ledger events send` queues them, the inbound
function posts them through the ledger's posting rule, a refused one is dead-lettered."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from ledger.cli import main

from .builders import balance, call, deposit, new_account, new_ledger, ok, token

if TYPE_CHECKING:
    from pathlib import Path

    from .conftest import DevServer

# One pytest worker runs every end-to-end test, against one `ledger dev`.
pytestmark = pytest.mark.xdist_group("e2e")

posted_wait_s_max = 15
poll_s = 0.1


def dead_letters(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / "inbound-dlq.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def expense(ledger_id: str, expense_id: str, amount: str) -> dict[str, Any]:
    return {
        "id": f"evt-{token()}",
        "type": "expense.created",
        "ledger_id": ledger_id,
        "occurred_at": "2026-03-01T09:30:00Z",
        "data": {"amount": amount, "expense_id": expense_id},
    }


def test_sent_events_are_posted_once_and_a_refused_one_is_dead_lettered(
    dev_server: DevServer,
) -> None:
    # GIVEN books holding 100 in cash, with a rule that books an expense from cash
    ledger_id = new_ledger(dev_server)
    cash = new_account(dev_server, ledger_id, "asset", code=f"cash-{token()}")
    spent = new_account(dev_server, ledger_id, "expense")
    deposit(dev_server, cash, "100.00")
    rule = {
        "lines": [
            {"account_id": cash, "side": "credit", "amount": "{{data.amount}}"},
            {"account_id": "{{data.expense_id}}", "side": "debit", "amount": "{{data.amount}}"},
        ]
    }
    ok(call(dev_server, "PUT", f"/v1/ledgers/{ledger_id}/posting-rules/expense.created", rule))
    good, refused = expense(ledger_id, spent, "12.50"), expense(ledger_id, spent, "500.00")

    # WHEN the good event is sent twice and the refused one once, one per line
    lines = "\n".join(json.dumps(event) for event in (good, refused, good))
    sent = CliRunner().invoke(
        main, ["events", "send", "--data-dir", str(dev_server.data_dir), "-"], input=lines
    )
    assert sent.exit_code == 0, sent.output

    # THEN within seconds the refused one is dead-lettered with its reason
    deadline = time.monotonic() + posted_wait_s_max
    while time.monotonic() < deadline:
        letters = [each for each in dead_letters(dev_server.data_dir) if each["event"] == refused]
        if letters and balance(dev_server, spent)["posted"] != "0.00":
            break
        time.sleep(poll_s)
    assert [letter["reason"]["code"] for letter in letters] == ["insufficient_funds"]
    # AND the good one moved the balances once
    assert balance(dev_server, spent)["posted"] == "12.50"
    assert balance(dev_server, cash)["posted"] == "87.50"
