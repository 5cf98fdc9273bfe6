"""The steps of a write plan; each states its guard as a pure `violation` check.

The memory store runs `violation` to decide; the DynamoDB store renders the same rule as a
condition expression and, when DynamoDB cancels, calls `violation` on the returned item to
explain why.
"""

from ledger.planning.steps.accounts import RegisterCurrency, SetDetails, SetStatus
from ledger.planning.steps.balances import ApplyDelta, ChangeOverdraft, DeltaShare
from ledger.planning.steps.entries import MarkReversed, ResolvePending
from ledger.planning.steps.plan import Step, WritePlan, shows_applied
from ledger.planning.steps.records import (
    ClaimUnique,
    EnsureWorld,
    PutNew,
    RequireLedger,
    RequireParent,
)
from ledger.planning.steps.targets import (
    Claim,
    ClaimKind,
    Duplicate,
    ItemKind,
    Stored,
    Target,
    account_target,
    claim_id,
    ledger_claim,
    ledger_mismatch,
)

__all__ = [
    "ApplyDelta",
    "ChangeOverdraft",
    "Claim",
    "ClaimKind",
    "ClaimUnique",
    "DeltaShare",
    "Duplicate",
    "EnsureWorld",
    "ItemKind",
    "MarkReversed",
    "PutNew",
    "RegisterCurrency",
    "RequireLedger",
    "RequireParent",
    "ResolvePending",
    "SetDetails",
    "SetStatus",
    "Step",
    "Stored",
    "Target",
    "WritePlan",
    "account_target",
    "claim_id",
    "ledger_claim",
    "ledger_mismatch",
    "shows_applied",
]
