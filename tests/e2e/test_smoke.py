"""`ledger dev` as a user runs it: up, answering, and keeping its data over a restart."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from .builders import once_projected
from .conftest import DevServer

# One pytest worker runs every end-to-end test, against one `ledger dev`.
pytestmark = pytest.mark.xdist_group("e2e")


def test_health_answers_without_a_key(dev_server: DevServer) -> None:
    # GIVEN the running dev server
    # WHEN the health endpoint is called without a key
    status, headers, body = dev_server.request("GET", "/v1/health", anonymous=True)

    # THEN it is up, and the response carries a request id
    assert (status, body) == (200, {"status": "ok"})
    assert headers.get("X-Request-Id")


def test_a_ledger_its_money_and_the_admin_key_survive_a_restart(dev_server: DevServer) -> None:
    # GIVEN a ledger with an account holding a deposit, all made with the admin key
    name = f"books-{secrets.token_hex(4)}"
    status, _, created = dev_server.request("POST", "/v1/ledgers", {"name": name})
    assert status == 201, created
    account_body = {
        "ledger_id": created["id"],
        "name": f"wallet-{secrets.token_hex(4)}",
        "type": "liability",
        "currency": "USD",
    }
    status, _, account = dev_server.request("POST", "/v1/accounts", account_body)
    assert status == 201, account
    deposit_body = {"account_id": account["id"], "amount": "42.50"}
    status, _, entry = dev_server.request("POST", "/v1/deposits", deposit_body)
    assert status == 201, entry
    balance_path = f"/v1/accounts/{account['id']}/balance"
    entries_path = f"/v1/entries?account_id={account['id']}"
    _, _, balance_before = dev_server.request("GET", balance_path)
    entries_before = once_projected(
        lambda: dev_server.request("GET", entries_path)[2], lambda page: bool(page["items"])
    )
    assert (balance_before["posted"], entries_before["items"]) == ("42.50", [entry])

    # WHEN the server is stopped with Ctrl-C and started again on the same data
    dev_server.restart()

    # THEN it had stopped cleanly, and the same key reads the same ledger, balance and entries
    assert dev_server.last_exit_code == 0
    status, _, read = dev_server.request("GET", f"/v1/ledgers/{created['id']}")
    assert (status, read["id"], read["name"]) == (200, created["id"], name)
    status, _, balance_after = dev_server.request("GET", balance_path)
    assert status == 200
    assert _without_as_of(balance_after) == _without_as_of(balance_before)
    assert dev_server.request("GET", entries_path)[2] == entries_before


def _without_as_of(balance: dict[str, Any]) -> dict[str, Any]:
    # `as_of` is the moment of the read, not part of what was kept.
    return {name: value for name, value in balance.items() if name != "as_of"}
