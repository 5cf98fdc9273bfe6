"""Idempotency-Key through the API: a replay answers the original, a different body is
409, and a refused request leaves its key unused."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from .builders import balance, deposit, new_account, new_ledger
from .harness import Api, Keys, Reply, random_key, random_owner

taken_code = "taken-code"


@dataclass(frozen=True)
class Books:
    """The module's ledger: two funded USD wallets, a JPY wallet, and the code `taken_code`
    in use."""

    ledger_id: str
    wallet: str
    other_wallet: str
    yen: str


@pytest.fixture(scope="module")
def books(api: Api) -> Books:
    """Accounts shared by the module's tests; every test uses its own keys."""
    ledger_id = new_ledger(api)
    new_account(api, ledger_id, code=taken_code)
    wallet, other_wallet = new_account(api, ledger_id), new_account(api, ledger_id)
    deposit(api, wallet, "1000")
    deposit(api, other_wallet, "1000")
    return Books(ledger_id, wallet, other_wallet, new_account(api, ledger_id, currency="JPY"))


# A creating request: its path and body for an amount (or a name) of 1 or 2.
Creation = Callable[[Api, Books, int], tuple[str, dict[str, Any]]]


def creation(path: str, body: Callable[[Books, int], dict[str, Any]]) -> Creation:
    """A creating request whose path is fixed."""
    return lambda api, books, number: (path, body(books, number))


def one_account(path: str) -> Creation:
    """A deposit-like request on the wallet."""
    return creation(path, lambda books, number: {"account_id": books.wallet, "amount": str(number)})


def entry_lines(books: Books, number: int) -> dict[str, Any]:
    """A raw entry moving `number` from one wallet to the other."""
    return {
        "ledger_id": books.ledger_id,
        "lines": [
            {"account_id": books.wallet, "side": "debit", "amount": str(number)},
            {"account_id": books.other_wallet, "side": "credit", "amount": str(number)},
        ],
    }


creations: dict[str, tuple[Creation, int]] = {
    "ledger": (
        creation(
            "/v1/ledgers",
            lambda books, number: {"name": f"Book {number}", "owner_id": books.ledger_id},
        ),
        201,
    ),
    "account": (
        creation(
            "/v1/accounts",
            lambda books, number: {
                "ledger_id": books.ledger_id,
                "name": f"Account {number}",
                "type": "liability",
                "currency": "USD",
            },
        ),
        201,
    ),
    "entry": (creation("/v1/entries", entry_lines), 201),
    "pending entry": (
        creation(
            "/v1/entries",
            lambda books, number: {**entry_lines(books, number), "pending": {"expires_in": 60}},
        ),
        201,
    ),
    "deposit": (one_account("/v1/deposits"), 201),
    "withdrawal": (one_account("/v1/withdrawals"), 201),
    "spend": (one_account("/v1/spends"), 201),
    "refund": (one_account("/v1/refunds"), 201),
    "hold": (one_account("/v1/holds"), 201),
    "transfer": (
        creation(
            "/v1/transfers",
            lambda books, number: {
                "from_account_id": books.wallet,
                "to_account_id": books.other_wallet,
                "amount": str(number),
            },
        ),
        201,
    ),
    "escrow": (
        creation(
            "/v1/escrows",
            lambda books, number: {
                "buyer_account_id": books.wallet,
                "seller_account_id": books.other_wallet,
                "amount": str(number),
            },
        ),
        201,
    ),
    "conversion": (
        creation(
            "/v1/conversions",
            lambda books, number: {
                "from_account_id": books.wallet,
                "to_account_id": books.yen,
                "from_amount": "1",
                "to_amount": str(150 + number),
            },
        ),
        201,
    ),
    "batch": (
        creation(
            "/v1/batches",
            lambda books, number: {
                "operations": [
                    {"type": "deposit", "account_id": books.wallet, "amount": str(number)},
                    {"type": "deposit", "account_id": books.other_wallet, "amount": "1"},
                ]
            },
        ),
        201,
    ),
}


