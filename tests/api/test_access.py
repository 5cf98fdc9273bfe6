"""Who may do what: roles (reader < operator < admin) and scopes (ledgers, owner)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import pytest

from .builders import deposit, new_account, new_ledger
from .harness import Api, Keys, Reply, random_owner


@dataclass(frozen=True)
class Side:
    """One ledger of the module: its owner, two funded wallets, a yen wallet, an entry, a
    hold and an escrow (both pending)."""

    owner_id: str
    ledger_id: str
    wallet: str
    other_wallet: str
    yen: str
    entry_id: str
    hold_id: str
    escrow_id: str


@dataclass(frozen=True)
class World:
    """The caller's own ledger (`home`) and someone else's (`foreign`)."""

    home: Side
    foreign: Side


def make_side(api: Api) -> Side:
    """A ledger with everything the routes need."""
    owner = random_owner()
    ledger_id = new_ledger(api, owner)
    wallet, other_wallet = new_account(api, ledger_id), new_account(api, ledger_id)
    deposit(api, wallet, "100")
    deposit(api, other_wallet, "100")
    entry_id = deposit(api, wallet, "1")["id"]
    hold = api.call("POST", "/v1/holds", {"account_id": wallet, "amount": "1"})
    escrow = api.call(
        "POST",
        "/v1/escrows",
        {"buyer_account_id": wallet, "seller_account_id": other_wallet, "amount": "1"},
    )
    return Side(
        owner,
        ledger_id,
        wallet,
        other_wallet,
        new_account(api, ledger_id, currency="JPY"),
        entry_id,
        hold.json["id"],
        escrow.json["id"],
    )


@pytest.fixture(scope="module")
def world(api: Api) -> World:
    """Two ledgers of two owners."""
    return World(make_side(api), make_side(api))


Route = Callable[[Side], tuple[str, str, Any]]


def route(method: str, path: str, body: Callable[[Side], Any] | None = None) -> Route:
    """A request on one side's objects; `path` may name any field of the side."""
    return lambda side: (
        method,
        path.format(**side.__dict__),
        None if body is None else body(side),
    )


def entry_of(side: Side) -> dict[str, Any]:
    """A raw entry between the side's wallets."""
    return {
        "ledger_id": side.ledger_id,
        "lines": [
            {"account_id": side.wallet, "side": "debit", "amount": "1"},
            {"account_id": side.other_wallet, "side": "credit", "amount": "1"},
        ],
    }


def move(side: Side) -> dict[str, Any]:
    """A deposit-like body on the side's wallet."""
    return {"account_id": side.wallet, "amount": "1"}


# Every write an operator may make, on one side's objects.
operator_writes: dict[str, Route] = {
    "create account": route(
        "POST",
        "/v1/accounts",
        lambda side: {"ledger_id": side.ledger_id, "name": "N", "type": "asset", "currency": "USD"},
    ),
    "rename account": route("PATCH", "/v1/accounts/{wallet}", lambda side: {"name": "Renamed"}),
    "post entry": route("POST", "/v1/entries", entry_of),
    "deposit": route("POST", "/v1/deposits", move),
    "withdrawal": route("POST", "/v1/withdrawals", move),
    "spend": route("POST", "/v1/spends", move),
    "refund": route("POST", "/v1/refunds", move),
    "transfer": route(
        "POST",
        "/v1/transfers",
        lambda side: {
            "from_account_id": side.wallet,
            "to_account_id": side.other_wallet,
            "amount": "1",
        },
    ),
    "hold": route("POST", "/v1/holds", move),
    "confirm hold": route("POST", "/v1/holds/{hold_id}/confirm"),
    "release hold": route("POST", "/v1/holds/{hold_id}/release"),
    "post pending": route("POST", "/v1/entries/{hold_id}/post"),
    "void pending": route("POST", "/v1/entries/{hold_id}/void"),
    "escrow": route(
        "POST",
        "/v1/escrows",
        lambda side: {
            "buyer_account_id": side.wallet,
            "seller_account_id": side.other_wallet,
            "amount": "1",
        },
    ),
    "release escrow": route("POST", "/v1/escrows/{escrow_id}/release"),
    "refund escrow": route("POST", "/v1/escrows/{escrow_id}/refund"),
    "conversion": route(
        "POST",
        "/v1/conversions",
        lambda side: {
            "from_account_id": side.wallet,
            "to_account_id": side.yen,
            "from_amount": "1",
            "to_amount": "150",
        },
    ),
    "batch": route(
        "POST", "/v1/batches", lambda side: {"operations": [{"type": "deposit", **move(side)}]}
    ),
}

