"""`ledger reconcile`: through the API with a spinner on a terminal, or with --table in this
process with a progress bar per phase; progress only ever on stderr."""

from __future__ import annotations

import io
import json
import secrets
import threading
from dataclasses import replace

import boto3
import pytest
from click.testing import CliRunner, Result
from client_stub import Reply, StubServer, an_id
from moto import mock_aws

from ledger.cli import main
from ledger.cli.commands import reports
from ledger.cli.commands.progress import PhaseProgress, spinning
from ledger.cli.commands.table import TableAccess, table_client
from ledger.domain.model import Account
from ledger.planning.steps import Target
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore, ensure_table
from ledger.store.dynamodb.schema import item_key
from ledger.store.memory import MemoryStore

region = "us-east-1"


class Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


def run(*arguments: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(arguments), env=env)


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> MemoryStore:
    """The store `--table` opens, whatever table it names: a memory store."""
    store = MemoryStore()

    def table_store(access: TableAccess) -> MemoryStore:
        assert access.table_name == "ledger"
        return store

    monkeypatch.setattr(reports, "table_store", table_store)
    return store


def funded(store: MemoryStore) -> tuple[str, str]:
    """A ledger with a wallet holding 12.00; its id and the wallet's."""
    ledger = Ledger(store)
    book = ledger.create_ledger("books").id
    wallet = ledger.create_account(book, "wallet", "liability", "USD").id
    ledger.deposit(wallet, "12.00")
    return book, wallet


def test_reconcile_on_a_table_shows_each_phase_and_prints_what_the_api_would(
    memory: MemoryStore,
) -> None:
    # GIVEN a ledger that reconciles, on the table
    book, _ = funded(memory)
    # WHEN reconciled directly, as text and as JSON
    text = run("reconcile", book, "--table", "ledger")
    as_json = run("reconcile", book, "--table", "ledger", "--json")
    # THEN both exit 0; the text shows the summary and the totals with what is available
    assert text.exit_code == 0, text.output
    lines = text.stdout.splitlines()
    assert "ok: true" in lines
    assert "checks: journal, history" in lines
    assert "totals.USD.available: 12.00" in lines
    # AND the JSON is the API's body, alone on stdout
    body = json.loads(as_json.stdout)
    assert (body["ok"], body["ledger_id"], body["totals"]["USD"]["available"]) == (
        True,
        book,
        "12.00",
    )
    # AND the progress bar went to stderr (off a terminal, its label alone)
    assert as_json.stderr.splitlines() == ["checking history and audit"]


def test_reconcile_on_a_table_exits_1_with_the_mismatch_table(memory: MemoryStore) -> None:
    # GIVEN a ledger whose wallet's headroom was forged from 12.00 to 13.00
    book, wallet = funded(memory)
    key = item_key(Target("account", wallet))
    stored = memory._items[(key["pk"], key["sk"])]
    assert isinstance(stored, Account)
    memory._items[(key["pk"], key["sk"])] = replace(stored, headroom=1300)
    # WHEN reconciled directly
    result = run("reconcile", book, "--table", "ledger")
    # THEN it prints the mismatch as a row and exits 1 saying so
    assert result.exit_code == 1
    assert ["journal", wallet, "0", "headroom", "12.00", "13.00", "-"] in [
        line.split() for line in result.stdout.splitlines()
    ]
    assert result.stderr.endswith(
        "error: unreconciled: the ledger does not reconcile (1 mismatch(es))\n"
    )


def test_reconcile_on_a_table_reports_an_unknown_ledger(memory: MemoryStore) -> None:
    # GIVEN a ledger of another store
    other = Ledger(MemoryStore()).create_ledger("elsewhere").id
    # WHEN reconciled on this table / THEN it is not found, exit 1
    result = run("reconcile", other, "--table", "ledger")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: not_found: ")


def test_reconcile_on_a_moto_table_reads_the_table_the_options_name(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a moto table without consumers, holding a funded ledger
    environment = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "LEDGER_PROJECTIONS": "",
    }
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    table_name = f"ledger-cli-{secrets.token_hex(4)}"
    with mock_aws():
        client = boto3.client("dynamodb", region_name=region)
        ensure_table(client, table_name)
        ledger = Ledger(DynamoDBStore(table_name, client=client, projections=()))
        book = ledger.create_ledger("books").id
        ledger.deposit(ledger.create_account(book, "wallet", "liability", "USD").id, "3.00")
        # WHEN reconciled on that table in its region
        result = run("reconcile", book, "--table", table_name, "--region", region, "--json")
    # THEN it checked the journal alone (no projections kept) and reconciles
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert (body["ok"], body["checks"], body["accounts_checked"]) == (True, ["journal"], 2)
    assert result.stderr == ""


