"""The external balances function: an EventBridge schedule invokes it, it fetches each
configured source and records its check against the ledger (actor `scheduler`), and what
it found goes to the logs and to CloudWatch. A source that fails is logged and counted, and
the others still run.

Settings: `LEDGER_TABLE_NAME` (required); `LEDGER_EXTERNAL_CHECKS`, the checks as a JSON
document (`ledger.jobs.external_source_config.checks_from_config`, docs/reconciliation.md).
Both are read once per container, and an unusable one refuses the invocation.

Metrics (EMF, namespace `ServerlessLedger`, dimensions `service` = `ledger-jobs` and
`check` = `external`):

- `ExternalChecks` (Count): checks this run recorded.
- `ReconciliationMismatches` (Count): those outside their tolerance; it should stay 0.
- `ExternalSourceFailures` (Count): sources that gave no balance, or whose check the ledger
  refused (each logged with its source and reason).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from ledger.domain.errors import LedgerError
from ledger.domain.external import ExternalCheck
from ledger.domain.money import format_amount
from ledger.domain.timestamps import timestamp
from ledger.environment import InvalidSetting, projections, table_name
from ledger.jobs.external_source_config import ConfiguredCheck, checks_from_config
from ledger.jobs.external_sources import SourceConfigError, SourceError
from ledger.service import Ledger
from ledger.store.dynamodb.client import default_client
from ledger.store.dynamodb.store import DynamoDBStore

service = "ledger-jobs"
namespace = "ServerlessLedger"
checks_variable = "LEDGER_EXTERNAL_CHECKS"
checks_metric = "ExternalChecks"
mismatches_metric = "ReconciliationMismatches"
failures_metric = "ExternalSourceFailures"
scheduler = "scheduler"

logger = Logger(service=service)
metrics = Metrics(namespace=namespace, service=service)


@dataclass
class ExternalChecksRun:
    """What one run recorded, and which sources failed and why."""

    checks: list[ExternalCheck] = field(default_factory=list)
    failures: list[dict[str, str]] = field(default_factory=list)

    @property
    def mismatches(self) -> int:
        """The checks outside their tolerance."""
        return sum(1 for check in self.checks if not check.within_tolerance)

    def summary(self) -> dict[str, int]:
        """The run's counts."""
        return {
            "checked": len(self.checks),
            "mismatches": self.mismatches,
            "failures": len(self.failures),
        }


@dataclass(frozen=True)
class ExternalBalanceJob:
    """The configured checks, run one after another against one ledger service."""

    ledger: Ledger
    checks: tuple[ConfiguredCheck, ...]

    def run(self) -> ExternalChecksRun:
        """Fetch every source and record its check; a failure stops only its own."""
        run = ExternalChecksRun()
        for configured in self.checks:
            name = configured.source.name
            try:
                run.checks.append(self._check(configured))
            except (SourceError, LedgerError) as error:
                run.failures.append({"source": name, "reason": str(error)})
        return run

    def _check(self, configured: ConfiguredCheck) -> ExternalCheck:
        source = configured.source
        balance = source.fetch()
        # A balance the source dates is checked as of then, once per date (a retried run
        # replays it); one without a date is checked against the ledger now.
        dated = source.as_of_pointer is not None
        return self.ledger.check_external_balance(
            configured.ledger_id,
            source.name,
            source.currency.code,
            format_amount(balance.amount, source.currency),
            as_of=balance.as_of if dated else None,
            account_ids=configured.account_ids,
            account_type=configured.account_type,
            tolerance=configured.tolerance,
            actor=scheduler,
            idempotency_key=f"{source.name}@{timestamp(balance.as_of)}" if dated else None,
        )


def configured_checks() -> tuple[ConfiguredCheck, ...]:
    """The checks in `LEDGER_EXTERNAL_CHECKS`; unset or blank is none."""
    value = os.environ.get(checks_variable, "").strip()
    if not value:
        return ()
    try:
        return tuple(checks_from_config(json.loads(value)))
    except json.JSONDecodeError as error:
        raise InvalidSetting(f"{checks_variable} is not JSON: {error}") from None
    except SourceConfigError as error:
        raise InvalidSetting(f"{checks_variable}: {error}") from None


def publish(run: ExternalChecksRun, *, metrics: Metrics, logger: Logger) -> None:
    """Log each failure and each mismatch, the run as a summary; count the run."""
    for failure in run.failures:
        logger.error("external balance source failed", extra=failure)
    for check in run.checks:
        if not check.within_tolerance:
            logger.error(
                "external balance outside tolerance",
                extra={
                    "ledger_id": check.ledger_id,
                    "source": check.source,
                    "check_id": check.id,
                    "difference": format_amount(check.difference, check.currency),
                },
            )
    metrics.add_dimension(name="check", value="external")
    metrics.add_metric(name=checks_metric, unit=MetricUnit.Count, value=len(run.checks))
    metrics.add_metric(name=mismatches_metric, unit=MetricUnit.Count, value=run.mismatches)
    metrics.add_metric(name=failures_metric, unit=MetricUnit.Count, value=len(run.failures))
    logger.info("external balance checks", extra=run.summary())


@cache
def job() -> ExternalBalanceJob:
    """The container's job, built on first use from its settings."""
    store = DynamoDBStore(table_name(), default_client(), projections=projections())
    return ExternalBalanceJob(Ledger(store), configured_checks())


@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """The function's entry point: an EventBridge scheduled event (its content unused)."""
    run = job().run()
    publish(run, metrics=metrics, logger=logger)
    return run.summary()