admin_writes: dict[str, Route] = {
    "suspend account": route(
        "PATCH", "/v1/accounts/{wallet}", lambda side: {"status": "suspended"}
    ),
    "change overdraft": route(
        "PATCH", "/v1/accounts/{wallet}", lambda side: {"overdraft": {"mode": "allow"}}
    ),
    "reverse entry": route("POST", "/v1/entries/{entry_id}/reverse"),
    "open account with a credit line": route(
        "POST",
        "/v1/accounts",
        lambda side: {
            "ledger_id": side.ledger_id,
            "name": "Credit",
            "type": "liability",
            "currency": "USD",
            "overdraft": {"mode": "limit", "limit": "1000000.00"},
        },
    ),
    "open account without a floor": route(
        "POST",
        "/v1/accounts",
        lambda side: {
            "ledger_id": side.ledger_id,
            "name": "Unbounded",
            "type": "liability",
            "currency": "USD",
            "overdraft": {"mode": "allow"},
        },
    ),
    "register currency": route(
        "POST", "/v1/ledgers/{ledger_id}/currencies", lambda side: {"code": "PTS", "scale": 0}
    ),
    "create key": route(
        "POST", "/v1/api-keys", lambda side: {"role": "reader", "ledger_ids": [side.ledger_id]}
    ),
    "revoke key": route("DELETE", "/v1/api-keys/key_00000000000000000000"),
}

reads: dict[str, tuple[Route, str, str]] = {
    "ledger": (route("GET", "/v1/ledgers/{ledger_id}"), "ledger", "ledger_id"),
    "account": (route("GET", "/v1/accounts/{wallet}"), "account", "wallet"),
    "balance": (route("GET", "/v1/accounts/{wallet}/balance"), "account", "wallet"),
    "entry": (route("GET", "/v1/entries/{entry_id}"), "entry", "entry_id"),
    "accounts": (route("GET", "/v1/accounts?ledger_id={ledger_id}"), "ledger", "ledger_id"),
    "entries": (route("GET", "/v1/entries?ledger_id={ledger_id}"), "ledger", "ledger_id"),
    # By reference too: the table has no history consumer, which the account alone reads.
    "entries of account": (
        route("GET", "/v1/entries?account_id={wallet}&reference=order-1"),
        "ledger",
        "ledger_id",
    ),
    "currencies": (route("GET", "/v1/ledgers/{ledger_id}/currencies"), "ledger", "ledger_id"),
}


def send(api: Api, request: tuple[str, str, Any], key: str | None) -> Reply:
    """Send (method, path with query, body) with an API key."""
    method, target, body = request
    path, _, query = target.partition("?")
    return api.call(method, path, body, key=key, query=dict(parse_qsl(query)) or None)


@pytest.mark.parametrize("name", [*operator_writes, "create ledger"])
def test_a_reader_cannot_write(api: Api, keys: Keys, world: World, name: str) -> None:
    # GIVEN a reader key
    reader = keys.reader
    request = (
        ("POST", "/v1/ledgers", {"name": "N"})
        if name == "create ledger"
        else operator_writes[name](world.home)
    )

    # WHEN it makes an operator's write
    with api.nothing_written():
        reply = send(api, request, reader)

    # THEN it is forbidden, naming the role needed
    assert reply.error() == (403, "forbidden", {"role": "reader", "required": "operator"})


@pytest.mark.parametrize("name", list(admin_writes))
@pytest.mark.parametrize("role", ["reader", "operator"])
def test_only_an_admin_manages_keys_statuses_overdrafts_and_reversals(
    api: Api, keys: Keys, world: World, name: str, role: str
) -> None:
    # GIVEN a reader or operator key
    secret = keys.of(role)

    # WHEN it makes an admin's write
    with api.nothing_written():
        reply = send(api, admin_writes[name](world.home), secret)

    # THEN it is forbidden
    assert reply.error() == (403, "forbidden", {"role": role, "required": "admin"})


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("suspend account", 200),
        ("change overdraft", 200),
        ("reverse entry", 201),
        ("open account with a credit line", 201),
        ("open account without a floor", 201),
        ("register currency", 201),
        ("create key", 201),
    ],
)
def test_an_admin_may_make_the_admin_writes(api: Api, name: str, status: int) -> None:
    # GIVEN a fresh ledger of its own, and the admin key
    side = make_side(api)

    # WHEN the admin makes the write
    reply = send(api, admin_writes[name](side), api.admin_secret)

    # THEN it is done
    assert reply.status == status, reply.json


