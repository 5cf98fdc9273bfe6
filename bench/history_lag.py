"""The write-to-history lag under `ledger dev`, in `make bench`.

A `ledger dev` (bench/load_server.py), the one the event lag is measured on next, takes
`writes` deposits into one account over HTTP, one after the other; after each, the
account's entries (read from its history, which the history consumer writes from the
stream) are polled until the deposit is listed. The lag is the time from the deposit's
answer to the first listing that holds it. Bounded: `writes_max` deposits, each waited for
at most `wait_s_max`; 127.0.0.1 only. Reported, never enforced: the machine is shared and
the numbers are noisy.
"""

from __future__ import annotations

import json
import statistics
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bench.load_server import DevServer

writes_default = 30
writes_max = 200
wait_s_max = 30
poll_interval_s = 0.01
request_timeout_s = 30


class LagMeasurementFailed(RuntimeError):
    """A write was refused, or its history did not appear within the bound."""


@dataclass(frozen=True)
class HistoryLag:
    """The lag of each write, in milliseconds, in the order written."""

    lags_ms: tuple[float, ...]

    def as_json(self) -> dict[str, Any]:
        """The results.json shape: count, p50, p95 and max."""
        ordered = sorted(self.lags_ms)
        return {
            "writes": len(ordered),
            "p50_ms": round(statistics.median(ordered), 1),
            "p95_ms": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
            "max_ms": round(ordered[-1], 1),
        }


def measure_history_lag(server: DevServer, writes: int = writes_default) -> HistoryLag:
    """Write `writes` deposits on `server`, and time each one's way into history."""
    url, account = wallet_of(server)
    lags = []
    for entry_id in deposits(server, url, account, writes):
        lags.append(_wait_for_history(url, server.admin_key, account, entry_id))
    return HistoryLag(tuple(lags))


def wallet_of(server: DevServer) -> tuple[str, str]:
    """The server's base URL, and a new wallet's id on it."""
    url = f"http://{server.host}:{server.port}"
    ledger = api_call(url, server.admin_key, "POST", "/v1/ledgers", {"name": "lag"})
    body = {"ledger_id": ledger["id"], "name": "wallet", "type": "liability", "currency": "USD"}
    return url, api_call(url, server.admin_key, "POST", "/v1/accounts", body)["id"]


def deposits(server: DevServer, url: str, account: str, writes: int) -> Iterator[str]:
    """`writes` deposits of 1.00, one after the other: each one's entry id once answered
    (the next is made when the caller asks for it)."""
    for _ in range(writes):
        deposit = {"account_id": account, "amount": "1.00"}
        yield api_call(url, server.admin_key, "POST", "/v1/deposits", deposit)["id"]


def _wait_for_history(url: str, key: str, account: str, entry_id: str) -> float:
    answered = time.perf_counter()
    deadline = answered + wait_s_max
    path = f"/v1/entries?account_id={account}&limit=1"
    while time.perf_counter() < deadline:
        page = api_call(url, key, "GET", path)
        if page["items"] and page["items"][0]["id"] == entry_id:
            return (time.perf_counter() - answered) * 1000
        time.sleep(poll_interval_s)
    raise LagMeasurementFailed(f"entry {entry_id} not in history within {wait_s_max} s")


def api_call(url: str, key: str, method: str, path: str, body: object = None) -> Any:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data, headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=request_timeout_s) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise LagMeasurementFailed(f"{method} {path}: {error.code} {error.read()!r}") from None


def format_history_lag(lag: HistoryLag) -> str:
    """One line: the lag's percentiles."""
    shape = lag.as_json()
    return (
        f"Write-to-history lag under ledger dev, {shape['writes']} deposits: "
        f"p50 {shape['p50_ms']:.0f} ms, p95 {shape['p95_ms']:.0f} ms, max {shape['max_ms']:.0f} ms"
    )
