"""The JSON objects of the HTTP contract as the client returns them; amounts stay strings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Generic, NotRequired, TypedDict, TypeVar

T = TypeVar("T")


class Health(TypedDict):
    """`GET /v1/health`."""

    status: str


class Ledger(TypedDict):
    """A ledger: a namespace of accounts, entries and keys."""

    id: str
    name: str
    owner_id: str | None
    metadata: dict[str, str]
    created_at: str
    currencies: NotRequired[dict[str, int]]


class Currency(TypedDict):
    """A currency a ledger knows: its code, its scale, and whether it is built in."""

    code: str
    scale: int
    builtin: bool


class Overdraft(TypedDict):
    """An account's overdraft policy; `limit` is the credit line, for mode `limit`."""

    mode: str
    limit: NotRequired[str]


class Balance(TypedDict):
    """The balance object, in the account's normal-balance orientation."""

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


class Account(TypedDict):
    """An account; `balance` comes with a single account read."""

    id: str
    ledger_id: str
    name: str
    type: str
    currency: str
    status: str
    overdraft: Overdraft
    code: NotRequired[str | None]
    parent_id: NotRequired[str | None]
    owner_id: NotRequired[str | None]
    metadata: NotRequired[dict[str, str]]
    normal_balance: NotRequired[str]
    system: NotRequired[bool]
    created_at: NotRequired[str]
    updated_at: NotRequired[str]
    balance: NotRequired[Balance]


class Line(TypedDict):
    """One line of an entry: one positive amount on one side of one account."""

    account_id: str
    side: str
    amount: str
    currency: str


class Entry(TypedDict):
    """A journal entry; the links are present where they apply."""

    id: str
    ledger_id: str
    kind: str
    status: str
    lines: list[Line]
    description: str | None
    reference: str | None
    metadata: dict[str, str]
    effective_at: str
    created_at: str
    expires_at: NotRequired[str | None]
    pending_id: NotRequired[str | None]
    posting_entry_id: NotRequired[str | None]
    reverses: NotRequired[str | None]
    reversed_by: NotRequired[str | None]
    posted_amount: NotRequired[str | None]
    released_amount: NotRequired[str | None]


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


class BatchResult(TypedDict):
    """The entries a batch created, in the order of its operations."""

    entries: list[Entry]
    items_saved: NotRequired[int]


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
