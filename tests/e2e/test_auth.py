"""Keys over real HTTP: who gets 401, 403 and 404, and a revocation every worker honours."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from .builders import call, deposit, new_account, new_key, new_ledger, ok, token
from .conftest import DevServer

# One pytest worker runs every end-to-end test, against one `ledger dev`.
pytestmark = pytest.mark.xdist_group("e2e")

# More requests than `ledger dev` has workers, so that every worker answers some.
parallel_requests = 8


@dataclass(frozen=True)
class Books:
    """Two ledgers with a funded wallet each, and keys limited to the first ledger."""

    ledger_id: str
    wallet: str
    foreign_ledger_id: str
    foreign_wallet: str
    reader: str
    operator: str
    admin: str


@pytest.fixture(scope="module")
def books(dev_server: DevServer) -> Books:
    """The module's ledgers and ledger-scoped keys."""
    ledger_id, foreign_ledger_id = new_ledger(dev_server), new_ledger(dev_server)
    wallet = new_account(dev_server, ledger_id)
    foreign_wallet = new_account(dev_server, foreign_ledger_id)
    deposit(dev_server, wallet, "100")
    deposit(dev_server, foreign_wallet, "100")
    scope = {"ledger_ids": [ledger_id]}
    return Books(
        ledger_id,
        wallet,
        foreign_ledger_id,
        foreign_wallet,
        new_key(dev_server, "reader", **scope)[1],
        new_key(dev_server, "operator", **scope)[1],
        new_key(dev_server, "admin", **scope)[1],
    )


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer ", "Bearer not-a-key-" + token(), "Basic dXNlcjpwYXNz"],
    ids=["missing", "empty", "unknown", "other-scheme"],
)
def test_a_request_without_a_valid_key_is_401(
    dev_server: DevServer, books: Books, authorization: str | None
) -> None:
    # GIVEN / WHEN an account is read with no key, an empty one, an unknown one, or Basic auth
    headers = {} if authorization is None else {"Authorization": authorization}
    reply = call(dev_server, "GET", f"/v1/accounts/{books.wallet}", anonymous=True, headers=headers)

    # THEN it is 401, in the contract's shape
    status, code, _ = reply.error()
    assert (status, code) == (401, "unauthorized")


def test_a_revoked_key_is_401_on_every_worker_from_the_next_request(
    dev_server: DevServer, books: Books
) -> None:
    # GIVEN an operator key that works
    key_id, secret = new_key(dev_server, "operator", ledger_ids=[books.ledger_id])
    assert ok(call(dev_server, "GET", f"/v1/accounts/{books.wallet}", key=secret))

    # WHEN the admin revokes it, and it is used at once from several connections
    assert ok(call(dev_server, "DELETE", f"/v1/api-keys/{key_id}"))["status"] == "revoked"
    with ThreadPoolExecutor(parallel_requests) as pool:
        replies = list(
            pool.map(
                lambda _: call(dev_server, "GET", f"/v1/accounts/{books.wallet}", key=secret),
                range(parallel_requests),
            )
        )

    # THEN every request is refused with 401, each with its own request id
    assert {reply.error()[:2] for reply in replies} == {(401, "unauthorized")}
    assert len({reply.request_id for reply in replies}) == parallel_requests


def test_a_scoped_key_reads_its_ledger_and_sees_nothing_outside(
    dev_server: DevServer, books: Books
) -> None:
    # GIVEN an operator key limited to the first ledger
    # WHEN it reads an account of its ledger, and the other ledger and its account
    own = call(dev_server, "GET", f"/v1/accounts/{books.wallet}", key=books.operator)
    foreign_ledger = call(
        dev_server, "GET", f"/v1/ledgers/{books.foreign_ledger_id}", key=books.operator
    )
    foreign_balance = call(
        dev_server, "GET", f"/v1/accounts/{books.foreign_wallet}/balance", key=books.operator
    )

    # THEN its own reads, and the others are not found, as if they did not exist
    assert ok(own)["balance"]["posted"] == "100.00"
    assert foreign_ledger.error() == (
        404,
        "not_found",
        {"resource": "ledger", "id": books.foreign_ledger_id},
    )
    assert foreign_balance.error() == (
        404,
        "not_found",
        {"resource": "account", "id": books.foreign_wallet},
    )


