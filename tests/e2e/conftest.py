"""End to end: `ledger dev` runs as its own process, once per session, reached only over HTTP.

Tests take the `dev_server` fixture: `url`, `admin_key`, `data_dir`, `table_name`,
`dynamodb_endpoint`, `request(...)` for a JSON call, and `restart()` to stop the process
and start it again on the same data (the URL and key stay the same).
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ledger.local.dynamodb_local import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

e2e_dir = Path(__file__).parent
start_wait_s_max = 120
stop_wait_s_max = 30
request_timeout_s = 60
log_tail_bytes_max = 6000
ready_prefix = "Ledger API listening on "


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every end-to-end test: `-m "not e2e"` skips them, as does `-m "not dynamodb_local"`.

    Each module also puts itself in the xdist group "e2e" (a `pytestmark`: a marker added
    here would come too late for xdist), so one worker runs them all against one server.
    """
    for item in items:
        if item.path.is_relative_to(e2e_dir):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.dynamodb_local)


class DevServerError(RuntimeError):
    """`ledger dev` did not start or stop as expected; the message ends with its log."""


class DevServer:
    """One `ledger dev` process on free ports and a private data directory."""

    def __init__(self, data_dir: Path, log_path: Path) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.table_name = f"ledger-e2e-{secrets.token_hex(4)}"
        self.admin_key = "e2e-" + secrets.token_urlsafe(24)
        self.port = free_port()
        self.dynamodb_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dynamodb_endpoint = f"http://127.0.0.1:{self.dynamodb_port}"
        self.last_exit_code: int | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        """Whether the process was started and not yet stopped."""
        return self._process is not None

    def start(self) -> None:
        """Start `ledger dev` and wait until it prints that it listens."""
        if self._process is not None:
            raise DevServerError("ledger dev is already running")
        command = [
            sys.executable,
            "-c",
            "from ledger.cli import main; main(prog_name='ledger')",
            "dev",
            *("--host", "127.0.0.1", "--port", str(self.port)),
            *("--data-dir", str(self.data_dir), "--table-name", self.table_name),
            *("--dynamodb-port", str(self.dynamodb_port)),
        ]
        # The key travels in the environment, not on the command line other users can read.
        environment = {**os.environ, "LEDGER_ADMIN_KEY": self.admin_key}
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            # A session of its own: a Ctrl-C aimed at pytest does not hit it before teardown.
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environment,
                start_new_session=True,
            )
        self._wait_until_listening(offset)

    def stop(self) -> int:
        """Ctrl-C it, wait (bounded), kill it if it lingers; return its exit code."""
        process, self._process = self._process, None
        if process is None:
            raise DevServerError("ledger dev is not running")
        process.send_signal(signal.SIGINT)
        try:
            self.last_exit_code = process.wait(stop_wait_s_max)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise DevServerError(
                f"ledger dev did not stop within {stop_wait_s_max} s of SIGINT{self._log_tail()}"
            ) from None
        return self.last_exit_code

    def restart(self) -> None:
        """Stop and start again on the same data, ports and key; fail unless it stopped cleanly."""
        exit_code = self.stop()
        if exit_code != 0:
            raise DevServerError(f"ledger dev exited with {exit_code}{self._log_tail()}")
        self.start()

    def request(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        key: str | None = None,
        anonymous: bool = False,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        """One JSON call with the admin key, or `key`, or none: status, headers, JSON body."""
        sent = {"Content-Type": "application/json"}
        if not anonymous:
            sent["Authorization"] = f"Bearer {key or self.admin_key}"
        sent.update(headers or {})
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=request_timeout_s) as response:
                return response.status, dict(response.headers), _json_or_none(response.read())
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), _json_or_none(error.read())

    def _wait_until_listening(self, offset: int) -> None:
        assert self._process is not None
        deadline = time.monotonic() + start_wait_s_max
        while time.monotonic() < deadline:
            if ready_prefix + self.url in self._log_since(offset):
                return
            if self._process.poll() is not None:
                self.last_exit_code, self._process = self._process.returncode, None
                raise DevServerError(
                    f"ledger dev exited with {self.last_exit_code} while starting{self._log_tail()}"
                )
            time.sleep(0.1)
        self.stop()
        raise DevServerError(
            f"ledger dev did not listen on {self.url} within {start_wait_s_max} s{self._log_tail()}"
        )

    def _log_since(self, offset: int) -> str:
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", errors="replace")

    def _log_tail(self) -> str:
        return f":\n{self._log_since(0)[-log_tail_bytes_max:]}"


def _json_or_none(data: bytes) -> Any:
    return json.loads(data) if data else None


@pytest.fixture(scope="session")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """`ledger dev` on free ports with a temporary data dir and a random admin key."""
    root = tmp_path_factory.mktemp("ledger-dev")
    server = DevServer(root / "data", root / "ledger-dev.log")
    server.start()
    yield server
    if server.running:
        server.stop()
