"""A batch of movements planned as one write: typed operations (or mappings parsed into
them), drafted, netted, then merged into one plan."""

from ledger.planning.batch.operations import (
    BatchOperation,
    Conversion,
    Escrow,
    Hold,
    OneAccountOperation,
    OperationType,
    Preset,
    RawEntry,
    Transfer,
)
from ledger.planning.batch.plan import BatchPlan, operation_of, plan_batch

__all__ = [
    "BatchOperation",
    "BatchPlan",
    "Conversion",
    "Escrow",
    "Hold",
    "OneAccountOperation",
    "OperationType",
    "Preset",
    "RawEntry",
    "Transfer",
    "operation_of",
    "plan_batch",
]
