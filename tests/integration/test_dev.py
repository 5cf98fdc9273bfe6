"""`ledger dev`: the real API over HTTP on DynamoDB Local, its admin key, its sweep, its restart."""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import socket
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ledger.auth.api_keys import ApiKey, KeyStatus, KeyStore, Role
from ledger.cli import app as cli
from ledger.domain.errors import ValidationError
from ledger.domain.model import EntryStatus
from ledger.local.dev import DevError, DevSettings, banner, bootstrap_admin_key, run_dev
from ledger.local.dynamodb_local import DynamoDBLocal, free_port, make_client
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore

expiry_wait_s_max = 30
# A wait that misses a signal is woken by the test after this long, and fails.
rescue_after_s = 5


def _call(
    url: str, method: str = "GET", key: str | None = None, body: object = None
) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _found(pattern: str, lines: list[str]) -> str:
    match = re.search(pattern, "\n".join(lines))
    assert match is not None, lines
    return match.group(1)


def _settings(data_dir: Path, **overrides: Any) -> DevSettings:
    return DevSettings(data_dir=data_dir, dynamodb_port=free_port(), port=0, workers=2, **overrides)


def test_dev_serves_the_api_and_keeps_its_data_and_key_across_a_restart(tmp_path: Path) -> None:
    # GIVEN the dev runtime without an admin key, where a ledger is created over HTTP
    first_output: list[str] = []
    created: dict[str, Any] = {}

    def use_the_api() -> None:
        url = _found(r"^Ledger API listening on (http://127\.0\.0\.1:\d+)$", first_output[-1:])
        key = _found(r"Admin key: (\S+) \(generated", first_output)
        created["health"] = _call(f"{url}/v1/health")
        created["anonymous"] = _call(f"{url}/v1/ledgers", "POST", body={"name": "dev"})
        created["ledger"] = _call(f"{url}/v1/ledgers", "POST", key, {"name": "dev"})
        created["key"] = key

    run_dev(_settings(tmp_path), wait=use_the_api, say=first_output.append)

    # THEN the API answered as the contract says, and it stopped cleanly
    assert created["health"] == (200, {"status": "ok"})
    assert created["anonymous"][0] == 401
    status, ledger = created["ledger"]
    assert (status, ledger["name"]) == (201, "dev")
    assert first_output[-1] == "Stopped."
    assert "DynamoDB Local listens on 127.0.0.1 only" in "\n".join(first_output)

    # WHEN it is started again on the same directory, still without a key
    second_output: list[str] = []
    read: list[tuple[int, Any]] = []

    def read_the_ledger() -> None:
        url = _found(r"Ledger API listening on (http://127\.0\.0\.1:\d+)", second_output)
        key = _found(r"Admin key: (\S+) \(kept in", second_output)
        read.append(_call(f"{url}/v1/ledgers/{ledger['id']}", key=key))
        read.append((0, key))

    run_dev(_settings(tmp_path), wait=read_the_ledger, say=second_output.append)

    # THEN the same key is printed and still works, and the ledger is still there
    assert read[1] == (0, created["key"])
    assert read[0] == (200, ledger)
    assert (tmp_path / "dynamodb").is_dir()


