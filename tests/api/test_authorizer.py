"""The authorizer alone: a Bearer key becomes a context; anything else, a refusal in it."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from .builders import new_ledger
from .harness import Api, random_owner

bearer_hint = "send the API key as 'Authorization: Bearer <key>'"
not_valid = "the API key is not valid"


def authorize(api: Api, headers: dict[str, str]) -> dict[str, Any]:
    """The authorizer's answer for a GET with these headers, as API Gateway asks for it."""
    api.call("GET", "/v1/health", key=None, headers=headers)
    return api.authorize(api.last_event)


def test_a_valid_admin_key_gives_its_role_and_an_empty_scope(api: Api) -> None:
    # GIVEN an unscoped admin key
    key, secret = api.key_store.create("admin")

    # WHEN the authorizer sees it
    answer = authorize(api, {"Authorization": f"Bearer {secret}"})

    # THEN it allows the request and passes the key's id, role and empty scope
    assert answer == {
        "isAuthorized": True,
        "context": {
            "authenticated": "true",
            "key_id": key.id,
            "role": "admin",
            "ledger_ids": "",
            "owner_id": "",
        },
    }


def test_a_scoped_key_gives_its_ledgers_sorted_and_its_owner(api: Api) -> None:
    # GIVEN a reader key scoped to two ledgers and an owner
    owner = random_owner()
    first, second = sorted([new_ledger(api, owner), new_ledger(api, owner)])
    key, secret = api.key_store.create("reader", ledger_ids=[second, first], owner_id=owner)

    # WHEN the authorizer sees it
    answer = authorize(api, {"Authorization": f"Bearer {secret}"})

    # THEN the context carries the scope as strings
    assert answer["context"] == {
        "authenticated": "true",
        "key_id": key.id,
        "role": "reader",
        "ledger_ids": f"{first},{second}",
        "owner_id": owner,
    }


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "BEARER"])
def test_the_scheme_is_case_insensitive_and_spaces_around_the_key_are_ignored(
    api: Api, scheme: str
) -> None:
    # GIVEN an operator key
    key, secret = api.key_store.create("operator")

    # WHEN it is sent with the scheme in any case and padded with spaces
    answer = authorize(api, {"Authorization": f"{scheme}   {secret}  "})

    # THEN it is accepted
    assert answer["context"]["authenticated"] == "true"
    assert answer["context"]["key_id"] == key.id


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({}, bearer_hint),
        ({"Authorization": ""}, bearer_hint),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, bearer_hint),
        ({"Authorization": "Bearer"}, bearer_hint),
        ({"Authorization": "Bearer "}, not_valid),
        ({"Authorization": "Bearer lk_nobody-issued-this-key"}, not_valid),
        ({"X-Api-Key": "lk_nobody-issued-this-key"}, bearer_hint),
    ],
)
def test_a_missing_or_unknown_key_is_refused_in_the_context(
    api: Api, headers: dict[str, str], reason: str
) -> None:
    # GIVEN / WHEN the authorizer sees no usable key
    answer = authorize(api, headers)

    # THEN it lets the request through, saying it is not authenticated and why
    assert answer == {"isAuthorized": True, "context": {"authenticated": "false", "reason": reason}}


def test_a_revoked_key_is_refused_as_an_unknown_one_and_only_the_log_says_why(
    api: Api, caplog: pytest.LogCaptureFixture
) -> None:
    # GIVEN a revoked key, and a key nobody issued
    key, secret = api.key_store.create("admin")
    api.key_store.revoke(key.id)

    # WHEN the authorizer sees each
    with caplog.at_level(logging.WARNING, logger="ledger.auth.authorizer"):
        revoked = authorize(api, {"Authorization": f"Bearer {secret}"})
        unknown = authorize(api, {"Authorization": "Bearer lk_nobody-issued-this-key"})

    # THEN the caller gets the same answer for both, which does not say revoked
    assert revoked == unknown
    assert revoked["context"] == {"authenticated": "false", "reason": not_valid}
    # AND the log tells them apart, naming the revoked key's id
    messages = [record.getMessage() for record in caplog.records]
    assert f"API key refused: {key.id} is revoked" in messages
    assert "API key refused: unknown" in messages


def test_a_key_longer_than_512_characters_is_refused_unread(api: Api) -> None:
    # GIVEN stored keys whose secrets are 512 and 513 characters long
    _, longest = api.key_store.create("reader", secret="k" * 511 + "a")
    _, too_long = api.key_store.create("reader", secret="k" * 512 + "b")

    # WHEN the authorizer sees each
    accepted = authorize(api, {"Authorization": f"Bearer {longest}"})
    refused = authorize(api, {"Authorization": f"Bearer {too_long}"})

    # THEN the 512-character one works, the longer one is refused without a lookup
    assert accepted["context"]["authenticated"] == "true"
    assert refused["context"] == {"authenticated": "false", "reason": not_valid}


def test_an_enormous_authorization_header_is_refused(api: Api) -> None:
    # GIVEN / WHEN a header of 100 000 characters
    answer = authorize(api, {"Authorization": "Bearer " + "x" * 100_000})

    # THEN it is refused like any unknown key
    assert answer["context"] == {"authenticated": "false", "reason": not_valid}


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, bearer_hint),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, bearer_hint),
        ({"Authorization": "Bearer lk_nobody-issued-this-key"}, not_valid),
        ({"Authorization": "Bearer " + "x" * 600}, not_valid),
    ],
)
def test_the_api_answers_a_refused_key_with_401_and_the_reason(
    api: Api, headers: dict[str, str], message: str
) -> None:
    # GIVEN / WHEN a request the authorizer refuses reaches the API
    reply = api.call("GET", f"/v1/ledgers/{new_ledger(api)}", key=None, headers=headers)

    # THEN it is 401 with the authorizer's reason as message
    assert reply.error() == (401, "unauthorized", {})
    assert reply.json["error"]["message"] == message
    assert reply.headers["X-Request-Id"] == reply.request_id


def test_a_key_revoked_through_the_api_is_refused_on_the_next_request(api: Api) -> None:
    # GIVEN a key that has just worked
    created = api.call("POST", "/v1/api-keys", {"role": "admin"}).json
    ledger_id = new_ledger(api)
    assert api.call("GET", f"/v1/ledgers/{ledger_id}", key=created["key"]).status == 200

    # WHEN it is revoked, by itself
    assert api.call("DELETE", f"/v1/api-keys/{created['id']}", key=created["key"]).status == 200

    # THEN the very next request with it is 401
    reply = api.call("GET", f"/v1/ledgers/{ledger_id}", key=created["key"])
    assert reply.error() == (401, "unauthorized", {})
    assert reply.json["error"]["message"] == not_valid
