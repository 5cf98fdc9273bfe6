"""Ledger listings by scope: exactly the ledgers a key reaches, and nothing of the others."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from ledger.domain.ids import new_ledger_id

from .builders import new_ledger
from .harness import Api, Keys, random_owner


@dataclass(frozen=True)
class Side:
    """One owner and one ledger of it."""

    owner_id: str
    ledger_id: str


@dataclass(frozen=True)
class World:
    """The caller's own owner and ledger (`home`) and someone else's (`foreign`)."""

    home: Side
    foreign: Side


def _side(api: Api) -> Side:
    owner = random_owner()
    return Side(owner, new_ledger(api, owner))


@pytest.fixture(scope="module")
def world(api: Api) -> World:
    """Two ledgers of two owners, the home one made first."""
    return World(_side(api), _side(api))


# Keys that do not reach the foreign owner's ledgers, by how they are scoped.
outside_scopes: dict[str, Callable[[Keys, World], str]] = {
    "named ledgers": lambda keys, world: keys.of("reader", ledger_ids=[world.home.ledger_id]),
    "owner": lambda keys, world: keys.of("reader", owner_id=world.home.owner_id),
    "named ledgers of the owner": lambda keys, world: keys.of(
        "reader", ledger_ids=[world.home.ledger_id], owner_id=world.home.owner_id
    ),
}


@pytest.mark.parametrize("scope", list(outside_scopes))
def test_a_listing_outside_the_scope_is_exactly_the_empty_listing(
    api: Api, keys: Keys, world: World, scope: str
) -> None:
    # GIVEN a scoped key, and a foreign owner with two ledgers: a page of one of them would
    # have a cursor (which used to name the foreign ledger's id and creation time)
    new_ledger(api, world.foreign.owner_id)
    secret = outside_scopes[scope](keys, world)

    # WHEN it lists the foreign owner's ledgers one at a time, and an owner that does not exist
    foreign = api.call(
        "GET", "/v1/ledgers", query={"owner_id": world.foreign.owner_id, "limit": 1}, key=secret
    )
    nobody = api.call(
        "GET", "/v1/ledgers", query={"owner_id": random_owner(), "limit": 1}, key=secret
    )

    # THEN both are the empty, final page: the answer does not tell whether the owner exists
    assert (foreign.status, foreign.json) == (200, {"items": [], "next_cursor": None})
    assert (nobody.status, nobody.json) == (foreign.status, foreign.json)


def test_a_ledger_scoped_key_pages_through_its_own_ledgers_of_an_owner(
    api: Api, keys: Keys
) -> None:
    # GIVEN an owner with four ledgers, and a key naming three of them
    owner = random_owner()
    ledger_ids = [new_ledger(api, owner) for _ in range(4)]
    secret = keys.of("reader", ledger_ids=ledger_ids[1:])

    # WHEN it lists the owner's ledgers two at a time
    first = api.call("GET", "/v1/ledgers", query={"owner_id": owner, "limit": 2}, key=secret)
    second = api.call(
        "GET",
        "/v1/ledgers",
        query={"owner_id": owner, "limit": 2, "cursor": first.json["next_cursor"]},
        key=secret,
    )

    # THEN the pages hold exactly its three, oldest first; the cursor ends with them
    assert [item["id"] for item in first.json["items"]] == ledger_ids[1:3]
    assert [item["id"] for item in second.json["items"]] == ledger_ids[3:]
    assert second.json["next_cursor"] is None


def test_without_an_owner_a_ledger_scoped_key_lists_exactly_its_ledgers(
    api: Api, keys: Keys, world: World
) -> None:
    # GIVEN a key naming the foreign ledger, the home ledger, and a ledger that does not exist
    missing = new_ledger_id(None, None)
    secret = keys.of("reader", ledger_ids=[world.foreign.ledger_id, world.home.ledger_id, missing])

    # WHEN it lists ledgers without naming an owner
    reply = api.call("GET", "/v1/ledgers", key=secret)

    # THEN it gets the two that exist, oldest first, and no cursor
    assert reply.status == 200, reply.json
    assert [item["id"] for item in reply.json["items"]] == [
        world.home.ledger_id,
        world.foreign.ledger_id,
    ]
    assert reply.json["next_cursor"] is None


def _every_ledger(api: Api, key: str) -> list[str]:
    """Every ledger id a key lists without naming an owner, page by page (bounded)."""
    ids: list[str] = []
    query: dict[str, str | int] = {"limit": 100}
    for _ in range(50):
        reply = api.call("GET", "/v1/ledgers", query=query, key=key)
        assert reply.status == 200, reply.json
        ids += [item["id"] for item in reply.json["items"]]
        if reply.json["next_cursor"] is None:
            return ids
        query = {"limit": 100, "cursor": reply.json["next_cursor"]}
    raise AssertionError("the listing of every ledger did not end")


def test_without_an_owner_an_unscoped_key_lists_every_ledger(
    api: Api, keys: Keys, world: World
) -> None:
    # GIVEN a ledger without an owner, and the two owners' ledgers
    unowned = api.call("POST", "/v1/ledgers", {"name": "Nobody's"}).json["id"]

    # WHEN an unscoped reader lists ledgers without naming an owner, to the last page
    listed = _every_ledger(api, keys.reader)

    # THEN every one of them is there, once, oldest first
    assert {world.home.ledger_id, world.foreign.ledger_id, unowned} <= set(listed)
    assert len(listed) == len(set(listed))
    assert listed.index(world.home.ledger_id) < listed.index(world.foreign.ledger_id)
    assert listed.index(world.foreign.ledger_id) < listed.index(unowned)
