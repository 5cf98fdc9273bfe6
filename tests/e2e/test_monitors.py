"""Monitors under `ledger dev`: its monitors consumer follows the stream, so a monitor's
state crosses and crosses back as the balance does."""

from __future__ import annotations

from typing import Any

import pytest

from .builders import call, deposit, new_account, new_ledger, ok, once_projected
from .conftest import DevServer

pytestmark = pytest.mark.xdist_group("e2e")


def state_once(server: DevServer, account_id: str, expected: str) -> dict[str, Any]:
    """The account's one monitor once its state is `expected`, or after a bounded wait."""
    path = f"/v1/accounts/{account_id}/monitors"
    monitor: dict[str, Any] = once_projected(
        lambda: ok(call(server, "GET", path))["items"][0],
        lambda found: bool(found["state"] == expected),
    )
    return monitor


def test_a_monitor_crosses_and_crosses_back_as_the_balance_does(dev_server: DevServer) -> None:
    # GIVEN a wallet of 20.00 watched for available < 10.00
    wallet = new_account(dev_server, new_ledger(dev_server))
    deposit(dev_server, wallet, "20.00")
    body = {"field": "available", "operator": "lt", "value": "10.00"}
    created = ok(call(dev_server, "POST", f"/v1/accounts/{wallet}/monitors", body), 201)
    assert created["state"] == "ok"
    # WHEN it falls below the threshold THEN the consumer marks the monitor triggered
    withdrawal = {"account_id": wallet, "amount": "15.00"}
    ok(call(dev_server, "POST", "/v1/withdrawals", withdrawal), 201)
    triggered = state_once(dev_server, wallet, "triggered")
    assert (triggered["state"], triggered["version"]) == ("triggered", 2)
    # AND when it rises above again, resolved
    deposit(dev_server, wallet, "10.00")
    resolved = state_once(dev_server, wallet, "ok")
    assert (resolved["state"], resolved["version"]) == ("ok", 3)
