"""Client threads for `make bench-load`: each keeps one HTTP/1.1 connection open and sends
transfers until the level's request count is spent or its time cap has passed."""

from __future__ import annotations

import http.client
import json
import threading
import time
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from bench.load_report import ClientRun

barrier_wait_s_max = 60
# A request still in flight at the time cap may take this long to come back, no longer.
request_timeout_s = 30
status_success_max = 299


class LoadFailed(RuntimeError):
    """The load run could not be carried out as asked (the server went away, a thread hung)."""


class JsonConnection:
    """One keep-alive connection to the API, every request with the same bearer key."""

    def __init__(self, host: str, port: int, api_key: str) -> None:
        self._connection = http.client.HTTPConnection(host, port, timeout=request_timeout_s)
        self._api_key = api_key

    def connect(self) -> None:
        """Open the connection now, so the first timed request does not pay for it."""
        self._connection.connect()

    def close(self) -> None:
        """Close the connection; the next request opens a new one."""
        self._connection.close()

    def call(
        self, method: str, path: str, body: object = None, *, idempotency_key: str | None = None
    ) -> tuple[int, Any]:
        """Status and JSON body of one request; on a transport error the connection is closed
        and the error raised."""
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body, separators=(",", ":")).encode()
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key
        try:
            self._connection.request(method, path, body=data, headers=headers)
            response = self._connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException):
            self._connection.close()
            raise
        # Amounts are strings; should a number ever come, it must not become a float.
        return response.status, json.loads(payload, parse_float=Decimal) if payload else None


class Budget:
    """The requests a level may still send: a count shared by its clients and a time cap."""

    def __init__(self, requests_max: int, time_cap_s: float) -> None:
        self._lock = threading.Lock()
        self._left = requests_max
        self._time_cap_s = time_cap_s
        self.started = 0.0
        self._deadline = 0.0

    def start(self) -> None:
        """Start the clock; called once, as the clients are released together."""
        self.started = time.perf_counter()
        self._deadline = self.started + self._time_cap_s

    def take(self) -> bool:
        """Whether one more request may be sent; counts it if so."""
        with self._lock:
            if self._left <= 0 or time.perf_counter() >= self._deadline:
                return False
            self._left -= 1
            return True


@dataclass(frozen=True)
class Pair:
    """The accounts one client transfers between."""

    source_id: str
    target_id: str


def _client(
    connection: JsonConnection, pair: Pair, amount: str, budget: Budget, barrier: threading.Barrier
) -> ClientRun:
    body = {"from_account_id": pair.source_id, "to_account_id": pair.target_id, "amount": amount}
    latencies: list[float] = []
    errors = accepted = 0
    connection.connect()
    barrier.wait(barrier_wait_s_max)
    while budget.take():
        began = time.perf_counter()
        try:
            status, _ = connection.call(
                "POST", "/v1/transfers", body, idempotency_key=str(uuid.uuid4())
            )
        except (OSError, http.client.HTTPException, ValueError):
            status = 0
        latencies.append(time.perf_counter() - began)
        if 200 <= status <= status_success_max:
            accepted += 1
        else:
            errors += 1
    connection.close()
    return ClientRun(pair.source_id, pair.target_id, tuple(latencies), errors, accepted)


def run_level(
    host: str,
    port: int,
    api_key: str,
    pairs: list[Pair],
    amount: str,
    *,
    requests_max: int,
    time_cap_s: float,
) -> tuple[list[ClientRun], float]:
    """One thread per pair, released together; their runs and the level's wall time in s."""
    budget = Budget(requests_max, time_cap_s)
    barrier = threading.Barrier(len(pairs), action=budget.start)
    runs: list[ClientRun | None] = [None] * len(pairs)
    failures: list[BaseException] = []

    def work(index: int, pair: Pair) -> None:
        try:
            runs[index] = _client(
                JsonConnection(host, port, api_key), pair, amount, budget, barrier
            )
        except BaseException as error:
            failures.append(error)
            barrier.abort()

    threads = [
        threading.Thread(target=work, args=(index, pair), name=f"load-client-{index}", daemon=True)
        for index, pair in enumerate(pairs)
    ]
    for thread in threads:
        thread.start()
    join_deadline = time.monotonic() + barrier_wait_s_max + time_cap_s + request_timeout_s
    for thread in threads:
        thread.join(max(0.0, join_deadline - time.monotonic()))
    duration_s = time.perf_counter() - budget.started
    if any(thread.is_alive() for thread in threads):
        raise LoadFailed(f"client threads still running past the cap of {time_cap_s} s")
    if failures:
        raise LoadFailed(f"a client thread failed: {failures[0]!r}") from failures[0]
    return [run for run in runs if run is not None], duration_s