def test_a_scoped_key_writing_outside_its_ledger_is_403(
    dev_server: DevServer, books: Books
) -> None:
    # GIVEN an operator key limited to the first ledger
    # WHEN it deposits into the other ledger's wallet
    body = {"account_id": books.foreign_wallet, "amount": "1"}
    reply = call(dev_server, "POST", "/v1/deposits", body, key=books.operator)

    # THEN it is forbidden, and the wallet did not move
    status, code, details = reply.error()
    assert (status, code, details) == (403, "forbidden", {"ledger_id": books.foreign_ledger_id})
    after = call(dev_server, "GET", f"/v1/accounts/{books.foreign_wallet}/balance")
    assert ok(after)["posted"] == "100.00"


def test_a_reader_reads_but_cannot_write(dev_server: DevServer, books: Books) -> None:
    # GIVEN a reader key of the first ledger
    # WHEN it reads the wallet, then tries to move money and to open an account
    read = call(dev_server, "GET", f"/v1/accounts/{books.wallet}/balance", key=books.reader)
    move = call(
        dev_server,
        "POST",
        "/v1/deposits",
        {"account_id": books.wallet, "amount": "1"},
        key=books.reader,
    )
    open_account = call(
        dev_server,
        "POST",
        "/v1/accounts",
        {"ledger_id": books.ledger_id, "name": "N", "type": "asset", "currency": "USD"},
        key=books.reader,
    )

    # THEN it reads, and both writes are forbidden
    assert ok(read)["account_id"] == books.wallet
    assert move.error()[:2] == (403, "forbidden")
    assert open_account.error()[:2] == (403, "forbidden")


def test_an_operator_cannot_create_keys_nor_a_ledger_scoped_key_ledgers(
    dev_server: DevServer, books: Books
) -> None:
    # GIVEN the operator key limited to the first ledger
    # WHEN it creates a key, and a ledger
    key = call(
        dev_server,
        "POST",
        "/v1/api-keys",
        {"role": "reader", "ledger_ids": [books.ledger_id]},
        key=books.operator,
    )
    ledger = call(dev_server, "POST", "/v1/ledgers", {"name": "Mine"}, key=books.operator)

    # THEN both are forbidden
    assert key.error()[:2] == (403, "forbidden")
    assert ledger.error()[:2] == (403, "forbidden")


def test_a_scoped_admin_keeps_to_its_scope(dev_server: DevServer, books: Books) -> None:
    # GIVEN an admin key limited to the first ledger, and a key of the other ledger
    foreign_key_id, _ = new_key(dev_server, "reader", ledger_ids=[books.foreign_ledger_id])

    # WHEN it creates a key for its ledger, one for the other ledger, and revokes the other's
    own = call(
        dev_server,
        "POST",
        "/v1/api-keys",
        {"role": "reader", "ledger_ids": [books.ledger_id]},
        key=books.admin,
    )
    wider = call(
        dev_server,
        "POST",
        "/v1/api-keys",
        {"role": "reader", "ledger_ids": [books.foreign_ledger_id]},
        key=books.admin,
    )
    revoke = call(dev_server, "DELETE", f"/v1/api-keys/{foreign_key_id}", key=books.admin)

    # THEN only its own ledger's key is made; the other is 403 and the foreign key unseen
    assert ok(own, 201)["ledger_ids"] == [books.ledger_id]
    assert wider.error()[:2] == (403, "forbidden")
    assert revoke.error() == (404, "not_found", {"resource": "api_key", "id": foreign_key_id})