def test_an_admin_revokes_a_key(api: Api, keys: Keys) -> None:
    # GIVEN a key, and another unscoped admin key
    key_id = api.call("POST", "/v1/api-keys", {"role": "reader"}).json["id"]

    # WHEN the admin revokes it
    reply = api.call("DELETE", f"/v1/api-keys/{key_id}", key=keys.of("admin"))

    # THEN it is revoked
    assert (reply.status, reply.json["status"]) == (200, "revoked")


@pytest.mark.parametrize("name", list(reads))
def test_a_reader_reads_everything_in_scope(api: Api, keys: Keys, world: World, name: str) -> None:
    # GIVEN a reader key
    reader = keys.reader

    # WHEN it reads
    reply = send(api, reads[name][0](world.home), reader)

    # THEN it gets the object
    assert reply.status == 200, reply.json


@pytest.mark.parametrize("scope", ["ledger_ids", "owner_id"])
@pytest.mark.parametrize("name", list(reads))
def test_a_scoped_key_reading_outside_its_scope_finds_nothing(
    api: Api, keys: Keys, world: World, scope: str, name: str
) -> None:
    # GIVEN an admin key scoped to the home ledger (by id or by owner)
    secret = (
        keys.of("admin", ledger_ids=[world.home.ledger_id])
        if scope == "ledger_ids"
        else keys.of("admin", owner_id=world.home.owner_id)
    )
    read, resource, field = reads[name]
    assert send(api, read(world.home), secret).status == 200

    # WHEN it reads the foreign ledger's object
    reply = send(api, read(world.foreign), secret)

    # THEN it is not found, exactly as if it did not exist
    identifier = getattr(world.foreign, field)
    assert reply.error() == (404, "not_found", {"resource": resource, "id": identifier})


# Writes that name the foreign ledger by its body; a scoped key is refused with 403.
created_writes = [
    name
    for name in operator_writes
    if name
    not in {
        "rename account",
        "confirm hold",
        "release hold",
        "post pending",
        "void pending",
        "release escrow",
        "refund escrow",
    }
]
# Writes on an existing foreign object, named by its path.
object_writes = [name for name in operator_writes if name not in created_writes]


@pytest.mark.parametrize("scope", ["ledger_ids", "owner_id"])
@pytest.mark.parametrize("name", created_writes)
def test_a_scoped_key_writing_outside_its_scope_is_forbidden(
    api: Api, keys: Keys, world: World, scope: str, name: str
) -> None:
    # GIVEN an operator key scoped to the home ledger
    secret = (
        keys.of("operator", ledger_ids=[world.home.ledger_id])
        if scope == "ledger_ids"
        else keys.of("operator", owner_id=world.home.owner_id)
    )

    # WHEN it writes to the foreign ledger
    with api.nothing_written():
        reply = send(api, operator_writes[name](world.foreign), secret)

    # THEN it is forbidden, naming the ledger
    assert reply.error() == (403, "forbidden", {"ledger_id": world.foreign.ledger_id})


@pytest.mark.parametrize("name", object_writes)
def test_a_scoped_key_changing_an_object_outside_its_scope_is_forbidden(
    api: Api, keys: Keys, world: World, name: str
) -> None:
    # GIVEN an operator key scoped to the home ledger
    secret = keys.of("operator", ledger_ids=[world.home.ledger_id])

    # WHEN it changes an object of the foreign ledger
    with api.nothing_written():
        reply = send(api, operator_writes[name](world.foreign), secret)

    # THEN it is forbidden, and nothing changed
    assert reply.error() == (403, "forbidden", {"ledger_id": world.foreign.ledger_id})


def test_a_transfer_from_home_to_a_foreign_ledger_is_forbidden(
    api: Api, keys: Keys, world: World
) -> None:
    # GIVEN an operator key scoped to the home ledger
    secret = keys.of("operator", ledger_ids=[world.home.ledger_id])
    body = {
        "from_account_id": world.home.wallet,
        "to_account_id": world.foreign.wallet,
        "amount": "1",
    }

    # WHEN it transfers from home to the foreign ledger
    with api.nothing_written():
        reply = api.call("POST", "/v1/transfers", body, key=secret)

    # THEN the foreign ledger is out of its scope
    assert reply.error() == (403, "forbidden", {"ledger_id": world.foreign.ledger_id})


