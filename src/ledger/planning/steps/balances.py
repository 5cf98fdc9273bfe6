"""Steps that move an account's balance or change what it may spend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ledger.domain.errors import (
    AccountInactive,
    Conflict,
    CreditLimitInUse,
    CurrencyMismatch,
    InsufficientFunds,
    NotFound,
)
from ledger.domain.model import (
    Account,
    AccountShard,
    AccountStatus,
    Overdraft,
    OverdraftMode,
    Totals,
)
from ledger.domain.money import format_amount
from ledger.planning.steps.targets import Stored, Target, account_target, ledger_mismatch


@dataclass(frozen=True)
class DeltaShare:
    """One batch operation's share of a merged delta: how it moves the account's headroom."""

    operation_index: int
    headroom: int


@dataclass(frozen=True)
class ApplyDelta:
    """Move one account's totals by an entry; `outflow` is what its headroom must cover.
    A batch's merged delta lists its operations' `shares`, in operation order.

    A sharded account (`shards` > 1, never with a floor) is moved on one `shard` only. A
    `world` shard beyond the first comes into being with its first write (`opens_shard`):
    the world's ledger and currency are those of its id, it is never suspended, and the
    entry that moves it also moves an account of that ledger and currency, whose guarded
    existence implies the world's.

    `entry_kind` and `effective_at` travel onto the item (`last_entry_kind`,
    `last_effective_at`) so the stream's history consumer needs no read to date a change;
    a merged batch update names all its entries in `entry_ids`, in order."""

    account_id: str
    ledger_id: str
    currency: str
    entry_id: str
    at: datetime
    totals: Totals
    headroom: int
    outflow: int
    # Releasing a pending amount only ever gives money back, so it works on any account.
    require_active: bool = True
    shares: tuple[DeltaShare, ...] = ()
    shard: int = 0
    shards: int = 1
    opens_shard: bool = False
    # What moved the item: an entry kind, or `void` / `expire` for a pending release.
    entry_kind: str | None = None
    effective_at: datetime | None = None
    entry_ids: tuple[str, ...] = ()

    @property
    def target(self) -> Target:
        """The item updated: the account's own, or the shard's."""
        return account_target(self.account_id, self.shard)

    def violation(self, current: Stored) -> Exception | None:
        """Why the account cannot take this delta, if it cannot."""
        if current is None and self.opens_shard:
            return None
        if not isinstance(current, Account | AccountShard):
            return NotFound("account", self.account_id)
        if self.require_active and current.status is not AccountStatus.ACTIVE:
            return AccountInactive(
                f"account {self.account_id} is {current.status}", {"account_id": self.account_id}
            )
        currency = current.currency if isinstance(current, AccountShard) else current.currency.code
        if currency != self.currency:
            return CurrencyMismatch(
                f"account {self.account_id} holds {currency}, not {self.currency}",
                {"account_id": self.account_id},
            )
        if current.ledger_id != self.ledger_id:
            return ledger_mismatch(self.account_id, current.ledger_id, self.ledger_id, None)
        if self.is_guarded_by_headroom and isinstance(current, Account):
            is_floored = current.overdraft.mode is not OverdraftMode.ALLOW
            if is_floored and current.headroom < self.outflow:
                return self._insufficient(current)
        return None

    @property
    def is_guarded_by_headroom(self) -> bool:
        """Whether the write is conditional on the account's headroom: an outflow from an
        account that may have a floor. A sharded account has none."""
        return self.outflow > 0 and self.shards == 1

    def _insufficient(self, current: Account) -> InsufficientFunds:
        currency = current.currency
        if not self.shares:
            return InsufficientFunds(
                f"account {self.account_id} cannot cover "
                f"{format_amount(self.outflow, currency)} {currency.code}",
                {"account_id": self.account_id},
            )
        share, spendable = _lasting_breach(self.shares, current.headroom)
        return InsufficientFunds(
            f"account {self.account_id} cannot cover "
            f"{format_amount(-share.headroom, currency)} {currency.code} "
            f"in operation {share.operation_index}: it could spend "
            f"{format_amount(max(0, spendable), currency)} {currency.code}",
            {"account_id": self.account_id, "operation_index": share.operation_index},
        )


def _lasting_breach(shares: tuple[DeltaShare, ...], headroom: int) -> tuple[DeltaShare, int]:
    """The share from which the headroom stays below zero to the end, and the headroom just
    before it. A batch is judged by its end state, so a dip that later operations make good
    breaks nothing; the share that starts the final dip is the one to blame."""
    before = [headroom]
    for share in shares[:-1]:
        before.append(before[-1] + share.headroom)
    first = len(shares) - 1
    while first > 0 and before[first] < 0:
        first -= 1
    return shares[first], before[first]


@dataclass(frozen=True)
class ChangeOverdraft:
    """Replace an account's overdraft policy, conditional on the one it had."""

    account_id: str
    previous: Overdraft
    overdraft: Overdraft
    at: datetime

    @property
    def target(self) -> Target:
        """The item updated."""
        return Target("account", self.account_id)

    @property
    def headroom_change(self) -> int:
        """Headroom moves by exactly the change of the credit limit."""
        return self.overdraft.credit_limit - self.previous.credit_limit

    @property
    def headroom_needed(self) -> int | None:
        """What the headroom must be now so it stays at or above zero; None for no floor."""
        if self.overdraft.mode is OverdraftMode.ALLOW:
            return None
        return -self.headroom_change

    def violation(self, current: Stored) -> Exception | None:
        """Why the policy cannot change, if it cannot."""
        if not isinstance(current, Account):
            return NotFound("account", self.account_id)
        if current.overdraft != self.previous:
            return Conflict(
                "the account's overdraft changed meanwhile; try again",
                {"outcome": "not_applied"},
            )
        needed = self.headroom_needed
        if needed is not None and current.headroom < needed:
            return CreditLimitInUse(
                f"account {self.account_id} uses more credit than the new limit allows",
                {"account_id": self.account_id, "field": "credit_limit"},
            )
        return None
