"""`ledger dev` stopped and started again in the middle of a stream of writes: the stream
poller goes on from its checkpoints, so the history and the audit chain of every balance
item come out whole, with no version missing and none counted twice."""

from __future__ import annotations

import secrets
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from dev_process import DevProcess, alive, children, stop_wait_s_max
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


class Dev(DevProcess):
    """`ledger dev` on fixed ports and a data dir; a stop waits until its children are gone."""

    def __init__(self, root: Path) -> None:
        port, self.dynamodb_port = free_port(), free_port()
        self.table_name = "ledger"
        super().__init__(
            root / "data",
            root / "dev.log",
            port=port,
            admin_key="restart-" + secrets.token_urlsafe(24),
            options=(
                *("--port", str(port), "--dynamodb-port", str(self.dynamodb_port)),
                *("--data-dir", str(root / "data"), "--workers", "2"),
            ),
        )

    def stop(self, signal_number: signal.Signals = signal.SIGINT) -> int:
        """Stop ledger dev alone with `signal_number`; wait until its children are gone."""
        assert self.process is not None
        started = set(children(self.process.pid))
        exit_code = super().stop(signal_number)
        deadline = time.monotonic() + stop_wait_s_max
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


@pytest.mark.timeout(600)
def test_dev_stopped_and_killed_mid_stream_leaves_no_gap_and_no_duplicate(tmp_path: Path) -> None:
    # GIVEN ledger dev with a wallet, and deposits into it going on from a thread
    dev = Dev(tmp_path)
    dev.start()
    try:
        book = dev.ok("POST", "/v1/ledgers", {"name": "restart"}, 201)
        body = {"ledger_id": book["id"], "name": "wallet", "type": "liability", "currency": "USD"}
        wallet = dev.ok("POST", "/v1/accounts", body, 201)["id"]
        depositor = Depositor(dev, wallet)
        depositor.start()

        # WHEN it is stopped (SIGTERM) and started again, then killed outright (SIGKILL,
        # which its DynamoDB Local and workers follow) and started again, mid-stream
        depositor.wait_for(acknowledged_before_stops[0])
        assert dev.stop(signal.SIGTERM) == 0, dev.log(0)
        dev.start()
        depositor.wait_for(acknowledged_before_stops[1])
        assert dev.stop(signal.SIGKILL) == -signal.SIGKILL
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
    finally:
        if dev.process is not None:
            dev.stop(signal.SIGINT)
