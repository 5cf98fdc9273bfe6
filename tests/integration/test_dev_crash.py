"""`ledger dev` stopped, killed and started again on the same data, in one life of its data dir.

Stopped (SIGTERM) and killed alone (SIGKILL) in the middle of a stream of writes, it leaves
nothing running, and the stream poller goes on from its checkpoints: the history and the
audit chain of every balance item come out whole, with no version missing and none counted
twice.

Killed outright together with its DynamoDB Local, it leaves nothing running either, and no
write is ever half there. DynamoDB Local may lose its last acknowledged writes when it is
killed (it is a development server); what it must never do is keep part of a write. The
test counts and reports the acknowledged writes a crash lost, and fails only on a partial
or inconsistent one.

Every phase runs on one data dir, so four starts serve them all.
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

from dev_process import DevProcess, alive, children, request_timeout_s, stop_wait_s_max
from ledger.local.dynamodb_local import free_port, make_client

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="finds the child processes in /proc"
)

deposits_count = 24
# The writes the server acknowledges before each stop: both stops land mid-stream.
acknowledged_before_stops = (8, 16)
writes_wait_s_max = 240
retry_delay_s = 0.1
projections_wait_s_max = 60
# How long the DynamoDB Local and workers of a killed `ledger dev` may outlive it.
orphan_wait_s_max = 20
burst_threads = 6
# Enough acknowledged transfers that the kill lands in the middle of a stream of writes.
acknowledged_before_kill = 30
burst_wait_s_max = 60


class Dev(DevProcess):
    """`ledger dev` on fixed ports and a data dir, its API port and data dir from the
    environment; a stop waits until its children are gone."""

    def __init__(self, root: Path) -> None:
        port, self.dynamodb_port = free_port(), free_port()
        self.table_name = "ledger"
        super().__init__(
            root / "data",
            root / "dev.log",
            port=port,
            admin_key="restart-" + secrets.token_urlsafe(24),
            options=("--dynamodb-port", str(self.dynamodb_port), "--workers", "2"),
            environment={"LEDGER_PORT": str(port), "LEDGER_DATA_DIR": str(root / "data")},
        )

    def stop(
        self,
        signal_number: signal.Signals = signal.SIGINT,
        children_wait_s: float = stop_wait_s_max,
    ) -> int:
        """Stop ledger dev alone with `signal_number`; wait until its children are gone,
        at most `children_wait_s`."""
        assert self.process is not None
        started = set(children(self.process.pid))
        exit_code = super().stop(signal_number)
        deadline = time.monotonic() + children_wait_s
        while alive(started):
            assert time.monotonic() < deadline, (alive(started), self.log())
            time.sleep(0.1)
        return exit_code

    def ok(self, method: str, path: str, body: object = None, status: int = 200) -> Any:
        answered, found = self.call(method, path, body)
        assert answered == status, found
        return found


class Depositor(threading.Thread):
    """Deposits 1.00 into a wallet `deposits_count` times, one after the other, each under
    its own idempotency key: an attempt without an answer, or answered with a 5xx while the
    server stops, is sent again under the same key until the server (started again
    meanwhile) answers 201, so each deposit is made once."""

    def __init__(self, dev: Dev, wallet: str) -> None:
        super().__init__(name="depositor", daemon=True)
        self.dev = dev
        self.wallet = wallet
        self.prefix = secrets.token_hex(6)
        self.acknowledged: list[str] = []
        self.unanswered = 0
        self.error: str | None = None

    def run(self) -> None:
        deadline = time.monotonic() + writes_wait_s_max
        body = {"account_id": self.wallet, "amount": "1.00"}
        for index in range(deposits_count):
            while True:
                if time.monotonic() > deadline:
                    self.error = f"deposit {index} not acknowledged within {writes_wait_s_max} s"
                    return
                try:
                    status, entry = self.dev.call(
                        "POST", "/v1/deposits", body, idempotency_key=f"{self.prefix}-{index}"
                    )
                except (OSError, ValueError):
                    # No answer, or none in JSON: the deposit may or may not have been made.
                    status, entry = 0, None
                if status == 201:
                    self.acknowledged.append(entry["id"])
                    break
                if 0 < status < 500:
                    self.error = f"deposit {index} answered {status}: {entry}"
                    return
                self.unanswered += 1
                time.sleep(retry_delay_s)

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + writes_wait_s_max
        while len(self.acknowledged) < count:
            assert self.is_alive(), self.error
            assert time.monotonic() < deadline, len(self.acknowledged)
            time.sleep(0.01)


def _reconciled(dev: Dev, ledger_id: str) -> tuple[int, Any]:
    """The ledger's reconciliation once it holds, or the last answer after a bounded wait
    (an answer other than 200, say while a worker warms up, counts as not yet)."""
    deadline = time.monotonic() + projections_wait_s_max
    while True:
        status, report = dev.call("POST", f"/v1/ledgers/{ledger_id}/reconciliations")
        if (status == 200 and report["ok"]) or time.monotonic() > deadline:
            return status, report
        time.sleep(0.25)


def _table_items(dev: Dev) -> list[dict[str, Any]]:
    """Every item of the table, strongly consistent."""
    client = make_client(f"http://127.0.0.1:{dev.dynamodb_port}")
    pages = client.get_paginator("scan").paginate(TableName=dev.table_name, ConsistentRead=True)
    return [item for page in pages for item in page["Items"]]


def _versions_by_item(
    items: list[dict[str, Any]], account_ids: set[str]
) -> dict[str, tuple[int, list[int]]]:
    """Each balance item of the accounts, by partition: its version and its history versions."""
    versions: dict[str, int] = {}
    history: dict[str, list[int]] = {}
    for item in items:
        prefix, _, name = item["pk"]["S"].partition("#")
        if name.split("#")[0] not in account_ids:
            continue
        if prefix == "ACCOUNT":
            versions[name] = int(item["version"]["N"])
        elif prefix == "HISTORY":
            history.setdefault(name, []).append(int(item["version"]["N"]))
    assert set(history) <= set(versions), (history, versions)
    return {name: (version, sorted(history.get(name, []))) for name, version in versions.items()}


def _aggregated(items: list[dict[str, Any]], account_id: str, period: str) -> tuple[int, int]:
    """The changes and posted credits the account's effective-time aggregates of one period
    kind (`DAY` or `MONTH`) add up to."""
    changes = credits = 0
    for item in items:
        if item["pk"]["S"] == f"EFFECTIVE#{account_id}" and item["sk"]["S"].startswith(period):
            changes += int(item["changes"]["N"])
            credits += int(item["posted_credits"]["N"])
    return changes, credits


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


@pytest.mark.timeout(900)
def test_dev_stopped_killed_and_crashed_keeps_every_write_whole(
    tmp_path: Path, record_property: Any
) -> None:
    # GIVEN ledger dev, its API port and data dir from the environment, with a wallet, and
    # deposits into it going on from a thread
    dev = Dev(tmp_path)
    first = dev.start()
    try:
        assert "DynamoDB Local listens on 127.0.0.1 only" in dev.log(0)
        started = children(first.pid)
        assert any("LoopbackDynamoDBLocal" in command for command in started.values())
        assert any("multiprocessing" in command for command in started.values())
        book = dev.ok("POST", "/v1/ledgers", {"name": "restart"}, 201)
        body = {"ledger_id": book["id"], "name": "wallet", "type": "liability", "currency": "USD"}
        wallet = dev.ok("POST", "/v1/accounts", body, 201)["id"]
        depositor = Depositor(dev, wallet)
        depositor.start()

        # WHEN it is stopped (SIGTERM) and started again, then killed alone outright
        # (SIGKILL) and started again, mid-stream
        depositor.wait_for(acknowledged_before_stops[0])
        assert dev.stop(signal.SIGTERM) == 0, dev.log(0)
        dev.start()
        depositor.wait_for(acknowledged_before_stops[1])
        assert dev.process is not None
        assert any("java" in command for command in children(dev.process.pid).values())
        # THEN its DynamoDB Local and workers follow the kill within a bound, holding no
        # port: the next start takes the same ones
        assert dev.stop(signal.SIGKILL, orphan_wait_s_max) == -signal.SIGKILL
        dev.start()
        depositor.join(writes_wait_s_max)
        assert not depositor.is_alive()
        assert depositor.error is None, depositor.error
        # (each stop cut the stream: the depositor had to send again across both)
        assert depositor.unanswered >= 2
        assert len(set(depositor.acknowledged)) == deposits_count

        # THEN, once the projections have caught up, the ledger reconciles against the
        # journal, the history and the audit chain
        status, report = _reconciled(dev, book["id"])
        assert status == 200, report
        assert (report["ok"], report["mismatches"]) == (True, []), report
        assert report["checks"] == ["journal", "history", "audit"]
        balance = dev.ok("GET", f"/v1/accounts/{wallet}/balance")
        assert (balance["posted"], balance["version"]) == (f"{deposits_count}.00", deposits_count)
        # AND every balance item's history is its versions 1..version, each once
        world = next(
            line["account_id"]
            for line in dev.ok("GET", f"/v1/entries/{depositor.acknowledged[0]}")["lines"]
            if line["account_id"] != wallet
        )
        table = _table_items(dev)
        items = _versions_by_item(table, {wallet, world})
        assert items[wallet] == (deposits_count, list(range(1, deposits_count + 1)))
        for name, (version, versions) in items.items():
            assert versions == list(range(1, version + 1)), name
        assert sum(version for name, (version, _) in items.items() if name != wallet) == (
            deposits_count
        )
        # AND the statement lists each deposit once, in order, the balance running to the end
        statement = dev.ok("GET", f"/v1/accounts/{wallet}/statement?limit=100")
        assert [item["version"] for item in statement["items"]] == list(
            range(1, deposits_count + 1)
        )
        assert [item["entry_id"] for item in statement["items"]] == depositor.acknowledged
        assert statement["items"][-1]["balance_after"]["posted"] == f"{deposits_count}.00"
        # AND the effective-time aggregates (added with each history record) count each once
        for period in ("DAY#", "MONTH#"):
            assert _aggregated(table, wallet, period) == (deposits_count, deposits_count * 100)
        # AND each audit chain verifies, one record per version and the opening
        for account_id in (wallet, world):
            verified = dev.ok("GET", f"/v1/accounts/{account_id}/audit/verify")
            assert verified["ok"] is True, verified
        assert dev.ok("GET", f"/v1/accounts/{wallet}/audit/verify")["records"] == (
            deposits_count + 1
        )
        # AND the stream poller gave up on nothing
        failures = dev.data_dir / "stream-failures.jsonl"
        assert not failures.exists() or failures.read_text() == ""
        assert (dev.data_dir / "stream-checkpoints.json").is_file()

        # GIVEN another ledger with a funded account
        crash = dev.ok("POST", "/v1/ledgers", {"name": "crash"}, 201)
        accounts = [
            dev.ok(
                "POST",
                "/v1/accounts",
                {"ledger_id": crash["id"], "name": name, "type": "liability", "currency": "USD"},
                201,
            )["id"]
            for name in ("source", "target")
        ]
        deposit = dev.ok(
            "POST", "/v1/deposits", {"account_id": accounts[0], "amount": "10000.00"}, 201
        )
        assert dev.process is not None
        started = children(dev.process.pid)

        # WHEN a burst of transfers is cut by a kill -9 of ledger dev and DynamoDB Local at once
        acknowledged, unknown = _burst(dev, accounts[0], accounts[1])

        # THEN the workers, left without their runtime, end within a bound as well
        assert _wait_until_gone(set(started)) == set()

        # WHEN it starts again on the same data dir
        dev.start()
        assert dev.call("GET", f"/v1/ledgers/{crash['id']}")[0] == 200

        # THEN the journal and the account items agree: no write is there in part
        status, report = _reconciled(dev, crash["id"])
        assert status == 200, report
        assert report["ok"], report
        assert report["mismatches"] == []
        present = _entry_ids(dev, crash["id"]) - {deposit["id"]}
        balances = [dev.ok("GET", f"/v1/accounts/{account}/balance") for account in accounts]
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
            dev.stop(signal.SIGINT)
