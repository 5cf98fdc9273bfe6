"""API keys on DynamoDB Local: the items a key is, its conditions as DynamoDB evaluates them,
revocation, and the listing on the real index."""

from __future__ import annotations

import re
import secrets
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from ledger.auth.api_keys import KeyStore
from ledger.domain.api_keys import KeyStatus, Role, digest
from ledger.domain.errors import IdempotencyKeyReused, NotFound, ValidationError

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

one_format = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


class Ticking:
    """A clock one second further on each call."""

    def __init__(self) -> None:
        self.now = datetime(2026, 5, 6, 7, 8, 9, tzinfo=UTC)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def every_item(client: DynamoDBClient, table: str) -> dict[str, dict[str, Any]]:
    items = client.scan(TableName=table, ConsistentRead=True)["Items"]
    return {item["pk"]["S"]: dict(item) for item in items}


def test_a_key_is_two_items_and_a_taken_secret_or_id_is_refused_writing_nothing(
    dynamodb_client: DynamoDBClient, local_table: str
) -> None:
    # GIVEN an empty table and a key made under an idempotency key
    keys = KeyStore(local_table, dynamodb_client)
    idempotency_key = secrets.token_hex(6)
    key, secret = keys.create("reader", created_by="key_a", idempotency_key=idempotency_key)
    written = every_item(dynamodb_client, local_table)

    # WHEN its secret is used again, and its idempotency key by the same creator
    with pytest.raises(ValidationError) as secret_taken:
        keys.create("admin", secret=secret)
    with pytest.raises(IdempotencyKeyReused):
        keys.create("reader", created_by="key_a", idempotency_key=idempotency_key)

    # THEN both are refused by DynamoDB's conditions, and the table is as it was
    assert secret_taken.value.field == "key"
    assert every_item(dynamodb_client, local_table) == written
    # AND the key is its record under the digest and an id item in the listing
    record, pointer = written[f"KEY#{digest(secret)}"], written[f"KEYID#{key.id}"]
    assert one_format.match(record["created_at"]["S"])
    assert pointer["digest"] == {"S": digest(secret)}
    assert pointer["gsi1pk"] == {"S": "API_KEYS"}
    assert len(written) == 2


def test_revoking_keeps_the_first_time_and_a_key_whose_record_is_gone_is_not_found(
    dynamodb_client: DynamoDBClient, local_table: str
) -> None:
    # GIVEN two keys
    keys = KeyStore(local_table, dynamodb_client, clock=Ticking())
    kept, secret = keys.create("operator")
    lost, lost_secret = keys.create("operator")

    # WHEN one is revoked twice, and the other's record is deleted before it is revoked
    keys.revoke(kept.id)
    first = every_item(dynamodb_client, local_table)[f"KEY#{digest(secret)}"]["revoked_at"]
    again = keys.revoke(kept.id)
    dynamodb_client.delete_item(
        TableName=local_table, Key={"pk": {"S": f"KEY#{digest(lost_secret)}"}, "sk": {"S": "KEY"}}
    )

    # THEN the first revocation's time stands, in the table's format
    assert again.status is KeyStatus.REVOKED
    assert keys.find(secret) == again
    revoked_at = every_item(dynamodb_client, local_table)[f"KEY#{digest(secret)}"]["revoked_at"]
    assert revoked_at == first
    assert one_format.match(first["S"])
    # AND the key without a record is not found, by its id or to revoke, and writes nothing
    for action in (keys.get, keys.revoke):
        with pytest.raises(NotFound):
            action(lost.id)
    assert f"KEY#{digest(lost_secret)}" not in every_item(dynamodb_client, local_table)


def test_keys_are_listed_from_the_index_in_pages_filtered_inside_the_listing(
    dynamodb_client: DynamoDBClient, local_table: str
) -> None:
    # GIVEN an empty table, which lists nothing, then four keys, two of them admins
    keys = KeyStore(local_table, dynamodb_client, clock=Ticking())
    empty = keys.list_keys()
    assert (empty.items, empty.next_cursor) == ([], None)
    made = [keys.create(role)[0] for role in ("admin", "reader", "admin", "reader")]

    # WHEN all are listed three at a time, and the admins one at a time
    first = keys.list_keys(limit=3)
    rest = keys.list_keys(limit=3, cursor=first.next_cursor)
    admins = [keys.list_keys(limit=1, within=lambda key: key.role is Role.ADMIN)]
    while admins[-1].next_cursor is not None:
        cursor = admins[-1].next_cursor
        admins.append(keys.list_keys(limit=1, cursor=cursor, within=lambda k: k.role is Role.ADMIN))

    # THEN every key comes once, oldest first, and the filter kept the admins in order
    assert first.items + rest.items == made
    assert rest.next_cursor is None
    assert [key for page in admins for key in page.items] == [made[0], made[2]]


def test_an_id_no_key_can_have_is_not_found_without_reaching_the_table(
    dynamodb_client: DynamoDBClient, local_table: str
) -> None:
    # GIVEN an id longer than DynamoDB allows a key to be, and one of the wrong shape
    keys = KeyStore(local_table, dynamodb_client)
    for key_id in ("key_" + "0" * 3000, "key_0123"):
        # WHEN it is read or revoked / THEN it is not found, not DynamoDB's refusal
        for action in (keys.get, keys.revoke):
            with pytest.raises(NotFound):
                action(key_id)
