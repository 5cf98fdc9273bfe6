"""API keys through the API: created once with their secret, revoked for good."""

from __future__ import annotations

from .builders import is_moment, new_ledger
from .harness import Api, Keys, random_owner


def test_an_admin_creates_a_key_whose_secret_works_at_once(api: Api) -> None:
    # GIVEN a ledger
    ledger_id = new_ledger(api)

    # WHEN an admin creates a reader key for it
    reply = api.call("POST", "/v1/api-keys", {"role": "reader", "ledger_ids": [ledger_id]})

    # THEN the key is answered with its secret, shown this once
    assert reply.status == 201
    assert reply.json == {
        "id": reply.json["id"],
        "role": "reader",
        "ledger_ids": [ledger_id],
        "owner_id": None,
        "status": "active",
        "created_at": reply.json["created_at"],
        "key": reply.json["key"],
    }
    assert reply.json["id"].startswith("key_")
    assert reply.json["key"].startswith("lk_")
    assert is_moment(reply.json["created_at"])
    assert api.call("GET", f"/v1/ledgers/{ledger_id}", key=reply.json["key"]).status == 200


def test_the_secret_is_not_stored(api: Api) -> None:
    # GIVEN a created key
    secret = api.call("POST", "/v1/api-keys", {"role": "operator"}).json["key"]

    # WHEN the table is searched for the secret
    stored = repr(api.state())

    # THEN it is nowhere
    assert secret not in stored


def test_an_owner_scoped_admin_creates_keys_of_its_own_owner(api: Api, keys: Keys) -> None:
    # GIVEN an admin key scoped to an owner
    owner = random_owner()
    admin = keys.of("admin", owner_id=owner)

    # WHEN it creates a key without naming an owner
    reply = api.call("POST", "/v1/api-keys", {"role": "operator"}, key=admin)

    # THEN the new key has the creator's owner
    assert reply.status == 201
    assert (reply.json["role"], reply.json["owner_id"], reply.json["ledger_ids"]) == (
        "operator",
        owner,
        [],
    )


def test_a_ledger_scoped_admin_creates_keys_for_its_ledgers(api: Api, keys: Keys) -> None:
    # GIVEN an admin key scoped to two ledgers
    first, second = new_ledger(api), new_ledger(api)
    admin = keys.of("admin", ledger_ids=[first, second])

    # WHEN it creates a key for one of them
    reply = api.call("POST", "/v1/api-keys", {"role": "reader", "ledger_ids": [second]}, key=admin)

    # THEN it is created with that one
    assert (reply.status, reply.json["ledger_ids"]) == (201, [second])


def test_revoking_a_key_answers_its_record_and_it_stops_working_at_once(api: Api) -> None:
    # GIVEN a working operator key
    created = api.call("POST", "/v1/api-keys", {"role": "operator"}).json
    ledger_id = new_ledger(api)
    assert api.call("GET", f"/v1/ledgers/{ledger_id}", key=created["key"]).status == 200

    # WHEN an admin revokes it
    reply = api.call("DELETE", f"/v1/api-keys/{created['id']}")

    # THEN the record comes back revoked, never with the secret, and the next request is 401
    assert reply.status == 200
    assert reply.json == {
        "id": created["id"],
        "role": "operator",
        "ledger_ids": [],
        "owner_id": None,
        "status": "revoked",
        "created_at": created["created_at"],
    }
    refused = api.call("GET", f"/v1/ledgers/{ledger_id}", key=created["key"])
    assert refused.error() == (401, "unauthorized", {})
    assert refused.json["error"]["message"] == "the API key is not valid"


def test_revoking_a_revoked_key_changes_nothing(api: Api) -> None:
    # GIVEN a revoked key
    key_id = api.call("POST", "/v1/api-keys", {"role": "reader"}).json["id"]
    first = api.call("DELETE", f"/v1/api-keys/{key_id}")

    # WHEN it is revoked again
    with api.nothing_written():
        again = api.call("DELETE", f"/v1/api-keys/{key_id}")

    # THEN the same record comes back
    assert (again.status, again.json) == (200, first.json)
