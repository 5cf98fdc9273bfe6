"""A `ledger dev` of its own for `make bench-load`: a child process on a free 127.0.0.1 port,
a temporary data directory, and an admin key made for the run."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType

from ledger.auth.api_keys import new_secret
from ledger.local.dev import admin_key_variable, default_host

start_wait_s_max = 120
stop_wait_s_max = 30
log_tail_chars_max = 4000
# Port 0 lets `ledger dev` bind a free port itself; its listening line says which.
_listening = re.compile(r"^Ledger API listening on http://127\.0\.0\.1:(?P<port>\d+)$", re.M)


class DevServerFailed(RuntimeError):
    """`ledger dev` did not start or stop as expected; the message ends with its log."""


class DevServer:
    """`ledger dev` on 127.0.0.1 with `workers` worker processes, for the life of a `with`."""

    def __init__(self, workers: int) -> None:
        self.host = default_host
        self.port = 0
        self.admin_key = new_secret()
        self._workers = workers
        self._directory = tempfile.TemporaryDirectory(prefix="ledger-load-")
        self._log_path = Path(self._directory.name) / "ledger-dev.log"
        self.data_dir = Path(self._directory.name) / "data"
        self._process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> DevServer:
        command = [
            sys.executable,
            "-c",
            "from ledger.cli import main; main(prog_name='ledger')",
            "dev",
            *("--host", self.host, "--port", "0", "--workers", str(self._workers)),
            *("--data-dir", str(self.data_dir)),
        ]
        # The key travels in the environment, not on a command line other users can read.
        environment = {**os.environ, admin_key_variable: self.admin_key}
        with self._log_path.open("wb") as log:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=environment,
                start_new_session=True,
            )
        try:
            self.port = self._wait_until_listening(self._process)
        except BaseException:
            self._stop()
            self._directory.cleanup()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        try:
            self._stop()
        finally:
            self._directory.cleanup()

    def _wait_until_listening(self, process: subprocess.Popen[bytes]) -> int:
        deadline = time.monotonic() + start_wait_s_max
        while time.monotonic() < deadline:
            found = _listening.search(self._log())
            if found is not None:
                return int(found.group("port"))
            if process.poll() is not None:
                raise DevServerFailed(f"ledger dev exited with {process.returncode}{self._tail()}")
            time.sleep(0.1)
        raise DevServerFailed(
            f"ledger dev did not listen within {start_wait_s_max} s{self._tail()}"
        )

    def _stop(self) -> None:
        """Ctrl-C it, as a developer would; kill it if it lingers past the bound."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGINT)
        try:
            process.wait(stop_wait_s_max)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise DevServerFailed(
                f"ledger dev did not stop within {stop_wait_s_max} s{self._tail()}"
            ) from None

    def _log(self) -> str:
        return self._log_path.read_text(encoding="utf-8", errors="replace")

    def _tail(self) -> str:
        return f":\n{self._log()[-log_tail_chars_max:]}"
