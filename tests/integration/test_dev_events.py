"""Events out through `ledger dev` on DynamoDB Local's real stream: every change of a mixed
run reaches `<data-dir>/events.jsonl` within seconds, once per change, fitting its schema."""

from __future__ import annotations

import json
import time
from collections import Counter
from typing import TYPE_CHECKING, Any

from event_schemas import validate_event
from ledger.domain import events
from ledger.local.dev import DevSettings, run_dev
from ledger.local.dynamodb_local import free_port
from ledger.local.dynamodb_local.process import make_client
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore

if TYPE_CHECKING:
    from pathlib import Path

published_wait_s_max = 30
poll_s = 0.1


def _mixed_run(ledger: Ledger) -> dict[str, str]:
    """Deposits, a transfer, holds posted, voided, noticed and expired, a reversal and an
    account change; each entry's id by what it is."""
    book = ledger.create_ledger("Events").id
    wallet = ledger.create_account(book, "Wallet", "liability", "USD").id
    shop = ledger.create_account(book, "Shop", "liability", "USD").id
    deposit = ledger.deposit(wallet, "50.00")
    # Crossed by the first hold (42 available), crossed back by the reversal (46).
    low = ledger.create_monitor(wallet, "available", "lt", "45.00")
    transfer = ledger.transfer(wallet, shop, "5.00")
    confirmed = ledger.hold(wallet, "3.00")
    posting_id = ledger.confirm_hold(confirmed.id).posting_entry_id
    assert posting_id is not None
    voided = ledger.hold(wallet, "2.00")
    ledger.release_hold(voided.id)
    lapsing = ledger.hold(wallet, "1.00", expires_in=2)
    reversal = ledger.reverse_entry(transfer.id)
    ledger.update_account(shop, name="Shop, renamed")
    return {
        "wallet": wallet,
        "shop": shop,
        "deposit": deposit.id,
        "transfer": transfer.id,
        "confirmed": confirmed.id,
        "posting": posting_id,
        "voided": voided.id,
        "lapsing": lapsing.id,
        "reversal": reversal.id,
        "monitor": low.id,
    }


def _published(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def _expected(ids: dict[str, str]) -> Counter[tuple[str, str]]:
    return Counter(
        {
            (events.account_created, ids["wallet"]): 1,
            (events.account_created, ids["shop"]): 1,
            (events.entry_posted, ids["deposit"]): 1,
            (events.entry_posted, ids["transfer"]): 1,
            (events.entry_pending, ids["confirmed"]): 1,
            (events.entry_posted, ids["posting"]): 1,
            (events.entry_pending, ids["voided"]): 1,
            (events.entry_voided, ids["voided"]): 1,
            (events.entry_pending, ids["lapsing"]): 1,
            (events.entry_expiring, ids["lapsing"]): 1,
            (events.entry_expired, ids["lapsing"]): 1,
            (events.entry_reversed, ids["reversal"]): 1,
            (events.monitor_triggered, ids["monitor"]): 1,
            (events.monitor_resolved, ids["monitor"]): 1,
        }
    )


def test_every_change_of_a_mixed_run_is_published_once(tmp_path: Path) -> None:
    # GIVEN `ledger dev` sweeping every half second, with the default consumers
    settings = DevSettings(
        data_dir=tmp_path / "data",
        dynamodb_port=free_port(),
        port=0,
        workers=1,
        sweep_interval_s=0.5,
        reconcile_interval_s=0,
    )
    bus_file = settings.data_dir / "events.jsonl"
    seen: dict[str, Any] = {}

    def wait() -> None:
        assert settings.dynamodb_port is not None
        client = make_client(f"http://127.0.0.1:{settings.dynamodb_port}")
        ledger = Ledger(DynamoDBStore(settings.table_name, client=client))
        # WHEN a mixed run writes to its table
        ids = _mixed_run(ledger)
        seen["ids"] = ids
        expected = _expected(ids)
        deadline = time.monotonic() + published_wait_s_max
        while time.monotonic() < deadline:
            published = _published(bus_file)
            got = Counter(
                (event["detail-type"], event["detail"]["id"])
                for event in published
                if event["detail"].get("id") in ids.values()
            )
            updates = [
                event
                for event in published
                if event["detail-type"] == events.account_updated
                and event["detail"]["id"] == ids["shop"]
                and event["detail"]["name"] == "Shop, renamed"
            ]
            if got & expected == expected and updates:
                break
            time.sleep(poll_s)
        seen["published"] = _published(bus_file)

    run_dev(settings, wait=wait, say=lambda _: None)

    # THEN each expected event arrived exactly once (redeliveries share an event id)
    ids, published = seen["ids"], seen["published"]
    by_id: dict[str, list[dict[str, Any]]] = {}
    for event in published:
        by_id.setdefault(event["detail"]["event_id"], []).append(event)
    unique = [copies[0] for copies in by_id.values()]
    got = Counter(
        (event["detail-type"], event["detail"]["id"])
        for event in unique
        if event["detail"].get("id") in ids.values()
        and event["detail-type"] != events.account_updated
    )
    assert got == _expected(ids)
    # AND every event fits its schema, and the balance changes carry the versions in order
    for event in published:
        validate_event(event)
    wallet_versions = [
        event["detail"]["version"]
        for event in unique
        if event["detail-type"] == events.account_updated and event["detail"]["id"] == ids["wallet"]
    ]
    assert sorted(wallet_versions) == list(range(1, max(wallet_versions) + 1))
