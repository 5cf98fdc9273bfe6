"""Every route of the API over real HTTP, one happy path each: status, key fields, headers."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest

from .builders import (
    Reply,
    balance,
    call,
    deposit,
    line,
    new_account,
    new_ledger,
    ok,
    once_projected,
    token,
    world_of,
)
from .conftest import DevServer

# How long the stream consumers may take to catch up with the writes before a check.
projections_wait_s = 10

# One pytest worker runs every end-to-end test, against one `ledger dev`.
pytestmark = pytest.mark.xdist_group("e2e")

balance_fields = {
    "account_id",
    "currency",
    "posted",
    "pending_in",
    "pending_out",
    "held",
    "escrowed",
    "available",
    "credit_limit",
    "credit_used",
    "spendable",
    "total_in",
    "total_out",
    "version",
    "as_of",
}


@dataclass(frozen=True)
class Books:
    """The module's ledger and its owner; each test opens the accounts it moves money on."""

    ledger_id: str
    owner_id: str


@pytest.fixture(scope="module")
def books(dev_server: DevServer) -> Books:
    """One ledger for the module."""
    owner_id = f"owner-{token()}"
    return Books(new_ledger(dev_server, owner_id), owner_id)


def funded(server: DevServer, books: Books, amount: str = "100.00") -> str:
    """A fresh USD wallet of the module's ledger holding `amount`."""
    wallet = new_account(server, books.ledger_id)
    deposit(server, wallet, amount)
    return wallet


def test_health_and_the_openapi_document_answer_without_a_key(dev_server: DevServer) -> None:
    # GIVEN the running server
    # WHEN health and the OpenAPI document are asked for without a key
    health = call(dev_server, "GET", "/v1/health", anonymous=True)
    document = call(dev_server, "GET", "/v1/openapi.json", anonymous=True)

    # THEN both answer 200 JSON, and the document describes the routes of the contract
    assert ok(health) == {"status": "ok"}
    paths = ok(document)["paths"]
    assert ok(document)["openapi"].startswith("3.")
    assert {
        "/v1/ledgers",
        "/v1/accounts",
        "/v1/entries",
        "/v1/deposits",
        "/v1/withdrawals",
        "/v1/spends",
        "/v1/refunds",
        "/v1/transfers",
        "/v1/holds",
        "/v1/escrows",
        "/v1/conversions",
        "/v1/batches",
        "/v1/api-keys",
        "/v1/health",
    } <= set(paths)
    assert health.request_id != document.request_id


def test_a_ledger_is_created_replayed_read_and_listed(dev_server: DevServer) -> None:
    # GIVEN an owner and an idempotency key
    owner_id, key = f"owner-{token()}", token()
    body = {"name": f"books-{token()}", "owner_id": owner_id, "metadata": {"region": "eu"}}

    # WHEN a ledger is created twice with the same key and body
    first = call(dev_server, "POST", "/v1/ledgers", body, idempotency_key=key)
    again = call(dev_server, "POST", "/v1/ledgers", body, idempotency_key=key)

    # THEN the second answer replays the first, and says so
    created = ok(first, 201)
    assert created["id"].startswith("ldg_")
    assert (created["name"], created["owner_id"], created["metadata"]) == (
        body["name"],
        owner_id,
        {"region": "eu"},
    )
    assert (ok(again, 201), first.replayed, again.replayed) == (created, False, True)
    # AND it reads back, and is the owner's only ledger
    assert ok(call(dev_server, "GET", f"/v1/ledgers/{created['id']}")) == created
    listed = ok(call(dev_server, "GET", "/v1/ledgers", query={"owner_id": owner_id}))
    assert listed == {"items": [created], "next_cursor": None}