def hold_of(api: Api, books: Books) -> str:
    """A fresh hold of 5 on the wallet."""
    reply = api.call("POST", "/v1/holds", {"account_id": books.wallet, "amount": "5"})
    assert reply.status == 201, reply.json
    identifier: str = reply.json["id"]
    return identifier


@dataclass(frozen=True)
class Resolution:
    """A request on an existing entry: the path it makes for a fresh one, its body for a
    number, and its success status."""

    path: Callable[[Api, Books], str]
    body: Callable[[int], dict[str, Any]]
    status: int

    def make(self, api: Api, books: Books, number: int) -> tuple[str, dict[str, Any]]:
        """The path and body of a request on a fresh entry."""
        return self.path(api, books), self.body(number)


def reversible(api: Api, books: Books) -> str:
    """The reverse path of a fresh deposit."""
    return f"/v1/entries/{deposit(api, books.wallet, '1')['id']}/reverse"


resolutions: dict[str, Resolution] = {
    "post": Resolution(
        lambda api, books: f"/v1/entries/{hold_of(api, books)}/post",
        lambda number: {"amount": str(number)},
        200,
    ),
    "confirm": Resolution(
        lambda api, books: f"/v1/holds/{hold_of(api, books)}/confirm",
        lambda number: {"amount": str(number)},
        200,
    ),
    "reverse": Resolution(reversible, lambda number: {"description": f"reason {number}"}, 201),
}
replayable = {
    **creations,
    **{name: (resolution.make, resolution.status) for name, resolution in resolutions.items()},
}


def send(api: Api, path: str, body: dict[str, Any], key: str) -> Reply:
    """POST with an Idempotency-Key."""
    return api.call("POST", path, body, headers={"Idempotency-Key": key})


@pytest.mark.parametrize("name", list(replayable))
def test_the_same_key_and_body_replays_the_original_response(
    api: Api, books: Books, name: str
) -> None:
    # GIVEN a request made once with a key
    make, status = replayable[name]
    path, body = make(api, books, 1)
    key = random_key()
    original = send(api, path, body, key)
    assert original.status == status, original.json
    assert "Idempotent-Replayed" not in original.headers

    # WHEN the same request comes again with the same key
    with api.nothing_written():
        replay = send(api, path, body, key)

    # THEN the original status and body come back, marked as a replay, and nothing is written
    assert (replay.status, replay.json) == (original.status, original.json)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.headers["X-Request-Id"] == replay.request_id != original.request_id


@pytest.mark.parametrize("name", list(creations))
def test_the_same_key_with_another_body_is_409_and_writes_nothing(
    api: Api, books: Books, name: str
) -> None:
    # GIVEN a request made once with a key
    make, status = creations[name]
    path, body = make(api, books, 1)
    key = random_key()
    assert send(api, path, body, key).status == status

    # WHEN another body comes with the same key
    _, other_body = make(api, books, 2)
    with api.nothing_written():
        reply = send(api, path, other_body, key)

    # THEN it is refused as a reused key
    assert reply.error() == (409, "idempotency_key_reused", {})
    assert "Idempotent-Replayed" not in reply.headers


@pytest.mark.parametrize("name", list(resolutions))
def test_a_second_resolution_with_another_body_is_refused_as_resolved(
    api: Api, books: Books, name: str
) -> None:
    # GIVEN a hold posted (or an entry reversed) once; the resolution's own id is the
    # idempotency record, so any key the client sends is beside the point
    resolution = resolutions[name]
    path = resolution.path(api, books)
    key = random_key()
    assert send(api, path, resolution.body(1), key).status == resolution.status

    # WHEN the same key comes with another amount (or description)
    reply = send(api, path, resolution.body(2), key)

    # THEN it is refused: the entry is resolved (or reversed) already
    assert reply.status == 409
    assert reply.json["error"]["code"] in {"already_resolved", "already_reversed"}


