"""`ledger batch`, `trial-balance`, `balance-sheet` and `reconcile`, against a scripted server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from client_stub import Reply, StubServer, an_id, entry_body

from ledger.cli import main


@pytest.fixture
def stub() -> Iterator[StubServer]:
    """A scripted server for one test."""
    with StubServer() as server:
        yield server


def run(stub: StubServer, *arguments: str, stdin: str | None = None) -> Result:
    """`ledger ARGUMENTS` with LEDGER_URL and LEDGER_API_KEY pointing at the stub."""
    environment = {"LEDGER_URL": stub.url, "LEDGER_API_KEY": "lk_cli"}
    return CliRunner().invoke(main, list(arguments), env=environment, input=stdin)


def transfer(amount: Any) -> dict[str, Any]:
    """A transfer operation of a batch body."""
    return {
        "type": "transfer",
        "from_account_id": "acc_a",
        "to_account_id": "acc_b",
        "amount": amount,
    }


def test_a_batch_from_a_file_posts_its_body(stub: StubServer, tmp_path: Path) -> None:
    # GIVEN a file holding the body of POST /v1/batches, and a service that accepts it
    body = {"operations": [transfer("1.00"), transfer("2.00")], "net": True}
    file = tmp_path / "batch.json"
    file.write_text(json.dumps(body))
    entries = [entry_body(amount="1.00"), entry_body(amount="2.00")]
    stub.script(Reply(201, {"entries": entries}))
    # WHEN sending the batch with a key
    result = run(stub, "batch", str(file), "--idempotency-key", "b-1")
    # THEN the body went as written, keyed, and each entry is a row of the table
    assert result.exit_code == 0, result.output
    [request] = stub.requests
    assert (request.path, request.body) == ("/v1/batches", body)
    assert request.headers["idempotency-key"] == "b-1"
    header, *rows = result.stdout.splitlines()
    assert header.split()[:3] == ["ID", "KIND", "STATUS"]
    assert [row.split()[0] for row in rows] == [entry["id"] for entry in entries]


def test_a_batch_from_stdin_quietly_prints_the_entry_ids(stub: StubServer) -> None:
    # GIVEN a batch body on stdin without "net", and a service that accepts it
    entries = [entry_body(), entry_body()]
    stub.script(Reply(201, {"entries": entries}))
    # WHEN sending it from `-` with --net and -q
    body = json.dumps({"operations": [transfer("1.00")]})
    result = run(stub, "batch", "-", "--net", "-q", stdin=body)
    # THEN --net was sent, and stdout holds the ids, one per line
    assert result.exit_code == 0, result.output
    assert stub.requests[0].body["net"] is True
    assert result.stdout.splitlines() == [entry["id"] for entry in entries]


def test_a_batch_prints_the_raw_answer_with_json(stub: StubServer) -> None:
    # GIVEN a service that accepts a batch
    answer = {"entries": [entry_body()]}
    stub.script(Reply(201, answer))
    # WHEN sending it with --json
    result = run(stub, "batch", "-", "--json", stdin=json.dumps({"operations": [transfer("1")]}))
    # THEN stdout is the answer as JSON
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == answer


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "not JSON"),
        ("[]", "expected a JSON object"),
        ('{"operations": "all"}', "expected a JSON object"),
        ('{"operations": [1]}', "expected a JSON object"),
        ('{"operations": [], "net": "yes"}', "expected a JSON object"),
        ('{"operations": [], "dry_run": true}', "expected a JSON object"),
        (json.dumps({"operations": [transfer(1.5)]}), "operations[0].amount must be"),
        (json.dumps({"operations": [transfer("1" * 70_000)]}), "larger than the 65536 bytes"),
    ],
)
def test_a_batch_body_the_client_cannot_send_is_a_usage_error(
    stub: StubServer, body: str, message: str
) -> None:
    # GIVEN a body that is not JSON, not the batch shape, or with an amount as a number
    # WHEN sending it
    result = run(stub, "batch", "-", stdin=body)
    # THEN it is a usage error naming the problem, and nothing was sent
    assert result.exit_code == 2
    assert message in result.stderr
    assert stub.requests == []


def node(name: str, total: str, *children: dict[str, Any]) -> dict[str, Any]:
    """An account of a balance sheet's tree."""
    return {
        "account_id": an_id("acc"),
        "name": name,
        "code": None,
        "type": "asset",
        "system": False,
        "balance": "0.00",
        "total": total,
        "children": list(children),
    }


