"""The key store on its own: what it refuses, and what it keeps."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.auth.access import Scope
from ledger.auth.api_keys import KeyStatus, Role
from ledger.domain.errors import IdempotencyKeyReused, NotFound, ValidationError

from .builders import new_ledger
from .harness import Api, random_key


def test_revoking_an_unknown_key_is_not_found(api: Api) -> None:
    # GIVEN an id no key has
    # WHEN revoking it
    with pytest.raises(NotFound) as raised:
        api.key_store.revoke("key_00000000000000000000")
    # THEN the key is named as missing
    assert raised.value.details == {"resource": "api_key", "id": "key_00000000000000000000"}


@pytest.mark.parametrize("secret", ["short", "sixteen chars ok", "x" * 15])
def test_a_chosen_secret_must_be_long_and_without_spaces(api: Api, secret: str) -> None:
    # GIVEN a secret that is short or has a space
    # WHEN creating a key with it
    with pytest.raises(ValidationError) as raised:
        api.key_store.create(Role.ADMIN, secret=secret)
    # THEN it is refused
    assert raised.value.field == "key"


def test_the_same_secret_twice_is_refused_and_ensure_finds_the_first(api: Api) -> None:
    # GIVEN a key made with a chosen secret
    secret = random_key() + "-chosen-secret"
    first = api.key_store.ensure(secret)
    # WHEN the same secret is created again, or ensured again
    with pytest.raises(ValidationError):
        api.key_store.create(Role.READER, secret=secret)
    again = api.key_store.ensure(secret)
    # THEN the first key stands, as it was
    assert again == first
    assert (first.role, first.status) == (Role.ADMIN, KeyStatus.ACTIVE)


def test_an_idempotency_key_makes_one_key_and_refuses_the_repeat(api: Api) -> None:
    # GIVEN a key created under an idempotency key
    idempotency_key = random_key()
    key, _ = api.key_store.create(Role.READER, created_by="key_a", idempotency_key=idempotency_key)
    # WHEN the same creator repeats it
    with pytest.raises(IdempotencyKeyReused):
        api.key_store.create(Role.READER, created_by="key_a", idempotency_key=idempotency_key)
    # THEN the first key is the only one under that id
    assert api.key_store.get(key.id) == key


@pytest.mark.parametrize(
    ("ledger_ids", "message"),
    [(["ldg_bad"], "is not a ledger id"), ([5], "is not a ledger id"), ("ldg_x", "a list")],
)
def test_a_scope_must_name_ledgers(api: Api, ledger_ids: object, message: str) -> None:
    # GIVEN a scope that is not a list of ledger ids
    # WHEN creating a key with it
    with pytest.raises(ValidationError, match=message) as raised:
        api.key_store.create(Role.READER, ledger_ids=ledger_ids)  # type: ignore[arg-type]
    # THEN the field is named
    assert raised.value.field == "ledger_ids"


def test_the_owner_cache_forgets_everything_when_full(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a scope whose cache holds one owner at most, and two ledgers of two owners
    monkeypatch.setattr("ledger.domain.limits.ledger_owner_cache_max", 1)
    reads: list[str] = []
    library = api.library(clock=lambda: datetime.now(UTC))

    def owner_of(ledger_id: str) -> str | None:
        reads.append(ledger_id)
        return library.get_ledger(ledger_id).owner_id

    scope = Scope(owner_of)
    first, second = new_ledger(api, owner_id="one"), new_ledger(api, owner_id="two")
    # WHEN asking for the first, the second, then the first again
    owners = [scope.owner(first), scope.owner(second), scope.owner(first)]
    # THEN the owners are right, and the first was read again after the cache was cleared
    assert owners == ["one", "two", "one"]
    assert reads == [first, second, first]
