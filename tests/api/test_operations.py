"""Operations through the API: presets, holds, escrows, conversions and batches."""

from __future__ import annotations

import pytest

from .builders import balance, deposit, entry_body, line, new_account, new_ledger, world_of
from .harness import Api


def wallets(api: Api, currency: str = "USD") -> tuple[str, str]:
    """Two liability accounts (customer wallets) of one ledger, the first holding 100."""
    ledger_id = new_ledger(api)
    first = new_account(api, ledger_id, currency=currency)
    second = new_account(api, ledger_id, currency=currency)
    deposit(api, first, "100")
    return first, second


def test_a_deposit_answers_201_with_an_entry_from_the_world(api: Api) -> None:
    # GIVEN a USD wallet
    ledger_id = new_ledger(api)
    account_id = new_account(api, ledger_id)

    # WHEN 100.5 is deposited with a reference, description and metadata
    reply = api.call(
        "POST",
        "/v1/deposits",
        {
            "account_id": account_id,
            "amount": "100.5",
            "reference": "dep-1",
            "description": "top-up",
            "metadata": {"channel": "card"},
        },
    )

    # THEN the entry credits the wallet and debits the world, amounts as "100.50"
    assert reply.status == 201
    assert reply.json == entry_body(
        reply.json,
        ledger_id=ledger_id,
        kind="deposit",
        lines=[line(account_id, "credit", "100.50"), line(world_of(account_id), "debit", "100.50")],
        reference="dep-1",
        description="top-up",
        metadata={"channel": "card"},
    )
    assert balance(api, account_id)["posted"] == "100.50"


@pytest.mark.parametrize(
    ("path", "kind", "wallet_side", "posted"),
    [
        ("/v1/withdrawals", "withdrawal", "debit", "99.75"),
        ("/v1/spends", "spend", "debit", "99.75"),
        ("/v1/refunds", "refund", "credit", "100.25"),
    ],
)
def test_one_account_moves_answer_201_and_move_the_balance(
    api: Api, path: str, kind: str, wallet_side: str, posted: str
) -> None:
    # GIVEN a wallet holding 100
    wallet, _ = wallets(api)

    # WHEN 0.25 moves through the route
    reply = api.call("POST", path, {"account_id": wallet, "amount": "0.25"})

    # THEN the entry has the wallet on its side and the world on the other
    other_side = "credit" if wallet_side == "debit" else "debit"
    assert reply.status == 201
    assert reply.json == entry_body(
        reply.json,
        ledger_id=reply.json["ledger_id"],
        kind=kind,
        lines=[line(wallet, wallet_side, "0.25"), line(world_of(wallet), other_side, "0.25")],
    )
    assert balance(api, wallet)["posted"] == posted


def test_a_move_with_a_counterparty_uses_it_instead_of_the_world(api: Api) -> None:
    # GIVEN two wallets
    first, second = wallets(api)

    # WHEN the first spends 10 paying the second
    reply = api.call(
        "POST",
        "/v1/spends",
        {"account_id": first, "amount": "10", "counterparty_account_id": second},
    )

    # THEN the second is the other line
    assert reply.status == 201
    assert reply.json["lines"] == [line(first, "debit", "10.00"), line(second, "credit", "10.00")]
    assert (balance(api, first)["posted"], balance(api, second)["posted"]) == ("90.00", "10.00")


def test_a_transfer_answers_201_and_moves_between_wallets(api: Api) -> None:
    # GIVEN two JPY wallets, the first holding 100
    first, second = wallets(api, "JPY")

    # WHEN 3 yen are transferred
    reply = api.call(
        "POST", "/v1/transfers", {"from_account_id": first, "to_account_id": second, "amount": "3"}
    )

    # THEN the entry shows "3", without decimals
    assert reply.status == 201
    assert reply.json == entry_body(
        reply.json,
        ledger_id=reply.json["ledger_id"],
        kind="transfer",
        lines=[line(first, "debit", "3", "JPY"), line(second, "credit", "3", "JPY")],
    )
    assert (balance(api, first)["posted"], balance(api, second)["posted"]) == ("97", "3")


