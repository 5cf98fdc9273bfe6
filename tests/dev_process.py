"""`ledger dev` as a subprocess, for the tests that start, stop, kill and restart it.

It runs in a session of its own (a Ctrl-C aimed at pytest does not reach it before the
test's own stop), writes to a log file the failures quote, and is reached over HTTP on
127.0.0.1 with an admin key handed over in the environment, never on the command line.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ledger_command = (sys.executable, "-c", "from ledger.cli import main; main(prog_name='ledger')")
ready_prefix = "Ledger API listening on "
start_wait_s_max = 120
stop_wait_s_max = 40
# Generous: on a loaded machine a worker's first request after a start takes seconds.
request_timeout_s = 60
log_tail_bytes_max = 6000


class DevProcessError(RuntimeError):
    """`ledger dev` did not start or stop as expected; the message ends with its log."""


class DevProcess:
    """One `ledger dev` on `port` with `options`, started again at will on the same data."""

    def __init__(
        self,
        data_dir: Path,
        log_path: Path,
        *,
        port: int,
        admin_key: str,
        options: Sequence[str] = (),
        environment: Mapping[str, str] | None = None,
        request_timeout_s: float = request_timeout_s,
    ) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.admin_key = admin_key
        self.last_exit_code: int | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self._options = tuple(options)
        self._environment = dict(environment or {})
        self._request_timeout_s = request_timeout_s

    @property
    def running(self) -> bool:
        """Whether the process was started, not stopped since, and has not died."""
        return self.process is not None and self.process.poll() is None

    def start(self) -> subprocess.Popen[bytes]:
        """Start it and wait, bounded, until it prints that it listens."""
        if self.running:
            raise DevProcessError("ledger dev is already running")
        environment = {**os.environ, **self._environment, "LEDGER_ADMIN_KEY": self.admin_key}
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                [*ledger_command, "dev", *self._options],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environment,
                start_new_session=True,
            )
        process = self.process
        deadline = time.monotonic() + start_wait_s_max
        while ready_prefix + self.url not in self.log(offset):
            if process.poll() is not None:
                self.last_exit_code, self.process = process.returncode, None
                message = f"ledger dev exited with {self.last_exit_code} while starting"
                raise DevProcessError(message + self.log_tail())
            if time.monotonic() > deadline:
                self.stop(signal.SIGKILL)
                message = f"ledger dev did not listen on {self.url} within {start_wait_s_max} s"
                raise DevProcessError(message + self.log_tail())
            time.sleep(0.1)
        return process

    def stop(self, signal_number: signal.Signals = signal.SIGINT) -> int:
        """Send `signal_number` to ledger dev alone and wait, bounded; its exit code. Past
        the bound it is killed and the stop fails."""
        process, self.process = self.process, None
        if process is None:
            raise DevProcessError("ledger dev is not running")
        process.send_signal(signal_number)
        try:
            self.last_exit_code = process.wait(stop_wait_s_max)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            message = f"ledger dev did not stop within {stop_wait_s_max} s of {signal_number!r}"
            raise DevProcessError(message + self.log_tail()) from None
        return self.last_exit_code

    def log(self, offset: int = 0) -> str:
        """What it printed from `offset` on, over all its starts."""
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", errors="replace")

    def log_tail(self) -> str:
        """The end of its log, to close a failure's message."""
        return f":\n{self.log()[-log_tail_bytes_max:]}"

    def request(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        key: str | None = None,
        anonymous: bool = False,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, str], Any]:
        """One JSON call with the admin key, or `key`, or none: status, headers, JSON body."""
        sent = {"Content-Type": "application/json"}
        if not anonymous:
            sent["Authorization"] = f"Bearer {key or self.admin_key}"
        sent.update(headers or {})
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=sent)
        try:
            with urllib.request.urlopen(request, timeout=self._request_timeout_s) as response:
                return response.status, dict(response.headers), _json_or_none(response.read())
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), _json_or_none(error.read())

    def call(
        self, method: str, path: str, body: object = None, idempotency_key: str | None = None
    ) -> tuple[int, Any]:
        """One JSON call with the admin key: status and decoded body."""
        headers = {} if idempotency_key is None else {"Idempotency-Key": idempotency_key}
        status, _, found = self.request(method, path, body, headers=headers)
        return status, found


def children(pid: int) -> dict[int, str]:
    """The live child processes of `pid` and their command lines (Linux: read from /proc)."""
    found: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()
        if int(fields[1]) == pid and fields[0] not in {"Z", "X"}:
            found[int(entry.name)] = command
    return found


def alive(pids: set[int]) -> set[int]:
    """Those of `pids` still running (a zombie counts as gone)."""
    running = set()
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except FileNotFoundError:
            continue
        if state not in {"Z", "X"}:
            running.add(pid)
    return running


def _json_or_none(data: bytes) -> Any:
    return json.loads(data) if data else None
