"""Response bodies: pydantic models for the OpenAPI document, and renderers from the domain."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict

from ledger.auth.api_keys import ApiKey
from ledger.domain.views import moment

T = TypeVar("T")


class View(BaseModel):
    """A response body."""

    # Validators are built on a route's first request, not at import (cold start).
    model_config = ConfigDict(defer_build=True)


class LedgerView(View):
    """A ledger."""

    id: str
    name: str
    owner_id: str | None
    metadata: dict[str, str]
    currencies: dict[str, int]
    world_shards: int
    created_at: str


class BalanceView(View):
    """An account's balance, in its normal-balance orientation (API.md)."""

    account_id: str
    currency: str
    posted: str
    pending_in: str
    pending_out: str
    held: str
    escrowed: str
    available: str
    credit_limit: str
    credit_used: str
    spendable: str
    total_in: str
    total_out: str
    version: int
    as_of: str
    # A balance of the past also carries `at` and `effective_at` as asked; a balance of
    # now carries neither, so they are extras rather than fields that would show null.
    model_config = ConfigDict(defer_build=True, extra="allow")


class OverdraftView(View):
    """An overdraft policy."""

    mode: str
    limit: str


class AccountView(View):
    """An account with its balance."""

    id: str
    ledger_id: str
    name: str
    type: str
    normal_balance: str
    currency: str
    code: str | None
    parent_id: str | None
    owner_id: str | None
    status: str
    overdraft: OverdraftView
    metadata: dict[str, str]
    system: bool
    shards: int
    created_at: str
    updated_at: str
    balance: BalanceView


class LineView(View):
    """One line of an entry."""

    account_id: str
    side: str
    amount: str
    currency: str


class ActorView(View):
    """Who caused an entry; a field the ledger did not learn is null."""

    key_id: str | None
    role: str | None
    request_id: str | None
    source_ip: str | None
    user_agent: str | None


class PostingOriginView(View):
    """The posting rule (event type, version) and the inbound event an entry came from."""

    event_type: str
    version: int
    event_id: str


class EntryView(View):
    """A journal entry; the links are null until they exist, and what a pending entry posted
    and released is null until it resolves."""

    id: str
    ledger_id: str
    kind: str
    status: str
    lines: list[LineView]
    description: str | None
    reference: str | None
    metadata: dict[str, str]
    effective_at: str
    created_at: str
    expires_at: str | None = None
    pending_id: str | None = None
    posting_entry_id: str | None = None
    reverses: str | None = None
    reversed_by: str | None = None
    posted_amount: str | None = None
    released_amount: str | None = None
    # Null on entries written before entries carried one, and where the caller named none.
    actor: ActorView | None = None
    # The rule and inbound event an entry was posted from; null for every other entry.
    posting_rule: PostingOriginView | None = None


class LedgerPage(View):
    """A page of ledgers."""

    items: list[LedgerView]
    next_cursor: str | None


class AccountPage(View):
    """A page of accounts."""

    items: list[AccountView]
    next_cursor: str | None


class EntryPage(View):
    """A page of entries."""

    items: list[EntryView]
    next_cursor: str | None


class BatchView(View):
    """The entries of a batch in operation order; `items_saved` counts what netting saved."""

    entries: list[EntryView]
    items_saved: int


class ApiKeyView(View):
    """An API key's record (never its secret)."""

    id: str
    role: str
    ledger_ids: list[str]
    owner_id: str | None
    status: str
    created_at: str


class ApiKeyPage(View):
    """A page of API keys."""

    items: list[ApiKeyView]
    next_cursor: str | None


class NewApiKeyView(ApiKeyView):
    """A created key: `key` is the secret, shown this once and never stored."""

    key: str


class HealthView(View):
    """The service answers."""

    status: str


class ErrorDetail(View):
    """The error of the HTTP contract."""

    code: str
    message: str
    details: dict[str, Any]


class ErrorView(View):
    """Every error response: `{"error": {"code", "message", "details"}}`."""

    error: ErrorDetail


def api_key_view(key: ApiKey) -> dict[str, Any]:
    """An API key's record."""
    return {
        "id": key.id,
        "role": key.role.value,
        "ledger_ids": list(key.ledger_ids),
        "owner_id": key.owner_id,
        "status": key.status.value,
        "created_at": moment(key.created_at),
    }
