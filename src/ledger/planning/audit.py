"""Audit records of balance items: what one version of an account's own item or of one of
its shards records, from the item's images before and after (ADR 0025)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from ledger.domain.audit import AuditRecord
from ledger.domain.ids import parse_account_id
from ledger.domain.model import Account, AccountShard, Actor, Balance, Entry, Totals, actor_fields
from ledger.domain.money import format_amount
from ledger.domain.timestamps import timestamp

# The balance object's amounts, as the audit's before and after hold them.
amount_fields = (
    "posted",
    "pending_in",
    "pending_out",
    "held",
    "escrowed",
    "available",
    "credit_limit",
    "credit_used",
    "spendable",
    "total_in",
    "total_out",
)
# The kind of a version no entry made: a status (or overdraft) change.
status_kind = "status"
# The kind of an item's first record when it was created without an entry: an account (or
# shard) opened.
open_kind = "open"

BalanceItem = Account | AccountShard


@dataclass(frozen=True)
class ItemChange:
    """One version of one balance item: the item after, and before (None when new)."""

    before: BalanceItem | None
    after: BalanceItem

    @property
    def account_id(self) -> str:
        """The account the item belongs to."""
        return item_account_id(self.after)

    @property
    def shard(self) -> int:
        """The item's shard: 0 for the account's own item."""
        return item_shard(self.after)

    @property
    def previous_version(self) -> int | None:
        """The version of the record before this one in the item's chain; None for the
        item's first record."""
        return None if self.before is None else self.before.version

    @property
    def entry_id(self) -> str | None:
        """The last entry that moved the item in this change; None when none did."""
        before, after = self.before, self.after
        previous_entry = None if before is None else before.last_entry_id
        previous_totals = Totals() if before is None else before.totals
        if after.totals == previous_totals and after.last_entry_id == previous_entry:
            return None
        return after.last_entry_id


def item_account_id(item: BalanceItem) -> str:
    """The account id of an account item or a shard item."""
    return item.id if isinstance(item, Account) else item.account_id


def item_shard(item: BalanceItem) -> int:
    """The shard of an item: 0 for the account's own item."""
    return 0 if isinstance(item, Account) else item.index


def item_amounts(account_id: str, totals: Totals, credit_limit: int) -> dict[str, str]:
    """The balance object's amounts of one item's totals, formatted for the account's
    currency (in its id)."""
    ref = parse_account_id(account_id)
    balance = Balance.of_totals(
        account_id,
        currency=ref.currency,
        normal_balance=ref.normal_balance,
        totals=totals,
        credit_limit=credit_limit,
        version=0,
        as_of=datetime.min,
    )
    return {name: format_amount(getattr(balance, name), ref.currency) for name in amount_fields}


def credit_limit_of(item: BalanceItem) -> int:
    """The item's credit limit: the account's own; a shard's is none, as sharded accounts
    have no floor (ADR 0022)."""
    return item.overdraft.credit_limit if isinstance(item, Account) else 0


def amounts_of(item: BalanceItem) -> dict[str, str]:
    """The balance object's amounts of one item as it stands."""
    return item_amounts(item_account_id(item), item.totals, credit_limit_of(item))


def audit_record(change: ItemChange, entries: Mapping[str, Entry]) -> AuditRecord:
    """The audit record of one item change; the entry that made it must be in `entries`."""
    after, before = change.after, change.before
    entry_id = change.entry_id
    actor: Actor | None = None
    if entry_id is None:
        kind = open_kind if before is None else status_kind
    else:
        entry = entries[entry_id]
        kind = after.last_entry_kind or entry.kind.value
        actor = entry.actor
    previous_amounts = (
        item_amounts(change.account_id, Totals(), credit_limit_of(after))
        if before is None
        else amounts_of(before)
    )
    return AuditRecord(
        account_id=change.account_id,
        shard=change.shard,
        version=after.version,
        entry_id=entry_id,
        kind=kind,
        before=previous_amounts,
        after=amounts_of(after),
        recorded_at=timestamp(after.updated_at),
        actor=None if actor is None else {name: getattr(actor, name) for name in actor_fields},
        status=after.status.value if entry_id is None else None,
    )
