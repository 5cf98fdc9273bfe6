"""Listing cursors over HTTP: sealed, and good only for the key and the listing that got them."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from .builders import deposit, new_account, new_ledger
from .harness import Api, Keys, Reply, random_owner


def _listed(api: Api, path: str, query: dict[str, Any], key: str, cursor: str | None) -> Reply:
    page_query = query if cursor is None else {**query, "cursor": cursor}
    return api.call("GET", path, query=page_query, key=key)


def _cursor_of(api: Api, path: str, query: dict[str, Any], key: str) -> str:
    reply = _listed(api, path, {**query, "limit": 1}, key, None)
    assert reply.status == 200, reply.json
    cursor = reply.json["next_cursor"]
    assert isinstance(cursor, str)
    return cursor


def _refused_cursor(reply: Reply) -> None:
    assert reply.error() == (400, "validation_error", {"field": "cursor"})


@pytest.fixture(scope="module")
def owner(api: Api) -> tuple[str, list[str]]:
    """An owner with two ledgers, each with an account and a deposit."""
    owner_id = random_owner()
    ledger_ids = [new_ledger(api, owner_id) for _ in range(2)]
    for ledger_id in ledger_ids:
        deposit(api, new_account(api, ledger_id), "5")
        deposit(api, new_account(api, ledger_id), "5")
    return owner_id, ledger_ids


def test_a_cursor_shows_no_id_time_or_key(
    api: Api, keys: Keys, owner: tuple[str, list[str]]
) -> None:
    # GIVEN the owner's ledgers listed one at a time
    owner_id, ledger_ids = owner
    cursor = _cursor_of(api, "/v1/ledgers", {"owner_id": owner_id}, keys.reader)

    # WHEN the cursor is read as text and as base64
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))

    # THEN neither names the ledger, its owner, its creation time or any table key
    created = api.call("GET", f"/v1/ledgers/{ledger_ids[0]}").json["created_at"]
    for hidden in (ledger_ids[0], ledger_ids[0].split("_", 1)[1], owner_id, created[:10]):
        assert hidden not in cursor
        assert hidden.encode() not in raw
    assert b"LEDGER" not in raw
    assert b"OWNER" not in raw


def test_another_key_cannot_replay_a_cursor(
    api: Api, keys: Keys, owner: tuple[str, list[str]]
) -> None:
    # GIVEN a cursor handed to one reader key, and a second key of the same role and scope
    owner_id, _ = owner
    cursor = _cursor_of(api, "/v1/ledgers", {"owner_id": owner_id}, keys.reader)
    _, other = api.key_store.create("reader")

    # WHEN the other key brings it back for the same listing
    reply = _listed(api, "/v1/ledgers", {"owner_id": owner_id}, other, cursor)

    # THEN it is refused, while the key it was for gets the next page
    _refused_cursor(reply)
    own = _listed(api, "/v1/ledgers", {"owner_id": owner_id}, keys.reader, cursor)
    assert own.status == 200, own.json
    assert len(own.json["items"]) == 1


def test_a_cursor_cannot_be_moved_to_another_listing_or_ledger(
    api: Api, keys: Keys, owner: tuple[str, list[str]]
) -> None:
    # GIVEN a cursor of one ledger's accounts and one of its entries
    owner_id, (first, second) = owner
    accounts = _cursor_of(api, "/v1/accounts", {"ledger_id": first}, keys.reader)
    entries = _cursor_of(api, "/v1/entries", {"ledger_id": first}, keys.reader)

    # WHEN each is used for another listing, or for the same listing of another ledger
    moved = [
        ("/v1/entries", {"ledger_id": first}, accounts),
        ("/v1/accounts", {"ledger_id": first}, entries),
        ("/v1/accounts", {"ledger_id": second}, accounts),
        ("/v1/entries", {"ledger_id": second}, entries),
        ("/v1/accounts", {"ledger_id": first, "type": "liability"}, accounts),
        ("/v1/ledgers", {"owner_id": owner_id}, accounts),
    ]

    # THEN every one is refused on `cursor`
    for path, query, cursor in moved:
        _refused_cursor(_listed(api, path, query, keys.reader, cursor))


def test_a_tampered_cursor_is_refused(api: Api, keys: Keys, owner: tuple[str, list[str]]) -> None:
    # GIVEN a genuine cursor of an account listing
    _, (first, _) = owner
    cursor = _cursor_of(api, "/v1/accounts", {"ledger_id": first}, keys.reader)
    flipped = "A" if cursor[10] != "A" else "B"

    # WHEN one character is changed, it is cut short, or something is appended
    tampered = [cursor[:10] + flipped + cursor[11:], cursor[:-2], cursor + "AAAA"]

    # THEN each is a 400 on `cursor`, and the genuine one still works
    for bad in tampered:
        _refused_cursor(_listed(api, "/v1/accounts", {"ledger_id": first}, keys.reader, bad))
    genuine = _listed(api, "/v1/accounts", {"ledger_id": first}, keys.reader, cursor)
    assert genuine.status == 200, genuine.json
