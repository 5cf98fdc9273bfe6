"""The `ledger` command line against `ledger dev`, in process: tables, `key: value` lines,
--json, errors on stderr with exit status 1, and keys written straight to the table."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from click.testing import CliRunner, Result

from ledger.cli import main

from .builders import call, ok, once_projected, token
from .conftest import DevServer

# One pytest worker runs every end-to-end test, against one `ledger dev`.
pytestmark = pytest.mark.xdist_group("e2e")


@dataclass(frozen=True)
class Books:
    """A ledger made with the CLI, with Alice (holding 100) and Bob."""

    ledger_id: str
    name: str
    owner_id: str
    alice: str
    bob: str


@pytest.fixture(scope="module")
def runner(dev_server: DevServer) -> CliRunner:
    """A runner whose environment points the commands at the dev server with the admin key."""
    return CliRunner(env={"LEDGER_URL": dev_server.url, "LEDGER_API_KEY": dev_server.admin_key})


def run(runner: CliRunner, *arguments: str) -> Result:
    """Run a command that must succeed."""
    result = runner.invoke(main, list(arguments))
    assert result.exit_code == 0, (result.output, result.exception)
    return result


def run_json(runner: CliRunner, *arguments: str) -> Any:
    """Run a command with --json and parse what it printed."""
    return json.loads(run(runner, *arguments, "--json").stdout)


@pytest.fixture(scope="module")
def books(runner: CliRunner) -> Books:
    """The module's ledger and accounts, made with `ledgers create` and `accounts create`."""
    name, owner_id = f"cli-{token()}", f"owner-{token()}"
    ledger_id = run_json(runner, "ledgers", "create", name, "--owner-id", owner_id)["id"]
    alice, bob = (
        run_json(
            runner,
            "accounts",
            "create",
            ledger_id,
            holder,
            "liability",
            "USD",
        )["id"]
        for holder in ("Alice", "Bob")
    )
    run_json(runner, "deposit", alice, "100.00")
    return Books(ledger_id, name, owner_id, alice, bob)


def rows(output: str) -> list[list[str]]:
    """A table's rows, cells split on runs of spaces."""
    return [line.split() for line in output.splitlines()]


def test_ledgers_list_and_show(runner: CliRunner, books: Books) -> None:
    # GIVEN the ledger made with `ledgers create`
    # WHEN the owner's ledgers are listed and the ledger shown
    listed = run(runner, "ledgers", "list", "--owner-id", books.owner_id).stdout
    shown = run(runner, "ledgers", "show", books.ledger_id).stdout

    # THEN the table has its header and the ledger, and `show` prints its fields
    table = rows(listed)
    assert table[0] == ["ID", "NAME", "OWNER_ID", "CREATED_AT"]
    assert [row[:3] for row in table[1:]] == [[books.ledger_id, books.name, books.owner_id]]
    assert f"id: {books.ledger_id}" in shown.splitlines()
    assert f"name: {books.name}" in shown.splitlines()


def test_accounts_list_and_show(runner: CliRunner, books: Books) -> None:
    # GIVEN Alice and Bob, made with `accounts create`
    # WHEN the ledger's liability accounts are listed, as a table and as JSON, and Alice shown
    listed = run(runner, "accounts", "list", books.ledger_id, "--type", "liability").stdout
    page = run_json(runner, "accounts", "list", books.ledger_id, "--type", "liability")
    shown = run(runner, "accounts", "show", books.alice).stdout

    # THEN the table has its header and both accounts, and Alice shows her balance
    table = rows(listed)
    assert table[0] == ["ID", "CODE", "NAME", "TYPE", "CURRENCY", "STATUS", "AVAILABLE"]
    assert {books.alice, books.bob} <= {row[0] for row in table[1:]}
    assert {books.alice, books.bob} <= {item["id"] for item in page["items"]}
    assert f"id: {books.alice}" in shown.splitlines()
    assert "type: liability" in shown.splitlines()


def test_money_moves_through_deposit_transfer_hold_confirm_and_release(
    runner: CliRunner, books: Books
) -> None:
    # GIVEN a wallet of its own holding 100 (Alice's is shared with other tests)
    wallet = run_json(
        runner,
        "accounts",
        "create",
        books.ledger_id,
        "Carol",
        "liability",
        "USD",
    )["id"]
    deposited = run_json(runner, "deposit", wallet, "100.00", "--reference", f"top-up-{token()}")

    # WHEN 30 goes to Bob, a hold of 20 is confirmed for 15, and a hold of 5 is released
    transferred = run_json(runner, "transfer", wallet, books.bob, "30")
    confirmed_hold = run_json(runner, "hold", wallet, "20", "--expires-in", "600")["id"]
    confirmed = run_json(runner, "confirm-hold", confirmed_hold, "--amount", "15")
    released_hold = run_json(runner, "hold", wallet, "5")["id"]
    released = run_json(runner, "release-hold", released_hold)
    text = run(runner, "balance", wallet).stdout
    final = run_json(runner, "balance", wallet)

    # THEN each answered its entry, and the balance is 100 - 30 - 15
    assert (deposited["kind"], transferred["kind"]) == ("deposit", "transfer")
    assert (confirmed["status"], released["status"]) == ("posted", "voided")
    assert (final["posted"], final["available"], final["held"]) == ("55.00", "55.00", "0.00")
    assert "posted: 55.00" in text.splitlines()