def test_an_account_is_opened_read_listed_changed_and_balanced(
    dev_server: DevServer, books: Books
) -> None:
    # GIVEN / WHEN an account with a code is opened
    code = f"2{token()}"
    body = {
        "ledger_id": books.ledger_id,
        "name": "Alice",
        "type": "liability",
        "currency": "USD",
        "code": code,
        "metadata": {"tier": "gold"},
    }
    created = ok(call(dev_server, "POST", "/v1/accounts", body), 201)

    # THEN it answers with a zero balance in the currency's scale
    assert created["id"].startswith("acc_")
    assert (created["ledger_id"], created["code"], created["status"]) == (
        books.ledger_id,
        code,
        "active",
    )
    assert (created["normal_balance"], created["overdraft"]) == (
        "credit",
        {"mode": "forbid", "limit": "0.00"},
    )
    assert (created["balance"]["posted"], created["balance"]["available"]) == ("0.00", "0.00")

    # AND it reads back with its balance, and is listed by type
    account_id = created["id"]
    assert ok(call(dev_server, "GET", f"/v1/accounts/{account_id}"))["name"] == "Alice"
    page = ok(
        call(
            dev_server,
            "GET",
            "/v1/accounts",
            query={"ledger_id": books.ledger_id, "type": "liability"},
        )
    )
    assert account_id in [item["id"] for item in page["items"]]
    assert {item["type"] for item in page["items"]} == {"liability"}

    # AND it can be renamed, then suspended by an admin
    renamed = ok(call(dev_server, "PATCH", f"/v1/accounts/{account_id}", {"name": "Alice B"}))
    suspended = ok(call(dev_server, "PATCH", f"/v1/accounts/{account_id}", {"status": "suspended"}))
    assert (renamed["name"], suspended["name"], suspended["status"]) == (
        "Alice B",
        "Alice B",
        "suspended",
    )

    # AND its balance object has every field of the contract
    found = balance(dev_server, account_id)
    assert set(found) == balance_fields
    assert (found["account_id"], found["currency"], found["spendable"]) == (
        account_id,
        "USD",
        "0.00",
    )


def test_a_journal_entry_is_posted_read_and_listed_three_ways(
    dev_server: DevServer, books: Books
) -> None:
    # GIVEN a funded wallet and an empty one
    payer, payee = funded(dev_server, books), new_account(dev_server, books.ledger_id)
    reference = f"invoice-{token()}"

    # WHEN a balanced entry moves 12.5 between them
    body = {
        "ledger_id": books.ledger_id,
        "lines": [
            {"account_id": payer, "side": "debit", "amount": "12.5"},
            {"account_id": payee, "side": "credit", "amount": "12.5"},
        ],
        "reference": reference,
        "description": "invoice paid",
    }
    entry = ok(call(dev_server, "POST", "/v1/entries", body), 201)

    # THEN it is posted with amounts in the currency's scale
    assert (entry["kind"], entry["status"], entry["reference"]) == ("entry", "posted", reference)
    assert entry["lines"] == [line(payer, "debit", "12.50"), line(payee, "credit", "12.50")]
    assert ok(call(dev_server, "GET", f"/v1/entries/{entry['id']}")) == entry

    # AND it is listed by ledger (newest first), by reference and by account
    by_ledger = ok(call(dev_server, "GET", "/v1/entries", query={"ledger_id": books.ledger_id}))
    assert by_ledger["items"][0] == entry
    by_reference = ok(
        call(
            dev_server,
            "GET",
            "/v1/entries",
            query={"ledger_id": books.ledger_id, "reference": reference},
        )
    )
    assert by_reference == {"items": [entry], "next_cursor": None}
    by_account = once_projected(
        lambda: ok(call(dev_server, "GET", "/v1/entries", query={"account_id": payee})),
        lambda page: bool(page["items"]),
    )
    assert by_account == {"items": [entry], "next_cursor": None}


def test_pending_entries_are_posted_for_less_and_voided(
    dev_server: DevServer, books: Books
) -> None:
    # GIVEN two pending entries of 10 from a funded wallet
    payer, payee = funded(dev_server, books), new_account(dev_server, books.ledger_id)
    body = {
        "ledger_id": books.ledger_id,
        "lines": [
            {"account_id": payer, "side": "debit", "amount": "10"},
            {"account_id": payee, "side": "credit", "amount": "10"},
        ],
        "pending": {"expires_in": 600},
    }
    posted = ok(call(dev_server, "POST", "/v1/entries", body), 201)
    voided = ok(call(dev_server, "POST", "/v1/entries", body), 201)
    assert (posted["status"], posted["expires_at"] is not None) == ("pending", True)
    assert balance(dev_server, payer)["pending_out"] == "20.00"

    # WHEN one is posted for 4 and the other voided
    after_post = ok(call(dev_server, "POST", f"/v1/entries/{posted['id']}/post", {"amount": "4"}))
    after_void = ok(call(dev_server, "POST", f"/v1/entries/{voided['id']}/void"))

    # THEN 4 moved, nothing is pending, and the posting is an entry of its own
    assert (after_post["status"], after_void["status"]) == ("posted", "voided")
    posting = ok(call(dev_server, "GET", f"/v1/entries/{after_post['posting_entry_id']}"))
    assert (posting["kind"], posting["pending_id"]) == ("post", posted["id"])
    payer_balance = balance(dev_server, payer)
    assert (payer_balance["posted"], payer_balance["pending_out"]) == ("96.00", "0.00")
    assert balance(dev_server, payee)["posted"] == "4.00"


