"""Many clients at once against `ledger dev`: its worker processes race on DynamoDB Local.

Each client is a thread with its own HTTP connection; a barrier releases them together.
Bounds: at most `clients_max` threads, one HTTP timeout per request (the fixture's), a
wall-clock cap of `race_s_max` per race, and at most `conflict_retries_max` retries of a
503 `conflict`, which the contract says is safe to retry with the same Idempotency-Key.
"""

from __future__ import annotations

import secrets
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from .builders import once_projected

# One pytest worker runs every end-to-end test, against one `ledger dev`.
pytestmark = pytest.mark.xdist_group("e2e")

if TYPE_CHECKING:
    from collections.abc import Callable

    from .conftest import DevServer

clients_max = 50
race_s_max = 120
barrier_wait_s_max = 30
conflict_retries_max = 5
conflict_status = 503


@dataclass(frozen=True)
class Answer:
    """One client's final response."""

    status: int
    headers: dict[str, str]
    body: Any


def _funded_wallet(dev_server: DevServer, funds: str) -> tuple[str, str]:
    """A new ledger with one USD wallet holding `funds`: (ledger id, account id)."""
    status, _, ledger = dev_server.request(
        "POST", "/v1/ledgers", {"name": f"race-{secrets.token_hex(4)}"}
    )
    assert status == 201, ledger
    status, _, account = dev_server.request(
        "POST",
        "/v1/accounts",
        {"ledger_id": ledger["id"], "name": "wallet", "type": "liability", "currency": "USD"},
    )
    assert status == 201, account
    status, _, deposit = dev_server.request(
        "POST", "/v1/deposits", {"account_id": account["id"], "amount": funds}
    )
    assert status == 201, deposit
    return ledger["id"], account["id"]


def _spend(dev_server: DevServer, account_id: str, amount: str, key: str) -> Answer:
    """POST /v1/spends, retrying a 503 conflict with the same key as the contract allows."""
    body = {"account_id": account_id, "amount": amount}

    def post() -> Answer:
        return Answer(
            *dev_server.request("POST", "/v1/spends", body, headers={"Idempotency-Key": key})
        )

    answer, retries = post(), 0
    while answer.status == conflict_status and retries < conflict_retries_max:
        answer, retries = post(), retries + 1
    return answer


def _race(calls: list[Callable[[], Answer]]) -> list[Answer]:
    """Run every call on its own thread, all released at once; fail past `race_s_max`."""
    assert len(calls) <= clients_max
    barrier = threading.Barrier(len(calls))

    def released(call: Callable[[], Answer]) -> Answer:
        barrier.wait(barrier_wait_s_max)
        return call()

    pool = ThreadPoolExecutor(max_workers=len(calls))
    try:
        futures = [pool.submit(released, call) for call in calls]
        done, pending = wait(futures, timeout=race_s_max)
    finally:
        # Past the cap the test fails now; stragglers end at their own HTTP timeout.
        pool.shutdown(wait=False, cancel_futures=True)
    assert not pending, f"{len(pending)} requests still running after {race_s_max} s"
    return [future.result() for future in done]


def _spends(dev_server: DevServer, ledger_id: str, account_id: str, count: int) -> list[Any]:
    """The account's spends, once its history shows `count` of them (or after a bounded
    wait): its entries are read from its history, which follows the writes."""
    return once_projected(
        lambda: [
            entry
            for entry in _account_entries(dev_server, ledger_id, account_id)
            if entry["kind"] == "spend"
        ],
        lambda spends: len(spends) >= count,
    )


def _account_entries(dev_server: DevServer, ledger_id: str, account_id: str) -> list[Any]:
    """Every entry with a line on the account, through all pages of the listing."""
    entries: list[Any] = []
    query = f"/v1/entries?ledger_id={ledger_id}&account_id={account_id}&limit=100"
    cursor: str | None = None
    while True:
        path = query if cursor is None else f"{query}&cursor={cursor}"
        status, _, page = dev_server.request("GET", path)
        assert status == 200, page
        entries.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return entries


def _balance(dev_server: DevServer, account_id: str) -> Any:
    status, _, balance = dev_server.request("GET", f"/v1/accounts/{account_id}/balance")
    assert status == 200, balance
    return balance


def test_parallel_spends_never_overdraw(dev_server: DevServer) -> None:
    # GIVEN a wallet holding exactly 20 spends of 1.00
    ledger_id, account_id = _funded_wallet(dev_server, "20.00")

    # WHEN 50 clients spend 1.00 at once, each with its own Idempotency-Key
    calls = [
        lambda: _spend(dev_server, account_id, "1.00", f"spend-{secrets.token_hex(8)}")
        for _ in range(50)
    ]
    answers = _race(calls)

    # THEN exactly 20 succeed and 30 are refused for insufficient funds
    statuses = sorted(answer.status for answer in answers)
    assert statuses == [201] * 20 + [422] * 30, [
        (answer.status, answer.body) for answer in answers if answer.status not in (201, 422)
    ]
    refusals = {answer.body["error"]["code"] for answer in answers if answer.status == 422}
    assert refusals == {"insufficient_funds"}
    # AND none of the successes is a replay: 20 distinct entries
    created = [answer for answer in answers if answer.status == 201]
    assert not any(answer.headers.get("Idempotent-Replayed") for answer in created)
    assert len({answer.body["id"] for answer in created}) == 20

    # AND the wallet is exactly empty, posted and available
    balance = _balance(dev_server, account_id)
    assert (balance["posted"], balance["available"]) == ("0.00", "0.00")
    assert (balance["total_in"], balance["total_out"]) == ("20.00", "20.00")

    # AND the account lists exactly the 20 spends the clients were given
    spends = _spends(dev_server, ledger_id, account_id, len(created))
    assert sorted(entry["id"] for entry in spends) == sorted(
        answer.body["id"] for answer in created
    )


def test_parallel_requests_with_one_key_write_one_entry(dev_server: DevServer) -> None:
    # GIVEN a wallet holding 100.00
    ledger_id, account_id = _funded_wallet(dev_server, "100.00")
    key = f"once-{secrets.token_hex(8)}"

    # WHEN 10 clients send the same spend with the same Idempotency-Key at once
    answers = _race([lambda: _spend(dev_server, account_id, "7.00", key) for _ in range(10)])

    # THEN all get 201 and the same entry; exactly one wrote it, the others are replays
    assert [answer.status for answer in answers] == [201] * 10, [
        (answer.status, answer.body) for answer in answers
    ]
    assert len({answer.body["id"] for answer in answers}) == 1
    replayed = [answer.headers.get("Idempotent-Replayed") for answer in answers]
    assert (replayed.count(None), replayed.count("true")) == (1, 9), replayed

    # AND the money moved once
    balance = _balance(dev_server, account_id)
    assert (balance["posted"], balance["available"]) == ("93.00", "93.00")
    spends = _spends(dev_server, ledger_id, account_id, 1)
    assert [entry["id"] for entry in spends] == [answers[0].body["id"]]