def test_a_balance_sheet_shows_children_under_their_parent(stub: StubServer) -> None:
    # GIVEN a balance sheet with Cash holding Petty cash
    ledger_id = an_id("led")
    petty = node("Petty cash", "5.00")
    cash = node("Cash", "105.00", petty)
    sheet = {
        "ledger_id": ledger_id, "currency": "USD", "accounts": {"asset": [cash]},
        "assets": "105.00", "liabilities": "0.00", "equity": "105.00", "revenue": "0.00",
        "expenses": "0.00", "net_income": "0.00", "balanced": True, "as_of": "2026-01-01T00:00:00Z",
    }  # fmt: skip
    stub.script(Reply(200, sheet), Reply(200, sheet))
    # WHEN showing it in usd, as text and as JSON
    shown = run(stub, "balance-sheet", ledger_id, "usd")
    as_json = run(stub, "balance-sheet", ledger_id, "usd", "--json")
    # THEN the totals are lines, and the tree a table with the child indented under its parent
    assert shown.exit_code == as_json.exit_code == 0
    lines = shown.stdout.splitlines()
    assert "assets: 105.00" in lines
    header = lines[lines.index("accounts.asset:") + 1]
    parent, child = lines[lines.index(header) + 1 : lines.index(header) + 3]
    assert header.split() == ["ACCOUNT_ID", "CODE", "NAME", "BALANCE", "TOTAL"]
    assert child.index("Petty cash") == parent.index("Cash") + 2
    assert json.loads(as_json.stdout) == sheet
    assert stub.requests[0].path == f"/v1/ledgers/{ledger_id}/balance-sheet"
    assert stub.requests[0].query == {"currency": "USD"}


def test_a_trial_balance_shows_its_lines_as_a_table(stub: StubServer) -> None:
    # GIVEN a trial balance of one account
    ledger_id, account_id = an_id("led"), an_id("acc")
    line = {"account_id": account_id, "name": "Cash", "code": "1000", "type": "asset",
            "system": False, "debit": "10.00", "credit": "0.00"}  # fmt: skip
    report = {"ledger_id": ledger_id, "currency": "USD", "lines": [line],
              "total_debits": "10.00", "total_credits": "10.00", "balanced": True,
              "as_of": "2026-01-02T03:04:05Z"}  # fmt: skip
    stub.script(Reply(200, report))
    # WHEN showing it
    result = run(stub, "trial-balance", ledger_id, "USD")
    # THEN the sums are lines and the account a row
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "total_debits: 10.00" in lines
    assert [account_id, "Cash", "1000", "asset", "false", "10.00", "0.00"] in [
        row.split() for row in lines
    ]


def reconciliation(ledger_id: str, mismatches: list[dict[str, Any]]) -> dict[str, Any]:
    """A reconciliation answer, ok when nothing mismatches."""
    return {
        "ledger_id": ledger_id, "ok": not mismatches, "accounts_checked": 3,
        "entries_checked": 7, "mismatches": mismatches, "totals": {},
        "as_of": "2026-01-01T00:00:00Z",
    }  # fmt: skip


def test_reconcile_exits_1_when_the_ledger_does_not_reconcile(stub: StubServer) -> None:
    # GIVEN a ledger that reconciles, then one with an account off its journal
    ledger_id = an_id("led")
    mismatch = {"account_id": an_id("acc"), "field": "posted", "expected": "5.00", "actual": "6.00"}
    stub.script(
        Reply(200, reconciliation(ledger_id, [])), Reply(200, reconciliation(ledger_id, [mismatch]))
    )
    # WHEN reconciling each
    clean = run(stub, "reconcile", ledger_id)
    broken = run(stub, "reconcile", ledger_id)
    # THEN the first exits 0; the second prints the mismatch and exits 1 saying so
    assert clean.exit_code == 0, clean.output
    assert "ok: true" in clean.stdout.splitlines()
    assert broken.exit_code == 1
    assert mismatch["account_id"] in broken.stdout
    assert broken.stderr.endswith(
        "error: unreconciled: the ledger does not reconcile (1 mismatch(es))\n"
    )
    assert stub.requests[0].method == "POST"
    assert stub.requests[0].path == f"/v1/ledgers/{ledger_id}/reconciliations"


def test_reconcile_prints_a_table_of_projection_mismatches(stub: StubServer) -> None:
    # GIVEN a ledger whose wallet's history lacks a version and whose world shard's audit
    # chain head is behind its item
    ledger_id, wallet, world = an_id("led"), an_id("acc"), an_id("acc")
    gap = {
        "account_id": wallet, "field": "versions", "expected": "4", "actual": "3",
        "kind": "history", "shard": 0, "missing_versions": [2],
    }  # fmt: skip
    behind = {
        "account_id": world, "field": "posted", "expected": "-5.00", "actual": "-2.50",
        "kind": "audit", "shard": 3, "missing_versions": [],
    }  # fmt: skip
    answer = {**reconciliation(ledger_id, [gap, behind]), "checks": ["journal", "history", "audit"]}
    stub.script(Reply(200, answer))
    # WHEN reconciling it
    result = run(stub, "reconcile", ledger_id)
    # THEN it exits 1, says what was checked, and shows one row per mismatch under a header
    assert result.exit_code == 1
    rows = [line.split() for line in result.stdout.splitlines()]
    assert ["checks:", "journal,", "history,", "audit"] in rows
    assert ["KIND", "ACCOUNT", "SHARD", "FIELD", "EXPECTED", "ACTUAL", "MISSING"] in rows
    assert ["history", wallet, "0", "versions", "4", "3", "2"] in rows
    assert ["audit", world, "3", "posted", "-5.00", "-2.50", "-"] in rows
    # AND the progress and the failure go to stderr
    assert result.stderr.startswith(f"reconciling {ledger_id}...\n")
    assert result.stderr.endswith("does not reconcile (2 mismatch(es))\n")