def test_an_entry_is_reversed_and_linked_both_ways(dev_server: DevServer, books: Books) -> None:
    # GIVEN a deposit of 7
    wallet = new_account(dev_server, books.ledger_id)
    original = deposit(dev_server, wallet, "7")

    # WHEN it is reversed
    path = f"/v1/entries/{original['id']}/reverse"
    reversal = ok(call(dev_server, "POST", path, {"description": "mistake"}), 201)

    # THEN the reversal mirrors it, both link each other, and the money is back
    assert (reversal["kind"], reversal["reverses"], reversal["description"]) == (
        "reversal",
        original["id"],
        "mistake",
    )
    assert reversal["lines"] == [
        line(wallet, "debit", "7.00"),
        line(world_of(wallet), "credit", "7.00"),
    ]
    read = ok(call(dev_server, "GET", f"/v1/entries/{original['id']}"))
    assert read["reversed_by"] == reversal["id"]
    assert balance(dev_server, wallet)["posted"] == "0.00"


@pytest.mark.parametrize(
    ("path", "kind", "wallet_side", "posted"),
    [
        ("/v1/deposits", "deposit", "credit", "100.25"),
        ("/v1/withdrawals", "withdrawal", "debit", "99.75"),
        ("/v1/spends", "spend", "debit", "99.75"),
        ("/v1/refunds", "refund", "credit", "100.25"),
    ],
)
def test_one_account_moves_answer_201_and_replay_with_their_key(
    dev_server: DevServer, books: Books, *, path: str, kind: str, wallet_side: str, posted: str
) -> None:
    # GIVEN a wallet holding 100
    wallet = funded(dev_server, books)
    body = {"account_id": wallet, "amount": "0.25", "reference": f"ref-{token()}"}
    key = token()

    # WHEN 0.25 moves through the route, sent twice with one key
    first = call(dev_server, "POST", path, body, idempotency_key=key)
    again = call(dev_server, "POST", path, body, idempotency_key=key)

    # THEN one entry moved it against the world, and the second answer replays the first
    entry = ok(first, 201)
    other_side = "credit" if wallet_side == "debit" else "debit"
    assert (entry["kind"], entry["status"]) == (kind, "posted")
    assert entry["lines"] == [
        line(wallet, wallet_side, "0.25"),
        line(world_of(wallet), other_side, "0.25"),
    ]
    assert (ok(again, 201), again.replayed, first.replayed) == (entry, True, False)
    assert balance(dev_server, wallet)["posted"] == posted


def test_a_transfer_moves_between_two_wallets(dev_server: DevServer, books: Books) -> None:
    # GIVEN a wallet holding 100 and an empty one
    payer, payee = funded(dev_server, books), new_account(dev_server, books.ledger_id)

    # WHEN 30 is transferred
    body = {"from_account_id": payer, "to_account_id": payee, "amount": "30"}
    entry = ok(call(dev_server, "POST", "/v1/transfers", body), 201)

    # THEN the entry debits the payer and credits the payee
    assert entry["kind"] == "transfer"
    assert entry["lines"] == [line(payer, "debit", "30.00"), line(payee, "credit", "30.00")]
    assert (balance(dev_server, payer)["posted"], balance(dev_server, payee)["posted"]) == (
        "70.00",
        "30.00",
    )


