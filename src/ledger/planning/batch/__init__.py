"""A batch of movements planned as one write: parsed, netted, then merged into one plan."""

from ledger.planning.batch.plan import BatchPlan, operation_of, plan_batch

__all__ = ["BatchPlan", "operation_of", "plan_batch"]