def test_a_hold_confirmed_for_less_posts_that_much_and_releases_the_rest(api: Api) -> None:
    # GIVEN a wallet holding 100, with a hold of 10 for the second wallet
    first, second = wallets(api)
    hold = api.call(
        "POST",
        "/v1/holds",
        {"account_id": first, "amount": "10", "counterparty_account_id": second, "expires_in": 600},
    )
    assert hold.status == 201
    assert hold.json == entry_body(
        hold.json,
        ledger_id=hold.json["ledger_id"],
        kind="hold",
        status="pending",
        lines=[line(first, "debit", "10.00"), line(second, "credit", "10.00")],
        expires_at=hold.json["expires_at"],
    )
    assert balance(api, first)["held"] == "10.00"

    # WHEN it is confirmed for 4
    reply = api.call("POST", f"/v1/holds/{hold.json['id']}/confirm", {"amount": "4"})

    # THEN the hold is posted, 4 moved, 6 released and nothing stays held
    assert reply.status == 200
    assert reply.json == {
        **hold.json,
        "status": "posted",
        "posting_entry_id": reply.json["posting_entry_id"],
        "posted_amount": "4.00",
        "released_amount": "6.00",
    }
    first_balance = balance(api, first)
    assert (first_balance["posted"], first_balance["held"], first_balance["available"]) == (
        "96.00",
        "0.00",
        "96.00",
    )
    assert balance(api, second)["posted"] == "4.00"


def test_a_released_hold_gives_the_amount_back(api: Api) -> None:
    # GIVEN a hold of 10 on a wallet holding 100
    first, _ = wallets(api)
    hold = api.call("POST", "/v1/holds", {"account_id": first, "amount": "10"}).json

    # WHEN it is released
    reply = api.call("POST", f"/v1/holds/{hold['id']}/release")

    # THEN it is voided and the wallet has all 100 available again
    assert reply.status == 200
    assert reply.json == {
        **hold,
        "status": "voided",
        "posted_amount": "0.00",
        "released_amount": "10.00",
    }
    assert (balance(api, first)["held"], balance(api, first)["available"]) == ("0.00", "100.00")


def test_a_released_escrow_pays_the_seller(api: Api) -> None:
    # GIVEN an escrow of 30 from a buyer holding 100 to a seller
    buyer, seller = wallets(api)
    escrow = api.call(
        "POST",
        "/v1/escrows",
        {
            "buyer_account_id": buyer,
            "seller_account_id": seller,
            "amount": "30",
            "reference": "order-1",
        },
    )
    assert escrow.status == 201
    assert escrow.json == entry_body(
        escrow.json,
        ledger_id=escrow.json["ledger_id"],
        kind="escrow",
        status="pending",
        lines=[line(buyer, "debit", "30.00"), line(seller, "credit", "30.00")],
        reference="order-1",
    )
    assert balance(api, buyer)["escrowed"] == "30.00"

    # WHEN the escrow is released
    reply = api.call("POST", f"/v1/escrows/{escrow.json['id']}/release")

    # THEN it is posted, all of it: the seller has the 30
    assert reply.status == 200
    assert reply.json == {
        **escrow.json,
        "status": "posted",
        "posting_entry_id": reply.json["posting_entry_id"],
        "posted_amount": "30.00",
        "released_amount": "0.00",
    }
    assert (balance(api, buyer)["posted"], balance(api, seller)["posted"]) == ("70.00", "30.00")


def test_a_refunded_escrow_returns_to_the_buyer(api: Api) -> None:
    # GIVEN an escrow of 30
    buyer, seller = wallets(api)
    escrow = api.call(
        "POST",
        "/v1/escrows",
        {"buyer_account_id": buyer, "seller_account_id": seller, "amount": "30"},
    ).json

    # WHEN it is refunded
    reply = api.call("POST", f"/v1/escrows/{escrow['id']}/refund")

    # THEN it is voided and neither balance moved
    assert reply.status == 200
    assert reply.json == {
        **escrow,
        "status": "voided",
        "posted_amount": "0.00",
        "released_amount": "30.00",
    }
    buyer_balance = balance(api, buyer)
    assert (buyer_balance["posted"], buyer_balance["escrowed"], balance(api, seller)["posted"]) == (
        "100.00",
        "0.00",
        "0.00",
    )


def test_a_conversion_answers_201_with_four_lines_through_both_worlds(api: Api) -> None:
    # GIVEN a USD wallet holding 100 and a JPY wallet in the same ledger
    ledger_id = new_ledger(api)
    dollars = new_account(api, ledger_id)
    yen = new_account(api, ledger_id, currency="JPY")
    deposit(api, dollars, "100")

    # WHEN 1.5 USD become 225 JPY
    reply = api.call(
        "POST",
        "/v1/conversions",
        {
            "from_account_id": dollars,
            "to_account_id": yen,
            "from_amount": "1.5",
            "to_amount": "225",
        },
    )

    # THEN each currency balances through its world account
    assert reply.status == 201
    assert reply.json == entry_body(
        reply.json,
        ledger_id=ledger_id,
        kind="conversion",
        lines=[
            line(dollars, "debit", "1.50"),
            line(world_of(dollars), "credit", "1.50"),
            line(world_of(yen), "debit", "225", "JPY"),
            line(yen, "credit", "225", "JPY"),
        ],
    )
    assert (balance(api, dollars)["posted"], balance(api, yen)["posted"]) == ("98.50", "225")


