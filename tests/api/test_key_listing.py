"""API keys listed and read through the API: records only, never a secret; an admin scoped
to some ledgers or an owner sees only the keys within its scope."""

from __future__ import annotations

from typing import Any

import pytest

from .builders import new_ledger
from .harness import Api, Keys, random_owner

record_fields = {"id", "role", "ledger_ids", "owner_id", "status", "created_at"}


def listed(api: Api, key: str, **query: str | int) -> tuple[list[dict[str, Any]], str | None]:
    reply = api.call("GET", "/v1/api-keys", key=key, query=query)
    assert reply.status == 200, reply.json
    return reply.json["items"], reply.json["next_cursor"]


def test_an_admin_lists_the_keys_of_its_scope_oldest_first_in_pages(api: Api, keys: Keys) -> None:
    # GIVEN an admin scoped to one ledger, and three keys it created there
    ledger_id = new_ledger(api)
    admin = keys.of("admin", ledger_ids=[ledger_id])
    created = [
        api.call("POST", "/v1/api-keys", {"role": role, "ledger_ids": [ledger_id]}, key=admin).json
        for role in ("reader", "operator", "reader")
    ]

    # WHEN it lists them two at a time
    first, cursor = listed(api, admin, limit=2)
    assert cursor is not None
    second, _ = listed(api, admin, limit=2, cursor=cursor)

    # THEN it sees itself, then the three, oldest first, each a record without its secret
    items = first + second
    assert [item["id"] for item in items[1:]] == [key["id"] for key in created]
    assert items[0]["role"] == "admin"
    assert items[0]["ledger_ids"] == [ledger_id]
    assert all(set(item) == record_fields for item in items)
    assert items[1:] == [{name: key[name] for name in record_fields} for key in created]
    assert all(key["key"] not in repr(items) for key in created)


def test_a_key_is_read_by_id_and_a_revoked_one_says_so(api: Api) -> None:
    # GIVEN a key, revoked
    created = api.call("POST", "/v1/api-keys", {"role": "operator"}).json
    api.call("DELETE", f"/v1/api-keys/{created['id']}")

    # WHEN an admin reads it
    reply = api.call("GET", f"/v1/api-keys/{created['id']}")

    # THEN it is its record, revoked, without the secret
    assert reply.status == 200
    assert reply.json == {
        **{name: created[name] for name in record_fields},
        "status": "revoked",
    }


def test_a_scoped_admin_neither_lists_nor_reads_keys_outside_its_scope(
    api: Api, keys: Keys
) -> None:
    # GIVEN keys of two ledgers, an owner's key and an unscoped key
    mine, theirs = new_ledger(api), new_ledger(api)
    admin = keys.of("admin", ledger_ids=[mine])
    inside = api.call(
        "POST", "/v1/api-keys", {"role": "reader", "ledger_ids": [mine]}, key=admin
    ).json
    other_admin = keys.of("admin", ledger_ids=[theirs])
    outside = [
        api.call(
            "POST", "/v1/api-keys", {"role": "reader", "ledger_ids": [theirs]}, key=other_admin
        ).json,
        api.call("POST", "/v1/api-keys", {"role": "reader", "owner_id": random_owner()}).json,
        api.call("POST", "/v1/api-keys", {"role": "reader"}).json,
    ]

    # WHEN the admin scoped to its ledger lists and reads keys
    items, _ = listed(api, admin, limit=100)
    readings = [api.call("GET", f"/v1/api-keys/{key['id']}", key=admin) for key in outside]

    # THEN it sees only the keys of its ledger, and the others are not found
    assert {item["id"] for item in items} >= {inside["id"]}
    assert all(item["ledger_ids"] == [mine] for item in items)
    for key, reading in zip(outside, readings, strict=True):
        assert reading.error() == (404, "not_found", {"resource": "api_key", "id": key["id"]})
    assert api.call("GET", f"/v1/api-keys/{inside['id']}", key=admin).status == 200