def test_an_entry_key_cannot_be_reused_by_another_kind_of_operation(api: Api, books: Books) -> None:
    # GIVEN a deposit made with a key
    key = random_key()
    assert send(api, "/v1/deposits", {"account_id": books.wallet, "amount": "1"}, key).status == 201

    # WHEN a withdrawal of the same amount comes with that key
    with api.nothing_written():
        reply = send(api, "/v1/withdrawals", {"account_id": books.wallet, "amount": "1"}, key)

    # THEN it is refused: the key is taken in this ledger
    assert reply.error() == (409, "idempotency_key_reused", {})


def test_an_entry_key_is_scoped_to_its_ledger(api: Api, books: Books) -> None:
    # GIVEN a deposit in the module's ledger with a key
    key = random_key()
    first = send(api, "/v1/deposits", {"account_id": books.wallet, "amount": "1"}, key)

    # WHEN another ledger's account gets a deposit with the same key
    elsewhere = new_account(api, new_ledger(api))
    second = send(api, "/v1/deposits", {"account_id": elsewhere, "amount": "1"}, key)

    # THEN both are created, as different entries
    assert (first.status, second.status) == (201, 201)
    assert first.json["id"] != second.json["id"]
    assert "Idempotent-Replayed" not in second.headers


def test_a_ledger_key_is_scoped_to_its_owner(api: Api) -> None:
    # GIVEN a ledger created for one owner with a key
    key = random_key()
    first = send(api, "/v1/ledgers", {"name": "Books", "owner_id": random_owner()}, key)

    # WHEN another owner's ledger is created with the same key
    second = send(api, "/v1/ledgers", {"name": "Books", "owner_id": random_owner()}, key)

    # THEN both exist
    assert (first.status, second.status) == (201, 201)
    assert first.json["id"] != second.json["id"]


@dataclass(frozen=True)
class Retry:
    """A request refused with a 4xx, then sent again corrected, under one key."""

    path: str
    refused: dict[str, Any]
    refusal: tuple[int, str]
    fixed: dict[str, Any]


retries = [
    Retry("/v1/ledgers", {"name": 5}, (400, "validation_error"), {"name": "Books"}),
    Retry("/v1/deposits", {"amount": "1.001"}, (400, "validation_error"), {"amount": "1.00"}),
    Retry("/v1/withdrawals", {"amount": "5000"}, (422, "insufficient_funds"), {"amount": "5"}),
    Retry("/v1/transfers", {"amount": "5000"}, (422, "insufficient_funds"), {"amount": "5"}),
    Retry("/v1/holds", {"amount": "5000"}, (422, "insufficient_funds"), {"amount": "5"}),
    Retry("/v1/entries", {"amount": "unbalanced"}, (400, "unbalanced_entry"), {"amount": "5"}),
    Retry("/v1/batches", {"amount": "5000"}, (422, "insufficient_funds"), {"amount": "5"}),
    Retry("/v1/accounts", {"code": taken_code}, (409, "code_taken"), {"code": "fresh-code"}),
]


@pytest.mark.parametrize("retry", retries, ids=lambda retry: retry.path)
def test_a_refused_request_does_not_use_up_its_key(api: Api, books: Books, retry: Retry) -> None:
    # GIVEN a request refused with a 4xx under a key
    key = random_key()
    with api.nothing_written():
        reply = send(api, retry.path, request_body(books, retry.path, retry.refused), key)
    assert reply.error()[:2] == retry.refusal

    # WHEN the corrected request comes with the same key
    fixed = send(api, retry.path, request_body(books, retry.path, retry.fixed), key)

    # THEN it is carried out as new, not refused as a reused key
    assert fixed.status == 201, fixed.json
    assert "Idempotent-Replayed" not in fixed.headers


