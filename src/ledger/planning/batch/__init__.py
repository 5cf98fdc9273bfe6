"""A batch of movements planned as one write: typed operations (or mappings parsed into
them), drafted, netted, then merged into one plan."""

from ledger.planning.batch.operations import (
    BatchOperation,
    Conversion,
    Deposit,
    Escrow,
    Hold,
    OneAccountOperation,
    OperationType,
    RawEntry,
    Refund,
    Spend,
    Transfer,
    Withdrawal,
)
from ledger.planning.batch.plan import BatchPlan, BatchResult, operation_of, plan_batch

__all__ = [
    "BatchOperation",
    "BatchPlan",
    "BatchResult",
    "Conversion",
    "Deposit",
    "Escrow",
    "Hold",
    "OneAccountOperation",
    "OperationType",
    "RawEntry",
    "Refund",
    "Spend",
    "Transfer",
    "Withdrawal",
    "operation_of",
    "plan_batch",
]
