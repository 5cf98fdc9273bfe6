"""API keys, stored only as the sha256 of the secret, each with a role and a scope."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ledger import limits, validate
from ledger.errors import IdempotencyKeyReused, NotFound, ValidationError
from ledger.ids import ledger_token
from ledger.store.dynamodb.store import default_client

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

secret_prefix = "lk_"
_secret_bytes = 32
_key_id_bytes = 10


class Role(StrEnum):
    """What a key may do: read; also move money; also manage keys, statuses and policies."""

    READER = "reader"
    OPERATOR = "operator"
    ADMIN = "admin"


class KeyStatus(StrEnum):
    """A key works while active; revoking it is final."""

    ACTIVE = "active"
    REVOKED = "revoked"


@dataclass(frozen=True)
class ApiKey:
    """A key's record: never its secret, only what the secret grants."""

    id: str
    role: Role
    ledger_ids: tuple[str, ...]
    owner_id: str | None
    status: KeyStatus
    created_at: datetime
    created_by: str | None = None


def digest(secret: str) -> str:
    """The sha256 of a key's secret: the only form in which the table holds it."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    """A fresh secret with 256 bits of randomness."""
    return secret_prefix + secrets.token_urlsafe(_secret_bytes)


def _key_item_key(key_digest: str) -> dict[str, AttributeValueTypeDef]:
    return {"pk": {"S": f"KEY#{key_digest}"}, "sk": {"S": "KEY"}}


def _key_id_item_key(key_id: str) -> dict[str, AttributeValueTypeDef]:
    # Revocation names a key by id; this item leads from the id to the digest.
    return {"pk": {"S": f"KEYID#{key_id}"}, "sk": {"S": "KEYID"}}


class KeyStore:
    """Creates, finds and revokes API keys in the ledger's table."""

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.table_name = table_name
        self.client = client or default_client()
        self._clock = clock

    def create(
        self,
        role: Role | str,
        *,
        ledger_ids: Sequence[str] = (),
        owner_id: str | None = None,
        created_by: str | None = None,
        secret: str | None = None,
        idempotency_key: str | None = None,
    ) -> tuple[ApiKey, str]:
        """A new key and its secret, which is shown once and never stored.

        With an idempotency key the key's id derives from it and its creator, so a retry
        cannot create a second key; it is refused, since the secret cannot be shown again.
        """
        key_id = "key_" + (
            secrets.token_hex(_key_id_bytes)
            if idempotency_key is None
            else hashlib.sha256(f"{created_by}\0{idempotency_key}".encode()).hexdigest()[:20]
        )
        key = ApiKey(
            id=key_id,
            role=validate.choice("role", Role, role),
            ledger_ids=_ledger_ids(ledger_ids),
            owner_id=validate.optional_text("owner_id", owner_id, limits.owner_id_length_max),
            status=KeyStatus.ACTIVE,
            created_at=self._clock(),
            created_by=created_by,
        )
        plain = new_secret() if secret is None else _given_secret(secret)
        key_digest = digest(plain)
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": {**_key_item_key(key_digest), **_encode(key)},
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": {
                                **_key_id_item_key(key.id),
                                "digest": {"S": key_digest},
                            },
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            if idempotency_key is not None:
                raise IdempotencyKeyReused(
                    "this idempotency key created a key already; "
                    "its secret was shown once and is not stored"
                ) from error
            raise ValidationError("key", "this key exists already") from error
        return key, plain

    def ensure(self, secret: str, role: Role = Role.ADMIN) -> ApiKey:
        """The key with this secret, created with `role` if the table has none (bootstrap)."""
        existing = self.find(secret)
        if existing is not None:
            return existing
        key, _ = self.create(role, secret=secret, created_by="bootstrap")
        return key

    def find(self, secret: str) -> ApiKey | None:
        """The key a secret belongs to, active or revoked; None if there is none."""
        response = self.client.get_item(
            TableName=self.table_name, Key=_key_item_key(digest(secret)), ConsistentRead=True
        )
        item = response.get("Item")
        return None if item is None else _decode(item)

    def get(self, key_id: str) -> ApiKey:
        """A key's record by id; NotFound if there is none."""
        return _decode(self._key_item(key_id))

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key for good; revoking a revoked key changes nothing."""
        item = self._key_item(key_id)
        response = self.client.update_item(
            TableName=self.table_name,
            Key={"pk": item["pk"], "sk": item["sk"]},
            UpdateExpression="SET #status = :revoked, revoked_at = if_not_exists(revoked_at, :now)",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":revoked": {"S": KeyStatus.REVOKED.value},
                ":now": {"S": self._clock().isoformat()},
            },
            ReturnValues="ALL_NEW",
        )
        return _decode(response["Attributes"])

    def _key_item(self, key_id: str) -> dict[str, AttributeValueTypeDef]:
        pointer = self.client.get_item(
            TableName=self.table_name, Key=_key_id_item_key(key_id), ConsistentRead=True
        ).get("Item")
        item = None
        if pointer is not None:
            item = self.client.get_item(
                TableName=self.table_name,
                Key=_key_item_key(pointer["digest"]["S"]),
                ConsistentRead=True,
            ).get("Item")
        if item is None:
            raise NotFound("api_key", key_id)
        return item


def _ledger_ids(values: Sequence[str]) -> tuple[str, ...]:
    if isinstance(values, str) or len(values) > limits.api_key_ledger_ids_max:
        raise ValidationError(
            "ledger_ids", f"ledger_ids must be a list of at most {limits.api_key_ledger_ids_max}"
        )
    for value in values:
        if not _is_ledger_id(value):
            raise ValidationError("ledger_ids", f"{value!r} is not a ledger id")
    return tuple(dict.fromkeys(values))


def _is_ledger_id(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        ledger_token(value)
    except NotFound:
        return False
    return True


def _given_secret(secret: str) -> str:
    # A chosen secret (the dev runtime's --admin-key) must still be hard to guess.
    if len(secret) < 16 or not secret.isprintable() or " " in secret:
        raise ValidationError("key", "a key must be at least 16 printable characters, no spaces")
    return secret


def _encode(key: ApiKey) -> dict[str, AttributeValueTypeDef]:
    item: dict[str, AttributeValueTypeDef] = {
        "key_id": {"S": key.id},
        "role": {"S": key.role.value},
        "ledger_ids": {"L": [{"S": ledger_id} for ledger_id in key.ledger_ids]},
        "status": {"S": key.status.value},
        "created_at": {"S": key.created_at.isoformat()},
    }
    if key.owner_id is not None:
        item["owner_id"] = {"S": key.owner_id}
    if key.created_by is not None:
        item["created_by"] = {"S": key.created_by}
    return item


def _decode(item: dict[str, AttributeValueTypeDef]) -> ApiKey:
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