def test_endpoint_and_region_need_a_table() -> None:
    # GIVEN --endpoint-url without --table / WHEN reconciling / THEN a usage error
    result = run("reconcile", an_id("led"), "--endpoint-url", "http://127.0.0.1:8000")
    assert result.exit_code == 2
    assert "--endpoint-url and --region go with --table" in result.stderr


def test_the_api_reconciliation_as_json_leaves_stdout_to_the_body() -> None:
    # GIVEN a service that answers a reconciliation
    ledger_id = an_id("led")
    answer = {
        "ledger_id": ledger_id, "ok": True, "accounts_checked": 0, "entries_checked": 0,
        "mismatches": [], "totals": {}, "as_of": "2026-01-01T00:00:00Z",
    }  # fmt: skip
    with StubServer() as stub:
        stub.script(Reply(200, answer))
        # WHEN reconciling with --json
        environment = {"LEDGER_URL": stub.url, "LEDGER_API_KEY": "lk_cli"}
        result = run("reconcile", ledger_id, "--json", env=environment)
    # THEN stdout is the body alone and stderr is quiet (no terminal, no spinner)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == answer
    assert result.stderr == ""


def test_a_table_client_goes_to_dynamodb_local_or_to_the_region_named() -> None:
    # GIVEN an endpoint, and a region / WHEN clients are made for each
    local = table_client("http://127.0.0.1:8000")
    aws = table_client(None, "eu-west-1")
    # THEN the first is for DynamoDB Local, the second for the region
    assert local.meta.endpoint_url == "http://127.0.0.1:8000"
    assert aws.meta.region_name == "eu-west-1"


def test_phase_progress_counts_then_draws_a_bar_on_a_terminal() -> None:
    # GIVEN a terminal
    terminal = Terminal()
    progress = PhaseProgress(terminal)
    # WHEN a reconciliation's phases report as they go
    for call in [
        ("entries", 100, None),
        ("entries", 150, 150),
        ("accounts", 3, None),
        ("accounts", 3, 3),
        ("projections", 0, 3),
        ("projections", 1, 3),
        ("projections", 3, 3),
    ]:
        progress(*call)
    progress.close()
    # THEN the counted phases end on their totals and the last is a full bar
    shown = terminal.getvalue()
    assert "\rreading the journal: 100" in shown
    assert "\rreading the journal: 150\n" in shown
    assert "\rreading the accounts: 3\n" in shown
    assert "checking history and audit" in shown
    assert "100%" in shown


def test_phase_progress_off_a_terminal_shows_the_bar_label_alone() -> None:
    # GIVEN a stream that is no terminal
    stream = io.StringIO()
    progress = PhaseProgress(stream)
    # WHEN the phases report
    progress("entries", 5, None)
    progress("entries", 5, 5)
    progress("projections", 0, 1)
    progress("projections", 1, 1)
    progress.close()
    # THEN only the bar's label was written
    assert stream.getvalue() == "checking history and audit\n"


class WatchedTerminal(Terminal):
    """A terminal that tells when the spinner has drawn its second frame."""

    def __init__(self) -> None:
        super().__init__()
        self.second_frame = threading.Event()

    def write(self, text: str) -> int:
        written = super().write(text)
        if self.getvalue().count("\r") >= 2:
            self.second_frame.set()
        return written


def test_the_spinner_turns_while_the_wait_lasts() -> None:
    # GIVEN a terminal
    terminal = WatchedTerminal()
    # WHEN a wait under the spinner lasts until it drew a second frame
    with spinning("reconciling led_1", terminal):
        assert terminal.second_frame.wait(10)
    # THEN the frames turned
    assert terminal.getvalue().startswith("\r| reconciling led_1\r/ reconciling led_1")


def test_the_spinner_draws_on_a_terminal_and_clears_its_line() -> None:
    # GIVEN a terminal, and a stream that is not one
    terminal, plain = Terminal(), io.StringIO()
    # WHEN something is awaited under a spinner on each
    with spinning("reconciling led_1", terminal), spinning("reconciling led_1", plain):
        pass
    # THEN the terminal showed the label after a spinner frame, then a cleared line
    shown = terminal.getvalue()
    assert shown.startswith("\r| reconciling led_1")
    assert shown.endswith("\r" + " " * len("| reconciling led_1") + "\r")
    # AND the other stream got nothing
    assert plain.getvalue() == ""


@pytest.fixture(autouse=True)
def _no_ambient_api(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither the machine's API settings nor its AWS profile reach these commands."""
    for name in ("LEDGER_URL", "LEDGER_API_KEY", "AWS_PROFILE", "AWS_ENDPOINT_URL_DYNAMODB"):
        monkeypatch.delenv(name, raising=False)
