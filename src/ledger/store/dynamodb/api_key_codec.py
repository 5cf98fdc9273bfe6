"""The table items of an API key and their codec (item <-> ApiKey).

Two items per key: `KEY#<sha256 of the secret>` holds the record, so the authorizer finds a
key with one GetItem; `KEYID#<id>` leads from the id to the digest, and carries the listing
index keys (on gsi1), so a listing cursor names a key id, never a digest. Imported alone by
the authorizer: the standard library and the table's timestamp format only.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from ledger.domain.api_keys import ApiKey, KeyStatus, Role
from ledger.domain.timestamps import timestamp

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    Item = dict[str, AttributeValueTypeDef]

# Every key's id item sits in this gsi1 partition, sorted by creation: a listing of all keys.
listing_index = "gsi1"
listing_partition = "API_KEYS"
listing_prefix = "KEY#"


def key_item_key(key_digest: str) -> Item:
    """The primary key of the item holding a key's record, named by its secret's digest."""
    return {"pk": {"S": f"KEY#{key_digest}"}, "sk": {"S": "KEY"}}


def id_item_key(key_id: str) -> Item:
    """The primary key of the item that leads from a key's id to its digest."""
    return {"pk": {"S": f"KEYID#{key_id}"}, "sk": {"S": "KEYID"}}


def listing_sort(key: ApiKey) -> str:
    """A key's sort key in the listing: creation time, then id."""
    return f"{listing_prefix}{timestamp(key.created_at)}#{key.id}"


def encode(key: ApiKey) -> Item:
    """The record item of a key (its primary key aside)."""
    item: Item = {
        "key_id": {"S": key.id},
        "role": {"S": key.role.value},
        "ledger_ids": {"L": [{"S": ledger_id} for ledger_id in key.ledger_ids]},
        "status": {"S": key.status.value},
        "created_at": {"S": timestamp(key.created_at)},
    }
    if key.owner_id is not None:
        item["owner_id"] = {"S": key.owner_id}
    if key.created_by is not None:
        item["created_by"] = {"S": key.created_by}
    return item


def encode_id_item(key: ApiKey, key_digest: str) -> Item:
    """The id item of a key: its digest, and its place in the listing."""
    return {
        **id_item_key(key.id),
        "digest": {"S": key_digest},
        f"{listing_index}pk": {"S": listing_partition},
        f"{listing_index}sk": {"S": listing_sort(key)},
    }


def decode(item: Item) -> ApiKey:
    """The key a record item holds. Times written before the one format are read too."""
    owner = item.get("owner_id")
    creator = item.get("created_by")
    return ApiKey(
        id=item["key_id"]["S"],
        role=Role(item["role"]["S"]),
        ledger_ids=tuple(value["S"] for value in item["ledger_ids"]["L"]),
        owner_id=None if owner is None else owner["S"],
        status=KeyStatus(item["status"]["S"]),
        created_at=datetime.fromisoformat(item["created_at"]["S"]),
        created_by=None if creator is None else creator["S"],
    )
