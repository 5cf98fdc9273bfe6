"""`ledger dev`: DynamoDB Local on disk with the ledger's table, surviving a restart."""

from __future__ import annotations

import os
import re
import signal
import threading
from pathlib import Path

import boto3
import pytest
from click.testing import CliRunner

from ledger import Ledger, cli
from ledger.local.dev import DevSettings, run_dev
from ledger.local.dynamodb_local import free_port
from ledger.store.dynamodb import DynamoDBStore


def _ledger_at(endpoint_url: str, table_name: str) -> Ledger:
    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    return Ledger(DynamoDBStore(table_name, client=client))


def _endpoint(lines: list[str]) -> str:
    match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", "\n".join(lines))
    assert match is not None, lines
    return match.group(1)


def test_dev_keeps_data_across_a_restart(tmp_path: Path) -> None:
    # GIVEN a dev runtime on a data directory, where an account receives a deposit
    settings = DevSettings(data_dir=tmp_path, table_name="ledger", dynamodb_port=free_port())
    first_output: list[str] = []
    created: dict[str, str] = {}

    def use_the_ledger() -> None:
        ledger = _ledger_at(_endpoint(first_output), settings.table_name)
        book = ledger.create_ledger("dev")
        account = ledger.create_account(book.id, "Alice", "liability", "USD")
        ledger.deposit(account.id, "12.34")
        created["account_id"] = account.id

    run_dev(settings, wait=use_the_ledger, say=first_output.append)
    assert first_output[-1] == "Stopped."

    # WHEN it is started again on the same directory
    second_output: list[str] = []
    balances: list[int] = []

    def read_the_balance() -> None:
        ledger = _ledger_at(_endpoint(second_output), settings.table_name)
        balances.append(ledger.get_balance(created["account_id"]).posted)

    run_dev(settings, wait=read_the_balance, say=second_output.append)

    # THEN the balance written before the restart is still there
    assert balances == [1234]
    assert (tmp_path / "dynamodb").is_dir()


def test_dev_command_passes_its_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # GIVEN the dev command with its runtime replaced by a recorder
    seen: list[DevSettings] = []
    monkeypatch.setattr(cli, "run_dev", lambda settings, wait, say: seen.append(settings))

    # WHEN it is invoked with every option
    result = CliRunner().invoke(
        cli.main,
        ["dev", "--data-dir", str(tmp_path), "--table-name", "books", "--dynamodb-port", "8123"],
    )

    # THEN the runtime gets exactly those settings
    assert result.exit_code == 0, result.output
    assert seen == [DevSettings(data_dir=tmp_path, table_name="books", dynamodb_port=8123)]


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_wait_returns_on_a_stop_signal_and_restores_handlers(signal_number: int) -> None:
    # GIVEN the current handler of the signal
    before = signal.getsignal(signal_number)
    timer = threading.Timer(0.2, os.kill, (os.getpid(), signal_number))

    # WHEN the signal arrives while the dev runtime waits
    timer.start()
    cli._wait_for_stop_signal()
    timer.join()

    # THEN the wait has returned and the previous handler is back in place
    assert signal.getsignal(signal_number) == before