def test_dev_takes_a_given_admin_key_sweeps_and_reconciles_on_schedule(tmp_path: Path) -> None:
    # GIVEN the runtime with a chosen admin key, sweeping and reconciling often, and a hold
    # that expires in a second. One runtime for all of it: starting one costs most of the time.
    admin_key = "dev-" + secrets.token_hex(12)
    seen: dict[str, Any] = {}
    output: list[str] = []
    statuses: list[EntryStatus] = []
    results = tmp_path / "reconciliations.jsonl"
    found: list[dict[str, Any]] = []
    answers: list[Any] = []

    def hold_and_wait() -> None:
        url = _found(r"Ledger API listening on (http://\S+)", output)
        endpoint = _found(r"DynamoDB Local: (http://\S+),", output)
        seen["key"] = KeyStore("ledger", make_client(endpoint)).find(admin_key)
        seen["created"] = _call(f"{url}/v1/ledgers", "POST", admin_key, {"name": "given"})
        ledger = Ledger(DynamoDBStore("ledger", make_client(endpoint)))
        book = ledger.create_ledger("sweep")
        account = ledger.create_account(book.id, "Alice", "liability", "USD")
        ledger.deposit(account.id, "10.00")
        hold = ledger.hold(account.id, "4.00", expires_in=1)
        deadline = time.monotonic() + expiry_wait_s_max
        # WHEN time passes
        while time.monotonic() < deadline:
            statuses.append(ledger.get_entry(hold.id).status)
            if statuses[-1] is EntryStatus.EXPIRED:
                break
            time.sleep(0.2)
        # AND the consumers catch up and the reconciliation schedule comes round
        while time.monotonic() < deadline and not found:
            lines = results.read_text().splitlines() if results.exists() else []
            found.extend(
                record
                for record in map(json.loads, lines)
                if record["mismatches"] == 0
                and record["balances"].get(book.id, {}).get("USD", {}).get("pending") == "0.00"
            )
            time.sleep(0.2)
        # AND an operator reconciles the ledger on the table itself
        command = ["reconcile", book.id, "--table", "ledger", "--endpoint-url", endpoint, "--json"]
        answers.append(json.loads(CliRunner().invoke(cli.main, command).stdout))

    run_dev(
        _settings(tmp_path, admin_key=admin_key, sweep_interval_s=0.2, reconcile_interval_s=0.2),
        wait=hold_and_wait,
        say=output.append,
    )

    # THEN the key is printed as given, stored as an admin key, and accepted by the API
    assert f"Admin key: {admin_key} (as given)" in "\n".join(output)
    assert seen["key"] is not None
    assert seen["key"].role is Role.ADMIN
    assert seen["created"][0] == 201
    # AND the sweeper expired the hold without anyone asking
    assert statuses[0] is EntryStatus.PENDING
    assert statuses[-1] is EntryStatus.EXPIRED
    # AND a scheduled run found the ledger whole after it, all 10.00 available again
    assert found, "no scheduled reconciliation of the ledger within the wait"
    assert found[0]["balances"][answers[0]["ledger_id"]]["USD"]["available"] == "10.00"
    # AND the direct reconciliation checked the journal, history and audit, and agrees
    assert (answers[0]["ok"], answers[0]["checks"]) == (True, ["journal", "history", "audit"])


def test_dev_refuses_a_port_in_use_before_starting_anything(tmp_path: Path) -> None:
    # GIVEN a port somebody listens on
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        settings = DevSettings(data_dir=tmp_path, port=taken.getsockname()[1])

        # WHEN the runtime is asked to serve there
        # THEN it refuses at once, naming the port, and never started DynamoDB Local
        with pytest.raises(DevError, match=f"127.0.0.1:{settings.port}"):
            run_dev(settings, wait=lambda: None, say=lambda _: None)
    assert not (tmp_path / "dynamodb").exists()


class RecordingKeys(KeyStore):
    """A key store that records the secrets it ensures and answers with a fixed key."""

    def __init__(self, role: Role = Role.ADMIN, status: KeyStatus = KeyStatus.ACTIVE) -> None:
        self.ensured: list[str] = []
        self.key = ApiKey("key_1", role, (), None, status, datetime.now(UTC))

    def ensure(self, secret: str, role: Role = Role.ADMIN) -> ApiKey:
        self.ensured.append(secret)
        return self.key


def test_a_generated_admin_key_is_kept_private_and_reused(tmp_path: Path) -> None:
    # GIVEN a key store that records which secrets it was asked to ensure
    keys = RecordingKeys()
    key_file = tmp_path / "data" / "admin-key"

    # WHEN a key is bootstrapped twice without one given
    first, first_origin = bootstrap_admin_key(keys, None, key_file)
    second, second_origin = bootstrap_admin_key(keys, None, key_file)

    # THEN the second run reuses the first key, kept in a file only its owner can read
    assert keys.ensured == [first, first]
    assert second == first
    assert first_origin == f"generated, kept in {key_file}"
    assert second_origin == f"kept in {key_file}"
    assert key_file.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    ("role", "status", "warning"),
    [
        (Role.READER, KeyStatus.ACTIVE, "WARNING: this key is active, role reader"),
        (Role.ADMIN, KeyStatus.REVOKED, "WARNING: this key is revoked, role admin"),
    ],
)
def test_a_given_key_that_is_not_a_working_admin_key_is_flagged(
    tmp_path: Path, role: Role, status: KeyStatus, warning: str
) -> None:
    # GIVEN a given secret that already belongs to a reader key or a revoked key
    keys = RecordingKeys(role, status)
    secret = secrets.token_hex(16)

    # WHEN it is bootstrapped as the admin key
    printed, origin = bootstrap_admin_key(keys, secret, tmp_path / "admin-key")

    # THEN it is printed with a warning, and no key file is written
    assert printed == secret
    assert origin == f"as given; {warning}"
    assert not (tmp_path / "admin-key").exists()


