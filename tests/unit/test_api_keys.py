"""Key management over the store in memory, and the codec of a key's table items."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from unit_builders import a_ledger_id

from ledger.auth.api_keys import ApiKeys
from ledger.domain import limits
from ledger.domain.api_keys import ApiKey, KeyStatus, Role, digest
from ledger.domain.errors import IdempotencyKeyReused, NotFound, ValidationError
from ledger.store.api_keys import MemoryApiKeyStore, listing
from ledger.store.dynamodb.api_key_codec import decode, encode, encode_id_item, listing_sort

start = datetime(2026, 3, 4, 5, 6, 7, 89, tzinfo=UTC)


class Ticking:
    """A clock one millisecond further on each call."""

    def __init__(self) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


def memory_keys() -> ApiKeys:
    return ApiKeys(MemoryApiKeyStore(), clock=Ticking())


def a_key(**changes: object) -> ApiKey:
    fields: dict[str, object] = {
        "id": f"key_{secrets.token_hex(10)}",
        "role": Role.OPERATOR,
        "ledger_ids": (a_ledger_id(), a_ledger_id()),
        "owner_id": "owner-1",
        "status": KeyStatus.ACTIVE,
        "created_at": start,
        "created_by": "key_creator",
    }
    fields.update(changes)
    return ApiKey(**fields)  # type: ignore[arg-type]


# --- the codec ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", [a_key(), a_key(owner_id=None, created_by=None, ledger_ids=(), role=Role.ADMIN)]
)
def test_a_key_survives_its_item_and_its_time_is_the_tables_format(key: ApiKey) -> None:
    # GIVEN a key / WHEN encoded and decoded
    item = encode(key)

    # THEN it is the same key, its creation time fixed-width UTC ending in Z
    assert decode(item) == key
    assert item["created_at"] == {"S": "2026-03-04T05:06:07.000089Z"}
    assert ("owner_id" in item, "created_by" in item) == (
        key.owner_id is not None,
        key.created_by is not None,
    )


def test_a_record_written_before_the_one_format_is_still_read() -> None:
    # GIVEN an item whose time was written as Python's isoformat
    key = a_key()
    item = encode(key)
    item["created_at"] = {"S": start.isoformat()}

    # WHEN decoded / THEN it is the same key
    assert decode(item) == key


def test_the_id_item_leads_to_the_digest_and_sorts_by_creation() -> None:
    # GIVEN a key and its digest
    key = a_key()
    key_digest = digest("lk_" + secrets.token_hex(8))

    # WHEN its id item is made
    item = encode_id_item(key, key_digest)

    # THEN it is named by the id, holds the digest, and sits in the listing by creation time
    assert item == {
        "pk": {"S": f"KEYID#{key.id}"},
        "sk": {"S": "KEYID"},
        "digest": {"S": key_digest},
        "gsi1pk": {"S": "API_KEYS"},
        "gsi1sk": {"S": f"KEY#2026-03-04T05:06:07.000089Z#{key.id}"},
    }
    assert listing_sort(key) < listing_sort(a_key(created_at=start + timedelta(microseconds=1)))


# --- management over the memory store ------------------------------------------------------


def test_a_created_key_is_found_by_its_secret_and_read_by_its_id() -> None:
    # GIVEN keys in memory
    keys = memory_keys()

    # WHEN one is created
    key, secret = keys.create("reader", ledger_ids=[a_ledger_id()], owner_id="owner-9")

    # THEN its secret finds it, its id reads it, and another secret finds nothing
    assert keys.find(secret) == key
    assert keys.get(key.id) == key
    assert keys.find(secret + "x") is None
    assert (key.role, key.status, key.owner_id) == (Role.READER, KeyStatus.ACTIVE, "owner-9")


def test_a_secret_or_an_idempotency_key_used_twice_is_refused() -> None:
    # GIVEN a key made with a chosen secret, and one made under an idempotency key
    keys = memory_keys()
    secret = "chosen-" + secrets.token_hex(8)
    first = keys.ensure(secret)
    idempotency_key = secrets.token_hex(6)
    made, _ = keys.create("reader", created_by="key_a", idempotency_key=idempotency_key)

    # WHEN either is repeated
    # THEN the secret is refused as existing, the idempotency key as reused
    with pytest.raises(ValidationError) as existing:
        keys.create("reader", secret=secret)
    assert existing.value.field == "key"
    with pytest.raises(IdempotencyKeyReused):
        keys.create("reader", created_by="key_a", idempotency_key=idempotency_key)
    # AND ensure finds the first key; each key stands as it was
    assert keys.ensure(secret) == first
    assert keys.get(made.id) == made


def test_revoking_is_final_and_an_unknown_key_is_not_found() -> None:
    # GIVEN a key
    keys = memory_keys()
    key, secret = keys.create("admin")

    # WHEN it is revoked, twice
    revoked = keys.revoke(key.id)
    again = keys.revoke(key.id)

    # THEN it is revoked, found so by its secret; an unknown id is not found either way
    assert revoked == again
    assert revoked.status is KeyStatus.REVOKED
    assert keys.find(secret) == revoked
    for action in (keys.get, keys.revoke):
        with pytest.raises(NotFound) as raised:
            action("key_00000000000000000000")
        assert raised.value.details == {"resource": "api_key", "id": "key_00000000000000000000"}


def test_keys_are_listed_oldest_first_in_pages_and_filtered_inside_the_listing() -> None:
    # GIVEN five keys, two of them readers
    keys = memory_keys()
    made = [keys.create(role)[0] for role in ("reader", "admin", "admin", "reader", "admin")]

    # WHEN all are listed two at a time
    pages = [keys.list_keys(limit=2)]
    while pages[-1].next_cursor is not None:
        pages.append(keys.list_keys(limit=2, cursor=pages[-1].next_cursor))

    # THEN every key comes once, oldest first
    assert [key for page in pages for key in page.items] == made
    assert [len(page.items) for page in pages] == [2, 2, 1]

    # AND listing readers only keeps the filter inside the listing
    def readers(key: ApiKey) -> bool:
        return key.role is Role.READER

    first = keys.list_keys(limit=1, within=readers)
    second = keys.list_keys(limit=1, cursor=first.next_cursor, within=readers)
    assert [first.items, second.items] == [[made[0]], [made[3]]]
    assert keys.list_keys(limit=1, cursor=second.next_cursor, within=readers).items == []


def test_a_filtered_listing_examines_a_bounded_number_of_keys_per_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a bound of three keys examined per page, and four keys none of which is kept
    monkeypatch.setattr(limits, "index_items_examined_per_page_max", 3)
    keys = memory_keys()
    for _ in range(4):
        keys.create("reader")

    # WHEN listed with a filter that keeps nothing
    first = keys.list_keys(within=lambda key: False)
    second = keys.list_keys(cursor=first.next_cursor, within=lambda key: False)

    # THEN the first page stops at the bound with a cursor, the second ends the listing
    assert (first.items, second.items) == ([], [])
    assert first.next_cursor is not None
    assert second.next_cursor is None


def test_a_cursor_of_another_caller_or_tampered_and_a_bad_limit_are_refused() -> None:
    # GIVEN keys, and a cursor that one caller's listing returned
    keys = memory_keys()
    for _ in range(3):
        keys.create("reader")
    cursor_of_one = keys.list_keys(limit=1, caller="key-one").next_cursor
    assert cursor_of_one is not None

    # WHEN another caller, or no caller, presents it, or the cursor is altered
    # THEN each is refused, naming the field, while its own caller may page on
    assert len(keys.list_keys(limit=1, cursor=cursor_of_one, caller="key-one").items) == 1
    tampered = cursor_of_one[:-2] + ("AA" if cursor_of_one[-2:] != "AA" else "BB")
    for caller, cursor in (
        ("key-two", cursor_of_one),
        (None, cursor_of_one),
        ("key-one", tampered),
    ):
        with pytest.raises(ValidationError) as refusal:
            keys.list_keys(cursor=cursor, caller=caller)
        assert refusal.value.field == "cursor"
    for limit in (0, limits.page_size_max + 1):
        with pytest.raises(ValidationError) as bad_limit:
            keys.list_keys(limit=limit)
        assert bad_limit.value.field == "limit"
    assert listing.partition == "API_KEYS"
