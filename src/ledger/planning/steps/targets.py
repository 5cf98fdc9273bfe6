"""The items a plan's steps act on: a target, a uniqueness claim, what a target holds."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ledger.domain.errors import LedgerMismatch
from ledger.domain.model import Account, AccountShard, Entry, LedgerRecord

ClaimKind = Literal["code", "key"]
ItemKind = Literal["ledger", "account", "shard", "entry", "code", "key"]
# The value of the key claim a ledger created with an idempotency key takes, under its id
# without a shard count: the same key with another `world_shards` names another id.
ledger_claim = "ledger"


@dataclass(frozen=True)
class Claim:
    """An item that makes a value unique within a ledger: an account code, or the digest of
    the idempotency key that opened an account (whose id also depends on its currency)."""

    ledger_id: str
    kind: ClaimKind
    value: str
    account_id: str


Stored = LedgerRecord | Account | AccountShard | Entry | Claim | None


class Duplicate(Exception):
    """The item a plan creates exists already: the same idempotency key came back."""

    def __init__(self, existing: LedgerRecord | Account | AccountShard | Entry | Claim) -> None:
        super().__init__(f"{type(existing).__name__} exists already")
        self.existing = existing


@dataclass(frozen=True)
class Target:
    """The one item a step writes or checks."""

    kind: ItemKind
    id: str


def account_target(account_id: str, shard: int) -> Target:
    """The item of one shard of an account: shard 0 is the account's own item."""
    if shard == 0:
        return Target("account", account_id)
    return Target("shard", f"{account_id}#{shard}")


def claim_id(ledger_id: str, value: str) -> str:
    """The id of the uniqueness item for `value` in `ledger_id`."""
    return f"{ledger_id}#{value}"


def ledger_mismatch(
    account_id: str, actual: str, expected: str, field: str | None
) -> LedgerMismatch:
    details: dict[str, Any] = {"account_id": account_id}
    if field is not None:
        details["field"] = field
    return LedgerMismatch(
        f"account {account_id} belongs to ledger {actual}, not {expected}", details
    )
