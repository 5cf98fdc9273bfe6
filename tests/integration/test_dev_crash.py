"""`ledger dev` killed outright: nothing it started survives, and no write is ever half there.

DynamoDB Local may lose its last acknowledged writes when it is killed (it is a development
server); what it must never do is keep part of a write. The test counts and reports the
acknowledged writes a crash lost, and fails only on a partial or inconsistent one.
"""

from __future__ import annotations

import os
import secrets
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from dev_process import DevProcess, alive, children
from ledger.local.dynamodb_local import free_port

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="finds the child processes in /proc"
)

orphan_wait_s_max = 20
request_timeout_s = 15
burst_threads = 6
# Enough acknowledged transfers that the kill lands in the middle of a stream of writes.
acknowledged_before_kill = 30
burst_wait_s_max = 60


def _dev(root: Path) -> DevProcess:
    """`ledger dev` with its API port and data dir from the environment, DynamoDB Local on a
    free port."""
    port = free_port()
    return DevProcess(
        root / "data",
        root / "dev.log",
        port=port,
        admin_key="crash-" + secrets.token_urlsafe(24),
        options=("--workers", "1"),
        environment={"LEDGER_PORT": str(port), "LEDGER_DATA_DIR": str(root / "data")},
        request_timeout_s=request_timeout_s,
    )


def _wait_until_gone(pids: set[int]) -> set[int]:
    """The pids still alive after the bound (a zombie counts as gone)."""
    deadline = time.monotonic() + orphan_wait_s_max
    while alive(pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return alive(pids)


def _burst(dev: DevProcess, source: str, target: str) -> tuple[list[str], int]:
    """Transfers from many threads until the kill: acknowledged entry ids, unknown outcomes."""
    acknowledged: list[str] = []
    unknown = 0
    lock = threading.Lock()
    stop = threading.Event()

    def transfer() -> None:
        nonlocal unknown
        while not stop.is_set():
            body = {"from_account_id": source, "to_account_id": target, "amount": "1.00"}
            try:
                status, entry = dev.call("POST", "/v1/transfers", body)
            except OSError:
                # No answer: the transfer may or may not have been written.
                with lock:
                    unknown += 1
                return
            assert status == 201, entry
            with lock:
                acknowledged.append(entry["id"])

    threads = [threading.Thread(target=transfer) for _ in range(burst_threads)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + burst_wait_s_max
    while len(acknowledged) < acknowledged_before_kill and time.monotonic() < deadline:
        time.sleep(0.01)
    process = dev.process
    assert process is not None
    java = [pid for pid, command in children(process.pid).items() if "java" in command]
    # Both at once, so neither can shut down in order.
    for pid in [process.pid, *java]:
        os.kill(pid, signal.SIGKILL)
    stop.set()
    for thread in threads:
        thread.join(timeout=request_timeout_s * 2)
    process.wait(timeout=10)
    return acknowledged, unknown


def _entry_ids(dev: DevProcess, ledger_id: str) -> set[str]:
    ids: set[str] = set()
    cursor = ""
    while True:
        status, page = dev.call("GET", f"/v1/entries?ledger_id={ledger_id}&limit=100{cursor}")
        assert status == 200, page
        ids.update(entry["id"] for entry in page["items"])
        if page["next_cursor"] is None:
            return ids
        cursor = f"&cursor={page['next_cursor']}"


@pytest.mark.timeout(600)
def test_a_killed_dev_leaves_no_orphan_and_no_partial_write(
    tmp_path: Path, record_property: Any
) -> None:
    # GIVEN ledger dev with a funded account, its ports and data dir from the environment
    dev = _dev(tmp_path)
    first = dev.start()
    try:
        assert "DynamoDB Local listens on 127.0.0.1 only" in dev.log(0)
        status, book = dev.call("POST", "/v1/ledgers", {"name": "crash"})
        assert status == 201, book
        accounts = [
            dev.call(
                "POST",
                "/v1/accounts",
                {"ledger_id": book["id"], "name": name, "type": "liability", "currency": "USD"},
            )[1]["id"]
            for name in ("source", "target")
        ]
        status, deposit = dev.call(
            "POST", "/v1/deposits", {"account_id": accounts[0], "amount": "10000.00"}
        )
        assert status == 201, deposit
        started = children(first.pid)
        assert any("LoopbackDynamoDBLocal" in command for command in started.values())
        assert any("multiprocessing" in command for command in started.values())

        # WHEN a burst of transfers is cut by a kill -9 of ledger dev and DynamoDB Local at once
        acknowledged, unknown = _burst(dev, accounts[0], accounts[1])

        # THEN the workers, left without their runtime, end within a bound as well
        assert _wait_until_gone(set(started)) == set()

        # WHEN it starts again on the same data dir
        dev.start()
        assert dev.call("GET", f"/v1/ledgers/{book['id']}")[0] == 200

        # THEN the journal and the account items agree: no write is there in part
        # (the projections catch up from the stream within about a second of the restart)
        deadline = time.monotonic() + 20
        status, report = dev.call("POST", f"/v1/ledgers/{book['id']}/reconciliations")
        while status == 200 and not report["ok"] and time.monotonic() < deadline:
            time.sleep(0.25)
            status, report = dev.call("POST", f"/v1/ledgers/{book['id']}/reconciliations")
        assert status == 200, report
        assert report["ok"], report
        assert report["mismatches"] == []
        present = _entry_ids(dev, book["id"]) - {deposit["id"]}
        balances = [dev.call("GET", f"/v1/accounts/{account}/balance")[1] for account in accounts]
        # AND money is conserved: each whole transfer present moved exactly 1.00
        assert balances[0]["posted"] == f"{10000 - len(present)}.00"
        assert balances[1]["posted"] == f"{len(present)}.00"
        assert (balances[0]["version"], balances[1]["version"]) == (len(present) + 1, len(present))
        lost = [entry_id for entry_id in acknowledged if entry_id not in present]
        report_line = (
            f"crash: {len(acknowledged)} transfers acknowledged, {len(lost)} of them lost, "
            f"{unknown} unanswered, {len(present)} present after restart"
        )
        print(report_line)
        record_property("crash_lost_acknowledged_writes", len(lost))
        assert len(acknowledged) >= acknowledged_before_kill, report_line
        assert len(present) <= len(acknowledged) + unknown, report_line
    finally:
        if dev.running:
            dev.stop()


@pytest.mark.timeout(300)
def test_a_kill_of_dev_alone_takes_its_dynamodb_local_and_workers_with_it(tmp_path: Path) -> None:
    # GIVEN ledger dev, with its DynamoDB Local and a worker
    dev = _dev(tmp_path)
    first = dev.start()
    try:
        started = children(first.pid)
        java = {pid for pid, command in started.items() if "java" in command}
        assert java, started

        # WHEN only ledger dev itself is killed outright
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=10)

        # THEN DynamoDB Local and the workers end within a bound, holding no port
        assert _wait_until_gone(set(started)) == set()
        # AND the next start on the same data dir serves again
        dev.start()
        assert dev.call("GET", "/v1/ledgers")[0] == 200
    finally:
        if dev.running:
            dev.stop()