def test_an_owner_scoped_admin_lists_only_its_owners_keys(api: Api, keys: Keys) -> None:
    # GIVEN an admin scoped to an owner, one key of that owner and one of another
    owner = random_owner()
    admin = keys.of("admin", owner_id=owner)
    own = api.call("POST", "/v1/api-keys", {"role": "reader"}, key=admin).json
    api.call("POST", "/v1/api-keys", {"role": "reader", "owner_id": random_owner()})

    # WHEN it lists keys
    items, _ = listed(api, admin, limit=100)

    # THEN every key it sees is its owner's, its new key among them
    assert own["id"] in {item["id"] for item in items}
    assert {item["owner_id"] for item in items} == {owner}


def test_an_unknown_key_id_is_not_found(api: Api) -> None:
    # GIVEN / WHEN an id no key has is read
    reply = api.call("GET", "/v1/api-keys/key_00000000000000000000")

    # THEN it is 404 naming it
    assert reply.error() == (
        404,
        "not_found",
        {"resource": "api_key", "id": "key_00000000000000000000"},
    )


@pytest.mark.parametrize("role", ["reader", "operator"])
def test_only_an_admin_lists_or_reads_keys(api: Api, keys: Keys, role: str) -> None:
    # GIVEN a key below admin, and a key to read
    caller = keys.of(role)
    key_id = api.call("POST", "/v1/api-keys", {"role": "reader"}).json["id"]

    # WHEN it lists or reads keys
    listing = api.call("GET", "/v1/api-keys", key=caller)
    reading = api.call("GET", f"/v1/api-keys/{key_id}", key=caller)

    # THEN both are forbidden
    for reply in (listing, reading):
        assert reply.error() == (403, "forbidden", {"role": role, "required": "admin"})


@pytest.mark.parametrize(
    ("query", "field"),
    [({"cursor": "not-a-cursor"}, "cursor"), ({"limit": 0}, "limit"), ({"limit": 101}, "limit")],
)
def test_a_bad_limit_or_cursor_is_a_validation_error(
    api: Api, query: dict[str, str | int], field: str
) -> None:
    # GIVEN / WHEN keys are listed with a limit out of range or a cursor no listing gave
    reply = api.call("GET", "/v1/api-keys", query=query)

    # THEN it is 400 naming the field
    status, code, details = reply.error()
    assert (status, code) == (400, "validation_error")
    assert field in repr(details)


@pytest.mark.parametrize(
    "key_id",
    [
        pytest.param("key_" + "0" * 3000, id="longer-than-a-table-key"),
        pytest.param("key_0123", id="too-short"),
        pytest.param("KEY_0123456789ABCDEF0123", id="not-lower-hex"),
    ],
)
def test_an_id_no_key_can_have_is_not_found_to_read_or_revoke(api: Api, key_id: str) -> None:
    # GIVEN / WHEN an id of a shape no key has is read or revoked
    replies = [api.call(method, f"/v1/api-keys/{key_id}") for method in ("GET", "DELETE")]

    # THEN both are 404 naming it, never a 500 from the table
    for reply in replies:
        assert reply.error() == (404, "not_found", {"resource": "api_key", "id": key_id})


def test_a_key_listing_cursor_opens_only_for_the_admin_it_was_given_to(
    api: Api, keys: Keys
) -> None:
    # GIVEN two admins of one ledger, and a cursor from the first one's key listing
    ledger_id = new_ledger(api)
    first_admin = keys.of("admin", ledger_ids=[ledger_id])
    second_admin = keys.of("admin", ledger_ids=[ledger_id, new_ledger(api)])
    for _ in range(2):
        api.call("POST", "/v1/api-keys", {"role": "reader", "ledger_ids": [ledger_id]})
    _, cursor = listed(api, first_admin, limit=1)
    assert cursor is not None

    # WHEN the second admin pages on with it
    reply = api.call("GET", "/v1/api-keys", key=second_admin, query={"cursor": cursor})

    # THEN it is refused as a cursor this listing did not return, naming no key
    assert reply.status == 400
    assert reply.json["error"]["code"] == "validation_error"
    assert reply.json["error"]["details"]["field"] == "cursor"
    assert listed(api, first_admin, limit=1, cursor=cursor)[0] != []
