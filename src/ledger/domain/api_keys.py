"""An API key's record and the digest that names it: the standard library only, since the
authorizer imports this on every cold start."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

secret_prefix = "lk_"
_secret_bytes = 32


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
