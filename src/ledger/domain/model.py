"""The domain: ledgers, accounts, entries, lines and balances, as plain immutable values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar

from ledger.domain.money import Currency

Metadata = dict[str, str]


class Side(StrEnum):
    """The side of a journal line."""

    DEBIT = "debit"
    CREDIT = "credit"

    @property
    def opposite(self) -> Side:
        """The other side."""
        return Side.CREDIT if self is Side.DEBIT else Side.DEBIT


class AccountType(StrEnum):
    """The five classes of the accounting equation."""

    ASSET = "asset"
    LIABILITY = "liability"
    EQUITY = "equity"
    REVENUE = "revenue"
    EXPENSE = "expense"

    @property
    def normal_balance(self) -> Side:
        """The side that increases an account of this type."""
        if self in (AccountType.ASSET, AccountType.EXPENSE):
            return Side.DEBIT
        return Side.CREDIT


class AccountStatus(StrEnum):
    """Only active accounts take part in new entries; closed is final."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class OverdraftMode(StrEnum):
    """How far below zero an account's net balance may go."""

    FORBID = "forbid"
    LIMIT = "limit"
    ALLOW = "allow"


class EntryKind(StrEnum):
    """What produced an entry: a preset, or a raw journal entry."""

    TRANSFER = "transfer"
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    SPEND = "spend"
    REFUND = "refund"
    HOLD = "hold"
    ESCROW = "escrow"
    POST = "post"
    REVERSAL = "reversal"
    CONVERSION = "conversion"
    ENTRY = "entry"


class EntryStatus(StrEnum):
    """Where an entry is in its life; a pending entry resolves exactly once."""

    POSTED = "posted"
    PENDING = "pending"
    VOIDED = "voided"
    EXPIRED = "expired"


@dataclass(frozen=True)
class Overdraft:
    """The overdraft policy of an account; `credit_limit` is in minor units, only for LIMIT."""

    mode: OverdraftMode = OverdraftMode.FORBID
    credit_limit: int = 0


@dataclass(frozen=True)
class LedgerRecord:
    """A namespace of accounts, entries and keys; one owner may have many."""

    id: str
    name: str
    owner_id: str | None
    metadata: Metadata
    currencies: dict[str, int]
    created_at: datetime
    request_hash: str
    # How many items each of its `world` accounts spreads its balances over.
    world_shards: int = 1
    replayed: bool = False


@dataclass(frozen=True)
class Totals:
    """The four lifetime totals of an account plus the parts of pending outflow by purpose."""

    posted_debits: int = 0
    posted_credits: int = 0
    pending_debits: int = 0
    pending_credits: int = 0
    held: int = 0
    escrowed: int = 0

    @property
    def is_empty(self) -> bool:
        """Nothing posted on balance and nothing pending: what closing an account needs."""
        return (
            self.posted_debits == self.posted_credits
            and self.pending_debits == 0
            and self.pending_credits == 0
        )

    def __add__(self, other: Totals) -> Totals:
        """Both totals summed field by field: an account moved by a change, or merged changes."""
        return Totals(
            posted_debits=self.posted_debits + other.posted_debits,
            posted_credits=self.posted_credits + other.posted_credits,
            pending_debits=self.pending_debits + other.pending_debits,
            pending_credits=self.pending_credits + other.pending_credits,
            held=self.held + other.held,
            escrowed=self.escrowed + other.escrowed,
        )


# The six totals by name, in their order: what the table stores and reconciliation checks.
totals_fields = tuple(each.name for each in fields(Totals))


@dataclass(frozen=True)
class Account:
    """An account with its balances; `headroom` is the guard the write conditions compare."""

    id: str
    ledger_id: str
    name: str
    type: AccountType
    currency: Currency
    status: AccountStatus
    overdraft: Overdraft
    created_at: datetime
    updated_at: datetime
    request_hash: str
    code: str | None = None
    parent_id: str | None = None
    owner_id: str | None = None
    metadata: Metadata = field(default_factory=dict)
    system: bool = False
    totals: Totals = field(default_factory=Totals)
    headroom: int = 0
    version: int = 0
    last_entry_id: str | None = None
    # What the last balance change was and when it took effect; absent on older items. A
    # merged batch update names all its entries in `last_entry_ids`.
    last_entry_kind: str | None = None
    last_effective_at: datetime | None = None
    last_entry_ids: tuple[str, ...] = ()
    # A hot account without a floor spreads its balances over `shards` items: this one
    # (shard 0, with every detail) and `AccountShard`s 1 to shards - 1.
    shards: int = 1
    # As read with its shards: the version of each item, shard 0 first. Closing a sharded
    # account is conditional on every one of them.
    shard_versions: tuple[int, ...] = ()
    replayed: bool = False

    @property
    def normal_balance(self) -> Side:
        """The side that increases this account."""
        return self.type.normal_balance

    def balance(self) -> Balance:
        """The balance object of the HTTP contract, in normal-balance orientation."""
        return Balance.of(self)

    def with_shards(self, shards: Sequence[AccountShard]) -> Account:
        """The one account its items make: totals, headroom and versions summed (so the
        version still only grows), the latest change's time and entry. A shard not yet
        written (a `world` shard comes into being with its first write) counts as zero. An
        account of one item is itself."""
        if self.shards == 1:
            return self
        by_index = {shard.index: shard for shard in shards}
        versions = [self.version]
        totals, headroom = self.totals, self.headroom
        latest: Account | AccountShard = self
        for index in range(1, self.shards):
            shard = by_index.get(index)
            if shard is None:
                versions.append(0)
                continue
            versions.append(shard.version)
            totals += shard.totals
            headroom += shard.headroom
            if shard.updated_at > latest.updated_at:
                latest = shard
        return replace(
            self,
            totals=totals,
            headroom=headroom,
            version=sum(versions),
            updated_at=latest.updated_at,
            last_entry_id=latest.last_entry_id,
            last_entry_kind=latest.last_entry_kind,
            last_effective_at=latest.last_effective_at,
            last_entry_ids=latest.last_entry_ids,
            shard_versions=tuple(versions),
        )


