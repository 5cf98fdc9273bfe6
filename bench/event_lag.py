"""The write-to-event lag under `ledger dev`, in `make bench`.

The `ledger dev` (bench/load_server.py) the history lag was measured on takes `writes`
deposits into another account over HTTP, one after the other; after each, its bus file
(`<data-dir>/events.jsonl`, where the events consumer publishes from the stream) is read
until the deposit's `ledger.entry.posted` event is in it. The lag is the time from the
deposit's answer to that. Bounded: `writes_max` deposits, each waited for at most
`wait_s_max`; 127.0.0.1 only. Reported, never enforced.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from bench.history_lag import (
    HistoryLag,
    LagMeasurementFailed,
    deposits,
    measure_history_lag,
    wallet_of,
    writes_default,
    writes_max,
)
from bench.load_server import DevServer

if TYPE_CHECKING:
    from pathlib import Path

wait_s_max = 30
poll_interval_s = 0.01
posted = "ledger.entry.posted"


def measure_lags(writes: int = writes_default, workers: int = 1) -> tuple[HistoryLag, HistoryLag]:
    """Start one `ledger dev`; time `writes` deposits' way into history, then `writes`
    more deposits' way onto the bus."""
    if not 1 <= writes <= writes_max:
        raise ValueError(f"writes must be from 1 to {writes_max}")
    with DevServer(workers) as server:
        return measure_history_lag(server, writes), measure_event_lag(server, writes)


def measure_event_lag(server: DevServer, writes: int = writes_default) -> HistoryLag:
    """Write `writes` deposits on `server`, and time each one's way onto the bus."""
    url, account = wallet_of(server)
    bus = _Bus(server.data_dir / "events.jsonl")
    lags = [bus.wait_for(entry_id) for entry_id in deposits(server, url, account, writes)]
    return HistoryLag(tuple(lags))


class _Bus:
    """The bus file read as it grows: the posted entries seen so far."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._offset = 0
        self._posted: set[str] = set()

    def wait_for(self, entry_id: str) -> float:
        answered = time.perf_counter()
        deadline = answered + wait_s_max
        while time.perf_counter() < deadline:
            self._read()
            if entry_id in self._posted:
                return (time.perf_counter() - answered) * 1000
            time.sleep(poll_interval_s)
        raise LagMeasurementFailed(f"entry {entry_id} not published within {wait_s_max} s")

    def _read(self) -> None:
        if not self._path.exists():
            return
        with self._path.open("rb") as lines:
            lines.seek(self._offset)
            data = lines.read()
        complete = data[: data.rfind(b"\n") + 1]
        self._offset += len(complete)
        for line in complete.splitlines():
            event = json.loads(line)
            if event["detail-type"] == posted:
                self._posted.add(event["detail"]["id"])


def format_event_lag(lag: HistoryLag) -> str:
    """One line: the lag's percentiles."""
    shape = lag.as_json()
    return (
        f"Write-to-event lag under ledger dev, {shape['writes']} deposits: "
        f"p50 {shape['p50_ms']:.0f} ms, p95 {shape['p95_ms']:.0f} ms, max {shape['max_ms']:.0f} ms"
    )
