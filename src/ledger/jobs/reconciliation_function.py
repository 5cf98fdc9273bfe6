"""The reconciliation function: an EventBridge schedule invokes it, it runs the job within
the invocation's remaining time, and what it found goes to the logs and to CloudWatch.

Metrics (EMF, namespace `ServerlessLedger`, dimension `service` = `ledger-jobs`):

- `ReconciliationMismatches` (Count): mismatches and unbalanced currencies over the run's
  ledgers; it must stay 0. Deliberately without a ledger dimension, so it is one metric
  to alarm on however many ledgers there are; each finding is logged with its ledger.
- `LedgersReconciled`, `LedgersTooLarge` (Count): how many ledgers the run checked, and
  how many it could not (past the report limits).
- `Available`, `Pending`, `Escrowed` per ledger and currency (dimensions `ledger_id`,
  `currency`): integer minor units (cents for USD). Each ledger and currency is three
  custom metrics, billed as such; CloudWatch keeps values as doubles, exact to 2^53.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from ledger.environment import projections, table_name
from ledger.jobs.reconciliation import ReconciliationJob, ReconciliationRun
from ledger.service import Ledger
from ledger.store.dynamodb.checkpoints import DynamoDBCheckpoints
from ledger.store.dynamodb.client import default_client
from ledger.store.dynamodb.store import DynamoDBStore

service = "ledger-jobs"
namespace = "ServerlessLedger"
mismatches_metric = "ReconciliationMismatches"
reconciled_metric = "LedgersReconciled"
too_large_metric = "LedgersTooLarge"

logger = Logger(service=service)
metrics = Metrics(namespace=namespace, service=service)


def ledger_metrics() -> EphemeralMetrics:
    """A metrics set of its own for one ledger and currency, flushed on its own."""
    return EphemeralMetrics(namespace=namespace, service=service)


def publish(run: ReconciliationRun, *, metrics: Metrics, logger: Logger) -> None:
    """Log each finding as an error and the run as a summary; count the run in `metrics`
    and emit each ledger's totals per currency as a metrics set of their own."""
    for finding in run.findings():
        logger.error(f"reconciliation {finding['problem']}", extra=finding)
    if run.checkpoint == "taken":
        logger.warning(
            "another reconciliation run saved the checkpoint first; this run's is dropped",
            extra={"next_after": run.next_after},
        )
    metrics.add_metric(name=mismatches_metric, unit=MetricUnit.Count, value=run.mismatches)
    metrics.add_metric(name=reconciled_metric, unit=MetricUnit.Count, value=len(run.checked))
    metrics.add_metric(name=too_large_metric, unit=MetricUnit.Count, value=len(run.too_large))
    for result in run.checked:
        for code, totals in result.totals.items():
            each = ledger_metrics()
            each.add_dimension(name="ledger_id", value=result.ledger_id)
            each.add_dimension(name="currency", value=code)
            # Minor units, as integers: the ledger's own amounts, never a float of them.
            each.add_metric(name="Available", unit=MetricUnit.NoUnit, value=totals.available)
            each.add_metric(name="Pending", unit=MetricUnit.NoUnit, value=totals.pending_debits)
            each.add_metric(name="Escrowed", unit=MetricUnit.NoUnit, value=totals.escrowed)
            each.flush_metrics()
    logger.info("reconciliation run", extra=run.summary())


@cache
def job() -> ReconciliationJob:
    """The container's job, built on first use from `LEDGER_TABLE_NAME` (required)."""
    name = table_name()
    client = default_client()
    store = DynamoDBStore(name, client, projections=projections())
    return ReconciliationJob(Ledger(store), DynamoDBCheckpoints(name, client))


@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The function's entry point: an EventBridge scheduled event (its content unused)."""
    run = job().run(context.get_remaining_time_in_millis)
    publish(run, metrics=metrics, logger=logger)
    return run.summary()
