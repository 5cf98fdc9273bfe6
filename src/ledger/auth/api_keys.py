"""API key management: the rules for creating, finding, listing and revoking keys, over any
key store (the storage itself is in the store layer)."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ledger.domain import limits, validate
from ledger.domain.api_keys import ApiKey, KeyStatus, Role, digest, new_secret
from ledger.domain.errors import IdempotencyKeyReused, NotFound, ValidationError
from ledger.domain.ids import ledger_token
from ledger.planning.commands import page_size
from ledger.store.api_keys import KeyTaken, Within
from ledger.store.dynamodb.api_keys import DynamoDBApiKeyStore
from ledger.store.dynamodb.client import default_client

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from ledger.domain.model import Page
    from ledger.store.api_keys import ApiKeyStore

# The record and roles are re-exported: callers manage keys and name roles from here.
__all__ = [
    "ApiKey",
    "ApiKeys",
    "KeyStatus",
    "KeyStore",
    "Role",
    "new_secret",
]

_key_id_bytes = 10
_derived_id_length = 20
_key_id_pattern = re.compile(rf"key_[0-9a-f]{{{_derived_id_length}}}")


def _everything(key: ApiKey) -> bool:
    return True


class ApiKeys:
    """Creates, finds, lists and revokes API keys in a key store."""

    def __init__(
        self, store: ApiKeyStore, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.store = store
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
            else hashlib.sha256(f"{created_by}\0{idempotency_key}".encode()).hexdigest()[
                :_derived_id_length
            ]
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
        try:
            self.store.add(key, digest(plain))
        except KeyTaken as taken:
            if taken.key_id and idempotency_key is not None:
                raise IdempotencyKeyReused(
                    "this idempotency key created a key already; "
                    "its secret was shown once and is not stored"
                ) from taken
            raise ValidationError("key", "this key exists already") from taken
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
        return self.store.find(digest(secret))

    def get(self, key_id: str) -> ApiKey:
        """A key's record by id; NotFound if there is none."""
        key = self.store.get(key_id) if _is_key_id(key_id) else None
        if key is None:
            raise NotFound("api_key", key_id)
        return key

    def revoke(self, key_id: str) -> ApiKey:
        """Revoke a key for good; revoking a revoked key changes nothing."""
        key = self.store.revoke(key_id, self._clock()) if _is_key_id(key_id) else None
        if key is None:
            raise NotFound("api_key", key_id)
        return key

    def list_keys(
        self,
        *,
        limit: int = limits.page_size_default,
        cursor: str | None = None,
        within: Within = _everything,
        caller: str | None = None,
    ) -> Page[ApiKey]:
        """Keys oldest first, only those `within` keeps (a caller's scope, say); a page may
        then hold fewer than `limit`, even none, with a cursor while more follow. The cursor
        opens only for the same `caller`."""
        return self.store.page(page_size(limit), cursor, within, caller)


class KeyStore(ApiKeys):
    """The API keys in the ledger's DynamoDB table."""

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.table_name = table_name
        self.client = client or default_client()
        super().__init__(DynamoDBApiKeyStore(table_name, self.client), clock)


def _is_key_id(value: str) -> bool:
    # What no key can have is not looked up: an id of any length would otherwise become
    # a table key, and DynamoDB refuses keys over its size limit.
    return _key_id_pattern.fullmatch(value) is not None


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
