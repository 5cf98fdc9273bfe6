"""The audit chain through `ledger dev`: its stream poller runs the audit consumer, and the
routes verify what it wrote."""

from __future__ import annotations

import time
from typing import Any

import pytest

from .builders import call, deposit, new_account, new_ledger, ok, world_of
from .conftest import DevServer

pytestmark = pytest.mark.xdist_group("e2e")
wait_s_max = 20.0


def verified_soon(server: DevServer, account_id: str) -> dict[str, Any]:
    """The account's verification once it holds, or the last one after a bounded wait."""
    deadline = time.monotonic() + wait_s_max
    verified: dict[str, Any] = ok(call(server, "GET", f"/v1/accounts/{account_id}/audit/verify"))
    while not verified["ok"] and time.monotonic() < deadline:
        time.sleep(0.2)
        verified = ok(call(server, "GET", f"/v1/accounts/{account_id}/audit/verify"))
    return verified


def test_a_deposit_is_audited_and_the_account_and_the_digest_verify(
    dev_server: DevServer,
) -> None:
    # GIVEN a wallet with two deposits through the running `ledger dev`
    ledger_id = new_ledger(dev_server)
    wallet = new_account(dev_server, ledger_id)
    deposit(dev_server, wallet, "10.00")
    deposit(dev_server, wallet, "2.50")
    # WHEN the stream poller has run the audit consumer for the wallet and the world
    assert verified_soon(dev_server, world_of(wallet))["ok"] is True
    verified = verified_soon(dev_server, wallet)
    # THEN the chain is the opening and the two deposits, and it verifies
    assert verified["ok"] is True, verified
    records = ok(call(dev_server, "GET", f"/v1/accounts/{wallet}/audit"))["items"]
    assert [(r["version"], r["kind"]) for r in records] == [
        ("0", "open"),
        ("1", "deposit"),
        ("2", "deposit"),
    ]
    assert records[2]["after"]["posted"] == "12.50"
    assert records[1]["actor"]["role"] == "admin"
    assert verified["head_hash"] == records[-1]["hash"]
    # AND the ledger's digest verifies at its time
    digest = ok(call(dev_server, "GET", f"/v1/ledgers/{ledger_id}/audit/digest"))
    kept = {"digest": digest["digest"], "at": digest["at"]}
    answer = ok(call(dev_server, "POST", f"/v1/ledgers/{ledger_id}/audit/digest/verify", kept))
    assert answer == {"ok": True, "first_bad_account_id": None}
