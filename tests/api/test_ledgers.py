"""Ledgers through the API: create, read, list an owner's."""

from __future__ import annotations

from .builders import is_moment, new_ledger
from .harness import Api, random_owner


def test_creating_a_ledger_answers_201_with_the_ledger(api: Api) -> None:
    # GIVEN an owner
    owner = random_owner()

    # WHEN a ledger is created with metadata
    reply = api.call(
        "POST", "/v1/ledgers", {"name": "Wallets", "owner_id": owner, "metadata": {"env": "test"}}
    )

    # THEN it is answered in full, with a fresh id and an RFC 3339 time
    assert reply.status == 201
    assert reply.headers["Content-Type"] == "application/json"
    assert "Idempotent-Replayed" not in reply.headers
    assert reply.json == {
        "id": reply.json["id"],
        "name": "Wallets",
        "owner_id": owner,
        "metadata": {"env": "test"},
        "currencies": {},
        "world_shards": 8,
        "created_at": reply.json["created_at"],
    }
    assert reply.json["id"].startswith("ldg_")
    assert reply.json["id"].endswith("-w8")
    assert is_moment(reply.json["created_at"])


def test_a_ledger_without_owner_has_a_null_owner(api: Api) -> None:
    # GIVEN / WHEN a ledger created with its name only
    reply = api.call("POST", "/v1/ledgers", {"name": "Solo"})

    # THEN it has no owner and no metadata
    assert reply.status == 201
    assert (reply.json["owner_id"], reply.json["metadata"]) == (None, {})


def test_reading_a_ledger_answers_what_creating_it_answered(api: Api) -> None:
    # GIVEN a ledger
    created = api.call("POST", "/v1/ledgers", {"name": "Read me", "owner_id": random_owner()})

    # WHEN it is read
    reply = api.call("GET", f"/v1/ledgers/{created.json['id']}")

    # THEN the body is the same
    assert reply.status == 200
    assert reply.json == created.json


def test_listing_an_owners_ledgers_pages_oldest_first_and_ends_with_a_null_cursor(
    api: Api,
) -> None:
    # GIVEN an owner with three ledgers, and another owner's ledger
    owner = random_owner()
    ids = [new_ledger(api, owner, name=f"Book {number}") for number in range(3)]
    new_ledger(api)

    # WHEN the owner's ledgers are listed two at a time
    first = api.call("GET", "/v1/ledgers", query={"owner_id": owner, "limit": 2})
    second = api.call(
        "GET",
        "/v1/ledgers",
        query={"owner_id": owner, "limit": 2, "cursor": first.json["next_cursor"]},
    )

    # THEN the pages hold exactly the owner's ledgers, oldest first, the last with no cursor
    assert (first.status, second.status) == (200, 200)
    assert [item["id"] for item in first.json["items"]] == ids[:2]
    assert isinstance(first.json["next_cursor"], str)
    assert [item["id"] for item in second.json["items"]] == ids[2:]
    assert second.json["next_cursor"] is None
    assert set(first.json) == set(second.json) == {"items", "next_cursor"}


def test_listing_ledgers_of_an_owner_without_any_answers_an_empty_page(api: Api) -> None:
    # GIVEN / WHEN an owner with no ledger is listed
    reply = api.call("GET", "/v1/ledgers", query={"owner_id": random_owner()})

    # THEN the page is empty and final
    assert reply.status == 200
    assert reply.json == {"items": [], "next_cursor": None}