@dataclass(frozen=True)
class AccountShard:
    """One more item of a sharded account's balances, beyond the account's own item: it
    carries what the guards of a write to it check (ledger, currency, status) and its part
    of the totals. The account's details live on its own item only."""

    account_id: str
    index: int
    ledger_id: str
    currency: str
    status: AccountStatus
    updated_at: datetime
    totals: Totals = field(default_factory=Totals)
    headroom: int = 0
    version: int = 0
    last_entry_id: str | None = None
    last_entry_kind: str | None = None
    last_effective_at: datetime | None = None
    last_entry_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class Balance:
    """Balances oriented to the account's normal side; all amounts in minor units."""

    account_id: str
    currency: Currency
    posted: int
    pending_in: int
    pending_out: int
    held: int
    escrowed: int
    available: int
    credit_limit: int
    credit_used: int
    spendable: int
    total_in: int
    total_out: int
    version: int
    as_of: datetime
    # The times a balance of the past was asked for (knowledge time, business time).
    at: datetime | None = None
    effective_at: datetime | None = None

    @classmethod
    def of(cls, account: Account) -> Balance:
        """Derive the displayed balance from an account's totals."""
        return cls.of_totals(
            account.id,
            currency=account.currency,
            normal_balance=account.normal_balance,
            totals=account.totals,
            credit_limit=account.overdraft.credit_limit,
            version=account.version,
            as_of=account.updated_at,
        )

    @classmethod
    def of_totals(
        cls,
        account_id: str,
        *,
        currency: Currency,
        normal_balance: Side,
        totals: Totals,
        credit_limit: int,
        version: int,
        as_of: datetime,
    ) -> Balance:
        """The displayed balance of totals on the account's normal side: an account's, or
        one of its items' (the audit records each item's)."""
        if normal_balance is Side.CREDIT:
            total_in, total_out = totals.posted_credits, totals.posted_debits
            pending_in, pending_out = totals.pending_credits, totals.pending_debits
        else:
            total_in, total_out = totals.posted_debits, totals.posted_credits
            pending_in, pending_out = totals.pending_debits, totals.pending_credits
        posted = total_in - total_out
        net = posted - pending_out
        return cls(
            account_id=account_id,
            currency=currency,
            posted=posted,
            pending_in=pending_in,
            pending_out=pending_out,
            held=totals.held,
            escrowed=totals.escrowed,
            available=max(0, net),
            credit_limit=credit_limit,
            credit_used=max(0, -net),
            spendable=net + credit_limit,
            total_in=total_in,
            total_out=total_out,
            version=version,
            as_of=as_of,
        )


@dataclass(frozen=True)
class Line:
    """One positive amount on one side of one account."""

    account_id: str
    side: Side
    amount: int
    currency: str


@dataclass(frozen=True)
class Actor:
    """Who caused an entry: the API key and its role, the request, and where it came from.
    The API fills every field it knows; an embedding caller sets what it has."""

    key_id: str | None = None
    role: str | None = None
    request_id: str | None = None
    source_ip: str | None = None
    user_agent: str | None = None
    # The X-Ray trace of the request, passed on to the events the entry publishes; kept
    # on the entry item beside the actor, never in the actor's public fields or the audit.
    trace_header: str | None = None


# The actor's public fields by name, in their order: what the item's map and the JSON
# object hold.
actor_fields = tuple(each.name for each in fields(Actor) if each.name != "trace_header")


@dataclass(frozen=True)
class RuleOrigin:
    """The posting rule (event type and version) and the inbound event an entry was posted
    from."""

    event_type: str
    version: int
    event_id: str


@dataclass(frozen=True)
class Entry:
    """A journal entry: balanced lines per currency, immutable once posted."""

    id: str
    ledger_id: str
    kind: EntryKind
    status: EntryStatus
    lines: tuple[Line, ...]
    effective_at: datetime
    created_at: datetime
    request_hash: str
    description: str | None = None
    reference: str | None = None
    metadata: Metadata = field(default_factory=dict)
    expires_at: datetime | None = None
    pending_id: str | None = None
    posting_entry_id: str | None = None
    reverses: str | None = None
    reversed_by: str | None = None
    # Once a pending entry resolves, how much of its amount was posted and how much released.
    posted_amount: int | None = None
    released_amount: int | None = None
    # When it resolved (posted, voided or expired); None while pending, for entries never
    # pending, and for entries resolved before the time was recorded.
    resolved_at: datetime | None = None
    # When the `ledger.entry.expiring` event of a pending entry was written; None before.
    expiring_noticed_at: datetime | None = None
    # Who caused the entry; None for entries written before actors were recorded, and for
    # those whose caller named no one.
    actor: Actor | None = None
    # Set on entries posted from an inbound event by a posting rule.
    posting_rule: RuleOrigin | None = None
    replayed: bool = False

    @property
    def was_pending(self) -> bool:
        """Whether the entry was created pending (it may have resolved since)."""
        return self.status is not EntryStatus.POSTED or self.posting_entry_id is not None


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a listing; pass `next_cursor` back for the next, None when done."""

    items: list[T]
    next_cursor: str | None