def test_entries_list_and_show(runner: CliRunner, books: Books) -> None:
    # GIVEN a transfer from Alice to Bob with a reference
    reference = f"cli-{token()}"
    entry = run_json(runner, "transfer", books.alice, books.bob, "1.50", "--reference", reference)

    # WHEN the ledger's entries, and the reference's, are listed, and the entry shown
    listed = run(runner, "entries", "list", "--ledger-id", books.ledger_id).stdout
    page = run_json(
        runner, "entries", "list", "--ledger-id", books.ledger_id, "--reference", reference
    )
    shown = run(runner, "entries", "show", entry["id"]).stdout

    # THEN the table has its header and the entry first, with what it moved
    table = rows(listed)
    assert table[0] == ["ID", "KIND", "STATUS", "AMOUNT", "REFERENCE", "CREATED_AT"]
    assert table[1][:6] == [entry["id"], "transfer", "posted", "1.50", "USD", reference]
    assert [item["id"] for item in page["items"]] == [entry["id"]]
    assert "kind: transfer" in shown.splitlines()
    assert f"reference: {reference}" in shown.splitlines()


def test_a_refusal_exits_1_with_the_code_on_stderr(runner: CliRunner, books: Books) -> None:
    # GIVEN Bob, holding far less than a million
    # WHEN he transfers a million to Alice
    result = runner.invoke(main, ["transfer", books.bob, books.alice, "1000000"])

    # THEN the command fails with the error's code and message on stderr, nothing on stdout
    assert result.exit_code == 1
    assert result.stderr.startswith("error: insufficient_funds: ")
    assert result.stdout == ""


def test_a_key_made_in_the_table_works_over_http_until_revoked(
    runner: CliRunner, dev_server: DevServer, books: Books
) -> None:
    # GIVEN the dev server's table on its DynamoDB Local
    table = ("--endpoint-url", dev_server.dynamodb_endpoint, "--table-name", dev_server.table_name)

    # WHEN `keys create` makes a reader key of the ledger
    created = run_json(
        runner, "keys", "create", "--role", "reader", "--ledger-id", books.ledger_id, *table
    )

    # THEN the key reads the ledger over HTTP
    assert (created["role"], created["ledger_ids"]) == ("reader", [books.ledger_id])
    path = f"/v1/ledgers/{books.ledger_id}"
    assert ok(call(dev_server, "GET", path, key=created["key"]))["id"] == books.ledger_id

    # AND after `keys revoke` the same request is 401
    revoked = run_json(runner, "keys", "revoke", created["id"], *table)
    assert revoked["status"] == "revoked"
    assert call(dev_server, "GET", path, key=created["key"]).error()[:2] == (401, "unauthorized")


def test_quiet_ids_a_replay_a_batch_and_the_reports(runner: CliRunner, books: Books) -> None:
    # GIVEN a wallet of its own, opened quietly with a lowercase currency, holding 50
    wallet = run(
        runner, "accounts", "create", books.ledger_id, "Dave", "liability", "usd", "-q"
    ).stdout.strip()
    run(runner, "deposit", wallet, "50.00", "-q")

    # WHEN it spends 5 twice with one key, and a batch from stdin refunds 2 and withdraws 1
    key = f"spend-{token()}"
    spent = run(runner, "spend", wallet, "5.00", "--idempotency-key", key, "-q")
    again = run(runner, "spend", wallet, "5.00", "--idempotency-key", key, "-q")
    operations = [
        {"type": "refund", "account_id": wallet, "amount": "2.00"},
        {"type": "withdrawal", "account_id": wallet, "amount": "1.00"},
    ]
    batch = runner.invoke(main, ["batch", "-", "-q"], input=json.dumps({"operations": operations}))
    balance = run_json(runner, "balance", wallet)
    trial = run(runner, "trial-balance", books.ledger_id, "usd").stdout
    # (the history and audit projections follow the writes within about a second)
    reconciled = once_projected(
        lambda: runner.invoke(main, ["reconcile", books.ledger_id]),
        lambda result: result.exit_code == 0,
    )

    # THEN the replay printed the same id and said so; the batch printed two ids
    assert (spent.stdout, spent.stderr) == (again.stdout, "")
    assert again.stderr == "(replayed)\n"
    assert batch.exit_code == 0, batch.output
    assert len(batch.stdout.split()) == 2
    # AND the balance is 50 - 5 + 2 - 1, the trial balance balances, the ledger reconciles
    assert (balance["currency"], balance["posted"]) == ("USD", "46.00")
    assert "balanced: true" in trial.splitlines()
    assert reconciled.exit_code == 0, reconciled.output
    assert "ok: true" in reconciled.stdout.splitlines()