def test_a_batch_answers_201_with_its_entries_in_order(api: Api) -> None:
    # GIVEN two wallets, the first holding 100
    first, second = wallets(api)

    # WHEN a deposit, a transfer and a raw entry go as one batch
    reply = api.call(
        "POST",
        "/v1/batches",
        {
            "operations": [
                {"type": "deposit", "account_id": second, "amount": "5"},
                {
                    "type": "transfer",
                    "from_account_id": first,
                    "to_account_id": second,
                    "amount": "20",
                },
                {
                    "type": "entry",
                    "lines": [
                        {"account_id": second, "side": "debit", "amount": "1"},
                        {"account_id": first, "side": "credit", "amount": "1"},
                    ],
                },
            ]
        },
    )

    # THEN the three entries come back in operation order, and all of them applied
    assert reply.status == 201
    assert set(reply.json) == {"entries", "items_saved"}
    assert reply.json["items_saved"] == 0
    entries = reply.json["entries"]
    assert [entry["kind"] for entry in entries] == ["deposit", "transfer", "entry"]
    assert entries[1] == entry_body(
        entries[1],
        ledger_id=entries[1]["ledger_id"],
        kind="transfer",
        lines=[line(first, "debit", "20.00"), line(second, "credit", "20.00")],
    )
    assert (balance(api, first)["posted"], balance(api, second)["posted"]) == ("81.00", "24.00")
    for entry in entries:
        assert api.call("GET", f"/v1/entries/{entry['id']}").json == entry


def test_a_batch_of_holds_escrows_and_conversions_keeps_each_operations_fields(
    api: Api,
) -> None:
    # GIVEN two USD wallets, the first holding 100, and a EUR wallet of the same ledger
    first, second = wallets(api)
    ledger_id = api.call("GET", f"/v1/accounts/{first}").json["ledger_id"]
    euros = new_account(api, ledger_id, currency="EUR")

    # WHEN a hold, an escrow and a conversion go as one batch, each with its own options
    reply = api.call(
        "POST",
        "/v1/batches",
        {
            "operations": [
                {
                    "type": "hold",
                    "account_id": first,
                    "amount": "3",
                    "counterparty_account_id": second,
                    "expires_in": 600,
                    "reference": "h-1",
                },
                {
                    "type": "escrow",
                    "buyer_account_id": first,
                    "seller_account_id": second,
                    "amount": "2",
                    "description": "order 9",
                },
                {
                    "type": "conversion",
                    "from_account_id": first,
                    "to_account_id": euros,
                    "from_amount": "10",
                    "to_amount": "9.20",
                    "metadata": {"rate": "0.92"},
                },
            ]
        },
    )

    # THEN the hold and the escrow are pending, the hold expiring, the escrow not
    assert reply.status == 201, reply.json
    hold, escrow, conversion = reply.json["entries"]
    assert (hold["status"], hold["reference"]) == ("pending", "h-1")
    assert hold["lines"] == [line(first, "debit", "3.00"), line(second, "credit", "3.00")]
    assert hold["expires_at"] is not None
    assert (escrow["status"], escrow["description"], escrow["expires_at"]) == (
        "pending",
        "order 9",
        None,
    )
    # AND the conversion runs through both world accounts, with its metadata
    assert conversion["metadata"] == {"rate": "0.92"}
    assert conversion["lines"][-1] == line(euros, "credit", "9.20", "EUR")
    assert balance(api, first)["available"] == "85.00"


def test_a_netted_batch_saves_the_transfers_it_merges(api: Api) -> None:
    # GIVEN two wallets, the first holding 100
    first, second = wallets(api)
    transfer = {"type": "transfer", "from_account_id": first, "to_account_id": second}

    # WHEN two transfers between the same wallets go as a netted batch
    reply = api.call(
        "POST",
        "/v1/batches",
        {"operations": [{**transfer, "amount": "2"}, {**transfer, "amount": "3"}], "net": True},
    )

    # THEN one entry moves the sum, and the response says one entry was saved
    assert reply.status == 201
    assert reply.json["items_saved"] == 1
    assert [entry["lines"] for entry in reply.json["entries"]] == [
        [line(first, "debit", "5.00"), line(second, "credit", "5.00")]
    ]
    assert balance(api, second)["posted"] == "5.00"
