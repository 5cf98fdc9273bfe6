"""A write plan: its steps, applied all together or not at all."""

from __future__ import annotations

from dataclasses import dataclass

from ledger.domain.model import Account, AccountShard, Entry
from ledger.planning.steps.accounts import RegisterCurrency, SetDetails, SetStatus
from ledger.planning.steps.balances import ApplyDelta, ChangeOverdraft
from ledger.planning.steps.entries import MarkReversed, ResolvePending
from ledger.planning.steps.records import (
    ClaimUnique,
    EnsureWorld,
    PutNew,
    RequireLedger,
    RequireParent,
)
from ledger.planning.steps.targets import Stored

Step = (
    PutNew
    | ClaimUnique
    | EnsureWorld
    | RequireLedger
    | RequireParent
    | ApplyDelta
    | SetStatus
    | SetDetails
    | RegisterCurrency
    | ResolvePending
    | MarkReversed
    | ChangeOverdraft
)


@dataclass(frozen=True)
class WritePlan:
    """Steps applied all together or not at all, checked in order."""

    steps: tuple[Step, ...]


def shows_applied(step: Step, current: Stored) -> bool:
    """Whether `current` is exactly what this step leaves behind, for the steps a second
    application refuses: a resolution, a status change, an overdraft change. After an
    attempt whose outcome is unknown, such a refusal is that attempt's own success."""
    match step:
        case ResolvePending(status=status, posting_entry_id=posting_entry_id):
            return (
                isinstance(current, Entry)
                and current.status is status
                and current.posting_entry_id == posting_entry_id
            )
        case SetStatus(status=status):
            return isinstance(current, Account | AccountShard) and current.status is status
        case ChangeOverdraft(overdraft=overdraft):
            return isinstance(current, Account) and current.overdraft == overdraft
        case _:
            return False