def test_holds_are_confirmed_for_less_and_released(dev_server: DevServer, books: Books) -> None:
    # GIVEN two holds of 20 on a wallet holding 100
    wallet = funded(dev_server, books)
    body = {"account_id": wallet, "amount": "20", "expires_in": 600}
    confirmed = ok(call(dev_server, "POST", "/v1/holds", body), 201)
    released = ok(call(dev_server, "POST", "/v1/holds", body), 201)
    assert (confirmed["kind"], confirmed["status"]) == ("hold", "pending")
    held = balance(dev_server, wallet)
    assert (held["held"], held["available"]) == ("40.00", "60.00")

    # WHEN one is confirmed for 15 and the other released
    after_confirm = call(
        dev_server, "POST", f"/v1/holds/{confirmed['id']}/confirm", {"amount": "15"}
    )
    after_release = call(dev_server, "POST", f"/v1/holds/{released['id']}/release")

    # THEN 15 was spent, 5 and 20 released, and nothing stays held
    confirmed_now = ok(after_confirm)
    assert (
        confirmed_now["status"],
        confirmed_now["posted_amount"],
        confirmed_now["released_amount"],
    ) == ("posted", "15.00", "5.00")
    assert ok(after_release) == {
        **released,
        "status": "voided",
        "posted_amount": "0.00",
        "released_amount": "20.00",
    }
    final = balance(dev_server, wallet)
    assert (final["posted"], final["held"], final["available"]) == ("85.00", "0.00", "85.00")


def test_escrows_are_released_to_the_seller_and_refunded_to_the_buyer(
    dev_server: DevServer, books: Books
) -> None:
    # GIVEN two escrows of 30 from a buyer holding 100 to a seller
    buyer, seller = funded(dev_server, books), new_account(dev_server, books.ledger_id)
    body = {"buyer_account_id": buyer, "seller_account_id": seller, "amount": "30"}
    paid = ok(call(dev_server, "POST", "/v1/escrows", body), 201)
    refunded = ok(call(dev_server, "POST", "/v1/escrows", body), 201)
    assert (paid["kind"], paid["status"], balance(dev_server, buyer)["escrowed"]) == (
        "escrow",
        "pending",
        "60.00",
    )

    # WHEN one is released and the other refunded
    after_release = call(dev_server, "POST", f"/v1/escrows/{paid['id']}/release")
    after_refund = call(dev_server, "POST", f"/v1/escrows/{refunded['id']}/refund")

    # THEN the seller has 30 and the buyer the rest, nothing escrowed
    assert (ok(after_release)["status"], ok(after_refund)["status"]) == ("posted", "voided")
    buyer_balance = balance(dev_server, buyer)
    assert (buyer_balance["posted"], buyer_balance["escrowed"]) == ("70.00", "0.00")
    assert balance(dev_server, seller)["posted"] == "30.00"


def test_a_conversion_moves_between_currencies(dev_server: DevServer, books: Books) -> None:
    # GIVEN a dollar wallet holding 100 and a yen wallet
    dollars = funded(dev_server, books)
    yen = new_account(dev_server, books.ledger_id, currency="JPY")

    # WHEN 1.50 dollars become 225 yen
    body = {
        "from_account_id": dollars,
        "to_account_id": yen,
        "from_amount": "1.5",
        "to_amount": "225",
    }
    entry = ok(call(dev_server, "POST", "/v1/conversions", body), 201)

    # THEN each currency balanced through its world account
    assert entry["kind"] == "conversion"
    assert line(dollars, "debit", "1.50") in entry["lines"]
    assert line(yen, "credit", "225", "JPY") in entry["lines"]
    assert (balance(dev_server, dollars)["posted"], balance(dev_server, yen)["posted"]) == (
        "98.50",
        "225",
    )


def test_a_batch_applies_every_operation(dev_server: DevServer, books: Books) -> None:
    # GIVEN a wallet holding 100 and an empty one
    payer, payee = funded(dev_server, books), new_account(dev_server, books.ledger_id)

    # WHEN a batch deposits 5 into the payee and transfers 20 to it
    body = {
        "operations": [
            {"type": "deposit", "account_id": payee, "amount": "5"},
            {"type": "transfer", "from_account_id": payer, "to_account_id": payee, "amount": "20"},
        ]
    }
    result = ok(call(dev_server, "POST", "/v1/batches", body, idempotency_key=token()), 201)

    # THEN both entries came back in order, and both moved money
    assert [entry["kind"] for entry in result["entries"]] == ["deposit", "transfer"]
    assert (balance(dev_server, payer)["posted"], balance(dev_server, payee)["posted"]) == (
        "80.00",
        "25.00",
    )