def request_body(books: Books, path: str, change: dict[str, Any]) -> dict[str, Any]:
    """A body for `path` with the change a refused-then-fixed test makes."""
    amount = change.get("amount", "1")
    wallet = books.wallet
    bodies: dict[str, dict[str, Any]] = {
        "/v1/ledgers": {"owner_id": random_owner(), **change},
        "/v1/accounts": {
            "ledger_id": books.ledger_id,
            "name": "A",
            "type": "liability",
            "currency": "USD",
            **change,
        },
        "/v1/deposits": {"account_id": wallet, "amount": amount},
        "/v1/withdrawals": {"account_id": wallet, "amount": amount},
        "/v1/holds": {"account_id": wallet, "amount": amount},
        "/v1/transfers": {
            "from_account_id": wallet,
            "to_account_id": books.other_wallet,
            "amount": amount,
        },
        "/v1/batches": {
            "operations": [
                {"type": "deposit", "account_id": books.other_wallet, "amount": "1"},
                {"type": "withdrawal", "account_id": wallet, "amount": amount},
            ]
        },
        "/v1/entries": {
            "ledger_id": books.ledger_id,
            "lines": [
                {"account_id": wallet, "side": "debit", "amount": "5"},
                {
                    "account_id": books.other_wallet,
                    "side": "credit",
                    "amount": "4" if amount == "unbalanced" else "5",
                },
            ],
        },
    }
    return bodies[path]


def test_a_post_refused_for_too_much_can_be_retried_for_less(api: Api, books: Books) -> None:
    # GIVEN a hold of 5, and a post for 6 refused under a key
    hold_id = hold_of(api, books)
    key = random_key()
    with api.nothing_written():
        refused = send(api, f"/v1/entries/{hold_id}/post", {"amount": "6"}, key)
    assert refused.error()[:2] == (422, "amount_exceeds_pending")

    # WHEN a post for 5 comes with the same key
    reply = send(api, f"/v1/entries/{hold_id}/post", {"amount": "5"}, key)

    # THEN the hold is posted
    assert (reply.status, reply.json["status"]) == (200, "posted")


def test_a_key_refused_for_its_role_can_be_used_by_a_key_allowed_to(api: Api, keys: Keys) -> None:
    # GIVEN a ledger creation refused to a reader under an idempotency key
    key = random_key()
    body = {"name": "Books", "owner_id": random_owner()}
    refused = api.call(
        "POST", "/v1/ledgers", body, key=keys.reader, headers={"Idempotency-Key": key}
    )
    assert refused.error()[:2] == (403, "forbidden")

    # WHEN an operator sends it with the same key
    reply = api.call(
        "POST", "/v1/ledgers", body, key=keys.operator, headers={"Idempotency-Key": key}
    )

    # THEN the ledger is created
    assert reply.status == 201
    assert "Idempotent-Replayed" not in reply.headers


def test_a_replayed_deposit_moves_the_money_once(api: Api, books: Books) -> None:
    # GIVEN a wallet's balance
    account_id = new_account(api, books.ledger_id)
    key = random_key()

    # WHEN the same deposit is sent three times with one key
    replies = [
        send(api, "/v1/deposits", {"account_id": account_id, "amount": "7"}, key) for _ in range(3)
    ]

    # THEN it counted once
    assert [reply.status for reply in replies] == [201, 201, 201]
    assert balance(api, account_id)["posted"] == "7.00"


def test_a_repeated_key_creation_is_refused_rather_than_replayed(api: Api) -> None:
    # GIVEN a key created under an idempotency key
    key = random_key()
    first = send(api, "/v1/api-keys", {"role": "reader"}, key)
    assert first.status == 201

    # WHEN the same request comes again
    with api.nothing_written():
        again = send(api, "/v1/api-keys", {"role": "reader"}, key)

    # THEN it is refused: the secret was shown once and cannot be shown again
    assert again.error() == (409, "idempotency_key_reused", {})
