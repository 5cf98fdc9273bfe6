"""The JSON objects the client returns as they are (health, API keys), and the options of
its one-account presets; everything else comes back as the library's own types."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Generic, TypedDict, TypeVar

T = TypeVar("T")


class Health(TypedDict):
    """`GET /v1/health`."""

    status: str


class OneAccount(TypedDict, total=False):
    """What a one-account preset (deposit, withdraw, spend, refund) takes besides its account
    and amount."""

    counterparty_account_id: str | None
    reference: str | None
    description: str | None
    effective_at: datetime | str | None
    metadata: Mapping[str, str] | None
    idempotency_key: str | None


class Page(TypedDict, Generic[T]):
    """One page of a listing; pass `next_cursor` back for the next, None when done."""

    items: list[T]
    next_cursor: str | None


class ApiKey(TypedDict):
    """An API key's record, never its secret."""

    id: str
    role: str
    ledger_ids: list[str]
    owner_id: str | None
    status: str
    created_at: str


class CreatedApiKey(ApiKey):
    """A new API key: `key` is the secret, shown this once."""

    key: str