def test_the_reports_of_a_ledger_balance(dev_server: DevServer) -> None:
    # GIVEN a ledger of its own: a wallet holding 100 with 40 moved to a second wallet
    ledger_id = new_ledger(dev_server)
    first, second = new_account(dev_server, ledger_id), new_account(dev_server, ledger_id)
    deposit(dev_server, first, "100")
    body = {"from_account_id": first, "to_account_id": second, "amount": "40"}
    ok(call(dev_server, "POST", "/v1/transfers", body), 201)

    # WHEN its trial balance, balance sheet and reconciliation are asked for
    trial = call(
        dev_server, "GET", f"/v1/ledgers/{ledger_id}/trial-balance", query={"currency": "USD"}
    )
    sheet = call(
        dev_server, "GET", f"/v1/ledgers/{ledger_id}/balance-sheet", query={"currency": "USD"}
    )
    check = call(dev_server, "POST", f"/v1/ledgers/{ledger_id}/reconciliations")

    # THEN debits equal credits, the wallets owe 100, and the journal matches every account
    trial_balance = ok(trial)
    assert (trial_balance["balanced"], trial_balance["total_debits"]) == (True, "100.00")
    assert trial_balance["total_credits"] == "100.00"
    lines = {item["account_id"]: item for item in trial_balance["lines"]}
    assert (lines[first]["credit"], lines[second]["credit"]) == ("60.00", "40.00")
    balance_sheet = ok(sheet)
    assert (balance_sheet["balanced"], balance_sheet["liabilities"]) == (True, "100.00")
    reconciliation = ok(check)
    # (the projections follow the writes within about a second under ledger dev)
    deadline = time.monotonic() + projections_wait_s
    while not reconciliation["ok"] and time.monotonic() < deadline:
        time.sleep(0.2)
        reconciliation = ok(call(dev_server, "POST", f"/v1/ledgers/{ledger_id}/reconciliations"))
    assert (reconciliation["ok"], reconciliation["mismatches"]) == (True, [])
    assert reconciliation["accounts_checked"] >= 2


def test_an_api_key_is_created_read_listed_then_revoked(
    dev_server: DevServer, books: Books
) -> None:
    # GIVEN / WHEN the admin creates a reader key for the module's ledger
    body = {"role": "reader", "ledger_ids": [books.ledger_id]}
    created = ok(call(dev_server, "POST", "/v1/api-keys", body), 201)

    # THEN its secret comes once, with its record
    assert (created["role"], created["ledger_ids"], created["status"]) == (
        "reader",
        [books.ledger_id],
        "active",
    )
    assert created["key"]
    assert ok(call(dev_server, "GET", f"/v1/ledgers/{books.ledger_id}", key=created["key"]))

    # AND it reads back by id, and the listing's last page holds it, never with the secret
    record = _without(created, "key")
    assert ok(call(dev_server, "GET", f"/v1/api-keys/{created['id']}")) == record
    page = ok(call(dev_server, "GET", "/v1/api-keys", query={"limit": "100"}))
    while page["next_cursor"] is not None:
        query = {"limit": "100", "cursor": page["next_cursor"]}
        page = ok(call(dev_server, "GET", "/v1/api-keys", query=query))
    assert page["items"][-1] == record

    # AND deleting it answers its record, revoked, without the secret
    revoked = ok(call(dev_server, "DELETE", f"/v1/api-keys/{created['id']}"))
    assert revoked == {**_without(created, "key"), "status": "revoked"}


def test_an_unknown_route_is_404_route(dev_server: DevServer) -> None:
    # GIVEN / WHEN a path the API does not serve is called
    reply: Reply = call(dev_server, "GET", "/v1/nothing-here")

    # THEN it is not found as a route
    assert reply.error() == (404, "not_found", {"resource": "route", "id": "/v1/nothing-here"})


def _without(body: dict[str, Any], name: str) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != name}
