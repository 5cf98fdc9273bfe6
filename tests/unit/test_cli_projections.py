"""`ledger projections rebuild` on a moto table whose history consumer never ran: the
history is rebuilt from the journal, and the ledger then reconciles against it."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from click.testing import CliRunner, Result
from moto import mock_aws

from ledger.cli import main
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore, ensure_table
from ledger.store.history import HistoryQuery

region = "us-east-1"
dummy_environment = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def run(*arguments: str) -> Result:
    return CliRunner().invoke(main, list(arguments))


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Ledger, DynamoDBStore]]:
    """A moto table without consumers, and a Ledger over it that takes history as kept."""
    for name, value in dummy_environment.items():
        monkeypatch.setenv(name, value)
    table_name = f"ledger-rebuild-{secrets.token_hex(4)}"
    with mock_aws():
        client = boto3.client("dynamodb", region_name=region)
        ensure_table(client, table_name)
        store = DynamoDBStore(table_name, client=client, projections=("history",))
        yield table_name, Ledger(store), store


def test_a_ledger_rebuilt_on_its_table_reconciles_against_its_history(
    table: tuple[str, Ledger, DynamoDBStore],
) -> None:
    # GIVEN a ledger on a table whose history nobody wrote: a backdated deposit, a transfer,
    # a hold posted in part and a hold voided
    table_name, ledger, store = table
    book = ledger.create_ledger("books").id
    alice = ledger.create_account(book, "alice", "liability", "USD").id
    bob = ledger.create_account(book, "bob", "liability", "USD").id
    backdated = datetime.now(UTC) - timedelta(days=30)
    ledger.deposit(alice, "50.00", effective_at=backdated)
    ledger.transfer(alice, bob, "20.00")
    ledger.post_entry(ledger.hold(alice, "10.00").id, "4.00")
    ledger.void_entry(ledger.hold(bob, "3.00").id)
    assert not ledger.reconcile(book).ok
    # WHEN its projections are rebuilt on the table
    result = run("projections", "rebuild", "--ledger", book, "--table", table_name,
                 "--region", region, "--json")  # fmt: skip
    # THEN every item was rebuilt, nothing refused, each record marked rebuilt on the table
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert (report["accounts"], report["refused"]) == (3, [])
    assert report["records_written"] >= 7
    item = store.client.get_item(
        TableName=table_name, Key={"pk": {"S": f"HISTORY#{alice}"}, "sk": {"S": f"{1:012d}"}}
    )["Item"]
    assert item["rebuilt"] == {"BOOL": True}
    # AND the ledger reconciles against its history, and balances of the past answer
    reconciliation = ledger.reconcile(book)
    assert (reconciliation.ok, reconciliation.mismatches) == (True, ())
    before_transfer = ledger.get_balance(alice, effective_at=backdated + timedelta(days=1))
    assert before_transfer.posted == 5000
    assert ledger.get_balance(bob, at=datetime.now(UTC)).posted == 2000
    versions = store.history(alice, 0, HistoryQuery("recorded", limit=100))
    assert [record.version for record in versions] == list(range(1, len(versions) + 1))
    # AND a second rebuild of one account writes the same again
    again = run("projections", "rebuild", "--account", alice, "--table", table_name,
                "--region", region, "--json")  # fmt: skip
    assert again.exit_code == 0, again.output
    assert store.history(alice, 0, HistoryQuery("recorded", limit=100)) == versions
    assert ledger.reconcile(book).ok


def test_a_rebuild_names_one_ledger_or_account_and_a_table() -> None:
    # GIVEN a rebuild without --table, and one naming both a ledger and an account
    without_table = run("projections", "rebuild", "--ledger", "led_x")
    both = run("projections", "rebuild", "--ledger", "led_x", "--account", "acc_y",
               "--table", "ledger")  # fmt: skip
    # THEN each is a usage error saying what is missing
    assert without_table.exit_code == 2
    assert "give --table" in without_table.stderr
    assert both.exit_code == 2
    assert "exactly one of --ledger and --account" in both.stderr