def test_dev_command_passes_its_options(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # GIVEN the dev command with its runtime replaced by a recorder, and a key in the environment
    seen: list[DevSettings] = []
    monkeypatch.setattr(cli, "run_dev", lambda settings, wait, say: seen.append(settings))
    admin_key = secrets.token_hex(16)

    # WHEN it is invoked with every option
    result = CliRunner().invoke(
        cli.main,
        [
            "dev",
            *("--data-dir", str(tmp_path), "--table-name", "books", "--dynamodb-port", "8123"),
            *("--host", "0.0.0.0", "--port", "3100", "--workers", "3", "--sweep-interval", "5"),
            *("--reconcile-interval", "0"),
        ],
        env={"LEDGER_ADMIN_KEY": admin_key},
    )

    # THEN the runtime gets exactly those settings
    assert result.exit_code == 0, result.output
    assert seen == [
        DevSettings(
            data_dir=tmp_path,
            table_name="books",
            dynamodb_port=8123,
            host="0.0.0.0",
            port=3100,
            admin_key=admin_key,
            workers=3,
            sweep_interval_s=5.0,
            reconcile_interval_s=0.0,
        )
    ]


def test_dev_command_takes_ports_and_data_dir_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # GIVEN the dev command with its runtime replaced by a recorder
    seen: list[DevSettings] = []
    monkeypatch.setattr(cli, "run_dev", lambda settings, wait, say: seen.append(settings))
    environment = {
        "LEDGER_PORT": "3222",
        "LEDGER_DYNAMODB_PORT": "8123",
        "LEDGER_DATA_DIR": str(tmp_path),
    }

    # WHEN it is invoked with the variables set, then without them or any option
    with_variables = CliRunner().invoke(cli.main, ["dev"], env=environment)
    without = CliRunner().invoke(cli.main, ["dev"], env=dict.fromkeys(environment))

    # THEN the variables choose the ports and data dir; without them DynamoDB Local's port is
    # left to be a free one rather than a fixed 8000
    assert with_variables.exit_code == 0, with_variables.output
    assert without.exit_code == 0, without.output
    assert (seen[0].port, seen[0].dynamodb_port, seen[0].data_dir) == (3222, 8123, tmp_path)
    assert (seen[1].port, seen[1].dynamodb_port, seen[1].data_dir) == (3000, None, Path(".ledger"))


def test_the_banner_warns_when_dynamodb_local_listens_on_every_interface() -> None:
    # GIVEN a DynamoDB Local that could not be bound to loopback (never started: no launcher)
    local = DynamoDBLocal(port=free_port())

    # WHEN the banner is made
    text = banner(DevSettings(), local, "key", "as given", "http://127.0.0.1:3000")

    # THEN it says so plainly, and that the data is for development
    assert "DynamoDB Local listens on EVERY network interface" in text
    assert "it is for development" in text
    # AND it names the event files
    assert "Events: .ledger/events.jsonl (ledger events tail --follow)" in text
    assert "refusals in .ledger/inbound-dlq.jsonl" in text


@pytest.mark.parametrize(
    ("failure", "message"),
    [
        (ValidationError("key", "a key must be at least 16 printable characters"), "--admin-key"),
        (DevError("cannot listen on 127.0.0.1:3000"), "cannot listen on 127.0.0.1:3000"),
    ],
)
def test_dev_command_reports_startup_failures(
    monkeypatch: pytest.MonkeyPatch, failure: Exception, message: str
) -> None:
    # GIVEN a runtime that fails to start
    def fail(settings: DevSettings, wait: Any, say: Any) -> None:
        raise failure

    monkeypatch.setattr(cli, "run_dev", fail)

    # WHEN the command runs
    result = CliRunner().invoke(cli.main, ["dev"])

    # THEN it exits with an error naming the problem, not a traceback
    assert result.exit_code != 0
    assert message in result.output
    assert "Traceback" not in result.output


def test_dev_help_warns_that_another_host_exposes_the_api() -> None:
    # GIVEN the dev command's help
    # WHEN it is shown
    result = CliRunner().invoke(cli.main, ["dev", "--help"])

    # THEN it says what --host 0.0.0.0 does, and where the key may come from
    # (the help wraps at the terminal's width)
    assert result.exit_code == 0
    words = " ".join(result.output.split())
    assert "0.0.0.0 exposes it" in words
    assert "LEDGER_ADMIN_KEY" in words


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


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_wait_returns_on_a_stop_signal_another_thread_received(signal_number: int) -> None:
    # GIVEN a thread that sends the signal to itself, as the kernel may hand a signal sent
    # to the process to any of its threads; should the wait miss it, the thread sends it
    # to the main thread after a bound, so a miss fails instead of hanging
    received = threading.Event()
    rescued: list[bool] = []

    def send_to_itself() -> None:
        signal.pthread_kill(threading.get_ident(), signal_number)
        if not received.wait(rescue_after_s):
            rescued.append(True)
            signal.pthread_kill(threading.main_thread().ident or 0, signal_number)

    sender = threading.Timer(0.2, send_to_itself)

    # WHEN it arrives while the dev runtime waits
    sender.start()
    cli._wait_for_stop_signal()
    received.set()
    sender.join()

    # THEN the wait returned on that signal, without the main thread's own
    assert rescued == []
