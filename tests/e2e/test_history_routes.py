"""The routes read from the history under `ledger dev`: an account's statement on both time
axes, page by page, and its balance at a past moment and effective at a past moment."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from .builders import call, new_account, new_ledger, ok, reconciled_soon
from .conftest import DevServer

pytestmark = pytest.mark.xdist_group("e2e")

zero = {"posted": "0.00", "available": "0.00"}


@dataclass(frozen=True)
class Deposits:
    """A wallet and its three deposits, in the order they were made: 10.00 effective on
    2020-01-10, 2.50 backdated further to 2020-01-05, then 5.00 effective when made."""

    wallet: str
    entries: tuple[dict[str, Any], ...]


@pytest.fixture(scope="module")
def deposits(dev_server: DevServer) -> Deposits:
    ledger_id = new_ledger(dev_server)
    wallet = new_account(dev_server, ledger_id)
    made = []
    for amount, effective_at in (
        ("10.00", "2020-01-10T00:00:00Z"),
        ("2.50", "2020-01-05T00:00:00Z"),
        ("5.00", None),
    ):
        body = {"account_id": wallet, "amount": amount}
        if effective_at is not None:
            body["effective_at"] = effective_at
        made.append(ok(call(dev_server, "POST", "/v1/deposits", body), 201))
    # The history these routes read follows the writes from the stream.
    report = reconciled_soon(dev_server, ledger_id)
    assert report["ok"], report
    return Deposits(wallet, tuple(made))


def statement(server: DevServer, account_id: str, **query: str) -> dict[str, Any]:
    found: dict[str, Any] = ok(
        call(server, "GET", f"/v1/accounts/{account_id}/statement", query=query)
    )
    return found


def lines(page: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Each item's entry, version, side, amount and posted balance after it."""
    fields = ("entry_id", "version", "side", "amount")
    return [
        (*(item[name] for name in fields), item["balance_after"]["posted"])
        for item in page["items"]
    ]


def posted(server: DevServer, account_id: str, **query: str) -> str:
    found = ok(call(server, "GET", f"/v1/accounts/{account_id}/balance", query=query))
    amount: str = found["posted"]
    return amount


def test_the_recorded_statement_runs_in_the_order_the_deposits_were_made(
    dev_server: DevServer, deposits: Deposits
) -> None:
    first, second, third = (entry["id"] for entry in deposits.entries)
    # WHEN the statement is read two items a page, by the time each change was recorded
    page = statement(dev_server, deposits.wallet, basis="recorded", limit="2")
    assert page["next_cursor"] is not None
    rest = statement(dev_server, deposits.wallet, limit="2", cursor=page["next_cursor"])

    # THEN the deposits come in the order they were made, the running balance across pages
    assert lines(page) == [
        (first, 1, "credit", "10.00", "10.00"),
        (second, 2, "credit", "2.50", "12.50"),
    ]
    assert lines(rest) == [(third, 3, "credit", "5.00", "17.50")]
    assert rest["next_cursor"] is None
    assert (page["opening"], page["closing"]) == (zero, {"posted": "17.50", "available": "17.50"})
    assert [item["kind"] for item in page["items"] + rest["items"]] == ["deposit"] * 3
    assert page["items"][0]["effective_at"] == deposits.entries[0]["effective_at"]
    assert page["items"][0]["created_at"] == deposits.entries[0]["created_at"]
    # AND bounded by the second and third deposits' times, it holds the second alone
    bounded = statement(
        dev_server,
        deposits.wallet,
        **{"from": deposits.entries[1]["created_at"], "to": deposits.entries[2]["created_at"]},
    )
    assert lines(bounded) == [(second, 2, "credit", "2.50", "12.50")]
    assert bounded["opening"] == {"posted": "10.00", "available": "10.00"}
    assert bounded["closing"] == {"posted": "12.50", "available": "12.50"}


def test_the_effective_statement_puts_the_backdated_deposit_first(
    dev_server: DevServer, deposits: Deposits
) -> None:
    first, second, third = (entry["id"] for entry in deposits.entries)
    # WHEN the statement is read two items a page, by the time each change takes effect
    page = statement(dev_server, deposits.wallet, basis="effective", limit="2")
    rest = statement(
        dev_server, deposits.wallet, basis="effective", limit="2", cursor=page["next_cursor"]
    )

    # THEN the deposit backdated to 2020-01-05 comes first, the balance running in that order
    assert lines(page) == [
        (second, 2, "credit", "2.50", "2.50"),
        (first, 1, "credit", "10.00", "12.50"),
    ]
    assert (lines(rest), rest["next_cursor"]) == ([(third, 3, "credit", "5.00", "17.50")], None)
    # AND between 2020-01-06 and 2020-01-11 only the first deposit took effect
    bounded = statement(
        dev_server,
        deposits.wallet,
        basis="effective",
        **{"from": "2020-01-06T00:00:00Z", "to": "2020-01-11T00:00:00Z"},
    )
    assert lines(bounded) == [(first, 1, "credit", "10.00", "12.50")]
    assert bounded["opening"] == {"posted": "2.50", "available": "2.50"}
    assert bounded["closing"] == {"posted": "12.50", "available": "12.50"}


def test_the_balance_as_recorded_at_and_as_effective_at_a_past_moment(
    dev_server: DevServer, deposits: Deposits
) -> None:
    wallet, (first, second, _) = deposits.wallet, deposits.entries
    # WHEN the balance is asked for on either time axis, and on both
    as_known = ok(
        call(dev_server, "GET", f"/v1/accounts/{wallet}/balance", query={"at": first["created_at"]})
    )

    # THEN as recorded when the first deposit was made, it holds that deposit alone
    assert (as_known["posted"], as_known["version"]) == ("10.00", 1)
    assert as_known["at"] == first["created_at"]
    assert posted(dev_server, wallet, at=second["created_at"]) == "12.50"
    # AND effective on 2020-01-07 it holds only the deposit backdated to 2020-01-05
    assert posted(dev_server, wallet, effective_at="2020-01-07T00:00:00Z") == "2.50"
    assert posted(dev_server, wallet, effective_at="2020-01-10T00:00:00Z") == "12.50"
    # AND effective on 2020-01-07 as known when the first deposit was made, nothing yet
    both = {"at": first["created_at"], "effective_at": "2020-01-07T00:00:00Z"}
    assert posted(dev_server, wallet, **both) == "0.00"
    # AND before the account existed it held nothing; now it holds all three
    assert posted(dev_server, wallet, at="2019-01-01T00:00:00Z") == "0.00"
    assert posted(dev_server, wallet) == "17.50"