@pytest.mark.parametrize("scope", ["ledger_ids", "owner_id"])
def test_a_scoped_key_writes_in_its_scope(api: Api, keys: Keys, world: World, scope: str) -> None:
    # GIVEN an operator key scoped to the home ledger
    secret = (
        keys.of("operator", ledger_ids=[world.home.ledger_id])
        if scope == "ledger_ids"
        else keys.of("operator", owner_id=world.home.owner_id)
    )

    # WHEN it deposits into a home wallet
    reply = api.call(
        "POST", "/v1/deposits", {"account_id": world.home.other_wallet, "amount": "1"}, key=secret
    )

    # THEN it is done
    assert reply.status == 201


def test_a_ledger_scoped_key_cannot_create_ledgers(api: Api, keys: Keys, world: World) -> None:
    # GIVEN an admin key scoped to the home ledger
    secret = keys.of("admin", ledger_ids=[world.home.ledger_id])

    # WHEN it creates a ledger
    with api.nothing_written():
        reply = api.call("POST", "/v1/ledgers", {"name": "More"}, key=secret)

    # THEN it is forbidden
    assert reply.error() == (403, "forbidden", {})
    assert reply.json["error"]["message"] == "a key limited to named ledgers cannot create ledgers"


def test_a_ledger_scoped_key_lists_only_its_ledgers_of_an_owner(
    api: Api, keys: Keys, world: World
) -> None:
    # GIVEN a second ledger of the home owner, and a key scoped to the first
    new_ledger(api, world.home.owner_id)
    secret = keys.of("reader", ledger_ids=[world.home.ledger_id])

    # WHEN it lists the owner's ledgers
    reply = api.call("GET", "/v1/ledgers", query={"owner_id": world.home.owner_id}, key=secret)

    # THEN it sees only its own
    assert reply.status == 200
    assert [item["id"] for item in reply.json["items"]] == [world.home.ledger_id]


def test_an_owner_scoped_key_lists_its_owners_ledgers_without_naming_the_owner(
    api: Api, keys: Keys
) -> None:
    # GIVEN an owner with two ledgers, and a key scoped to that owner
    owner = random_owner()
    ledger_ids = [new_ledger(api, owner), new_ledger(api, owner)]
    secret = keys.of("reader", owner_id=owner)

    # WHEN it lists ledgers, with and without naming its owner
    implicit = api.call("GET", "/v1/ledgers", key=secret)
    explicit = api.call("GET", "/v1/ledgers", query={"owner_id": owner}, key=secret)

    # THEN both are its owner's ledgers
    assert [item["id"] for item in implicit.json["items"]] == ledger_ids
    assert explicit.json == implicit.json


def test_an_owner_scoped_key_creates_ledgers_for_its_owner_only(
    api: Api, keys: Keys, world: World
) -> None:
    # GIVEN an operator key scoped to the home owner
    secret = keys.of("operator", owner_id=world.home.owner_id)

    # WHEN it creates a ledger without an owner, and one for the foreign owner
    own = api.call("POST", "/v1/ledgers", {"name": "Mine"}, key=secret)
    with api.nothing_written():
        other = api.call(
            "POST",
            "/v1/ledgers",
            {"name": "Theirs", "owner_id": world.foreign.owner_id},
            key=secret,
        )

    # THEN the first is its owner's, the second is forbidden
    assert (own.status, own.json["owner_id"]) == (201, world.home.owner_id)
    assert other.error() == (403, "forbidden", {"owner_id": world.home.owner_id})


