"""End to end: `ledger dev` runs as its own process, once per session, reached only over HTTP.

Tests take the `dev_server` fixture: `url`, `admin_key`, `data_dir`, `table_name`,
`dynamodb_endpoint`, `request(...)` for a JSON call, and `restart()` to stop the process
and start it again on the same data (the URL and key stay the same).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from dev_process import DevProcess, DevProcessError
from ledger.local.dynamodb_local import free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

e2e_dir = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every end-to-end test: `-m "not e2e"` skips them, as does `-m "not dynamodb_local"`.

    Each module also puts itself in the xdist group "e2e" (a `pytestmark`: a marker added
    here would come too late for xdist), so one worker runs them all against one server.
    """
    for item in items:
        if item.path.is_relative_to(e2e_dir):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.dynamodb_local)


class DevServer(DevProcess):
    """One `ledger dev` process on free ports, a table of its own and a private data dir."""

    def __init__(self, data_dir: Path, log_path: Path) -> None:
        port, dynamodb_port = free_port(), free_port()
        self.table_name = f"ledger-e2e-{secrets.token_hex(4)}"
        self.dynamodb_endpoint = f"http://127.0.0.1:{dynamodb_port}"
        super().__init__(
            data_dir,
            log_path,
            port=port,
            admin_key="e2e-" + secrets.token_urlsafe(24),
            options=(
                *("--host", "127.0.0.1", "--port", str(port)),
                *("--data-dir", str(data_dir), "--table-name", self.table_name),
                *("--dynamodb-port", str(dynamodb_port)),
            ),
        )

    def restart(self) -> None:
        """Stop and start again on the same data, ports and key; fail unless it stopped cleanly."""
        exit_code = self.stop()
        if exit_code != 0:
            raise DevProcessError(f"ledger dev exited with {exit_code}{self.log_tail()}")
        self.start()


@pytest.fixture(scope="session")
def dev_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevServer]:
    """`ledger dev` on free ports with a temporary data dir and a random admin key."""
    root = tmp_path_factory.mktemp("ledger-dev")
    server = DevServer(root / "data", root / "ledger-dev.log")
    server.start()
    yield server
    if server.running:
        server.stop()