@pytest.mark.parametrize(
    ("creator", "body"),
    [
        ("ledger_ids", {"role": "reader"}),
        ("ledger_ids", {"role": "reader", "ledger_ids": ["{home}", "{foreign}"]}),
        ("ledger_ids", {"role": "admin", "ledger_ids": ["{foreign}"]}),
        ("owner_id", {"role": "reader", "owner_id": "{foreign_owner}"}),
    ],
)
def test_a_scoped_admin_cannot_create_a_wider_key(
    api: Api, keys: Keys, world: World, creator: str, body: dict[str, Any]
) -> None:
    # GIVEN an admin key scoped to the home ledger, or to the home owner
    secret = (
        keys.of("admin", ledger_ids=[world.home.ledger_id])
        if creator == "ledger_ids"
        else keys.of("admin", owner_id=world.home.owner_id)
    )
    names = {
        "home": world.home.ledger_id,
        "foreign": world.foreign.ledger_id,
        "foreign_owner": world.foreign.owner_id,
    }
    wanted = {
        name: [item.format(**names) for item in value]
        if isinstance(value, list)
        else value.format(**names)
        for name, value in body.items()
    }

    # WHEN it creates a key reaching beyond its own scope
    with api.nothing_written():
        reply = api.call("POST", "/v1/api-keys", wanted, key=secret)

    # THEN it is forbidden
    assert reply.error() == (403, "forbidden", {})


def test_a_scoped_admin_cannot_revoke_a_key_outside_its_scope(
    api: Api, keys: Keys, world: World
) -> None:
    # GIVEN an unscoped key, and an admin key scoped to the home ledger
    target = api.call("POST", "/v1/api-keys", {"role": "reader"}).json
    secret = keys.of("admin", ledger_ids=[world.home.ledger_id])

    # WHEN the scoped admin revokes the unscoped key
    with api.nothing_written():
        reply = api.call("DELETE", f"/v1/api-keys/{target['id']}", key=secret)

    # THEN there is no such key for it, and the key still works
    assert reply.error() == (404, "not_found", {"resource": "api_key", "id": target["id"]})
    assert api.call("GET", f"/v1/ledgers/{world.home.ledger_id}", key=target["key"]).status == 200


def test_a_scoped_admin_revokes_a_key_in_its_scope(api: Api, keys: Keys, world: World) -> None:
    # GIVEN a key for the home ledger, and an admin scoped to the home ledger
    secret = keys.of("admin", ledger_ids=[world.home.ledger_id])
    target = api.call(
        "POST", "/v1/api-keys", {"role": "reader", "ledger_ids": [world.home.ledger_id]}, key=secret
    ).json

    # WHEN the scoped admin revokes it
    reply = api.call("DELETE", f"/v1/api-keys/{target['id']}", key=secret)

    # THEN it is revoked and refused from then on
    assert (reply.status, reply.json["status"]) == (200, "revoked")
    assert api.call("GET", f"/v1/ledgers/{world.home.ledger_id}", key=target["key"]).status == 401


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v1/ledgers/ldg_aaaaaaaaaaaaaaaa", None),
        ("GET", "/v1/ledgers", None),
        ("POST", "/v1/ledgers", {"name": "N"}),
        ("POST", "/v1/ledgers", None),
        ("GET", "/v1/accounts/nonsense", None),
        ("POST", "/v1/deposits", {"amount": 1}),
        ("POST", "/v1/batches", {"operations": []}),
        ("PATCH", "/v1/accounts/nonsense", {}),
        ("POST", "/v1/api-keys", {"role": "admin"}),
        ("DELETE", "/v1/api-keys/key_x", None),
        ("GET", "/v1/no-such-route", None),
    ],
)
def test_without_a_key_every_route_is_401_before_anything_else(
    api: Api, method: str, path: str, body: object
) -> None:
    # GIVEN / WHEN a request without an Authorization header, valid or not
    with api.nothing_written():
        reply = api.call(method, path, body, key=None)

    # THEN it is refused as unauthenticated, before validation or routing
    assert reply.error() == (401, "unauthorized", {})
    assert reply.json["error"]["message"] == "send the API key as 'Authorization: Bearer <key>'"


def test_an_owner_scoped_key_asking_for_a_missing_account_gets_the_usual_404(
    api: Api, keys: Keys
) -> None:
    # GIVEN a well-formed account id of a ledger that does not exist, and an owner's key
    ghost = "acc_aaaaaaaaaaaaaaaa_USD-2-c_bbbbbbbbbbbbbbbb"
    secret = keys.of("reader", owner_id=random_owner())
    unscoped = api.call("GET", f"/v1/accounts/{ghost}")

    # WHEN the owner's key reads it
    reply = api.call("GET", f"/v1/accounts/{ghost}", key=secret)

    # THEN it gets what any key gets: the account is not found
    assert unscoped.error() == (404, "not_found", {"resource": "account", "id": ghost})
    assert reply.error() == unscoped.error()
