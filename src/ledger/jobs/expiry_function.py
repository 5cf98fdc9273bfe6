"""The expiry function: an EventBridge schedule invokes it, it voids the pending entries past
their expiry and then writes the expiring notices of those about to expire, as `ledger dev`'s
sweeper does on its timer.

Settings: `LEDGER_TABLE_NAME` (required); `LEDGER_EXPIRING_NOTICE_S`, how long before its
expiry a pending entry is noticed (default `ledger.service.expiring.default_notice_s`, an
hour). Both are read once per container, and an unusable one refuses the invocation.

Metrics (EMF, namespace `ServerlessLedger`, dimension `service` = `ledger-jobs`):

- `PendingExpired` (Count): pending entries this run voided as expired.
- `ExpiringNoticed` (Count): `ledger.entry.expiring` events this run wrote to the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

from ledger.environment import expiring_notice_s, table_name
from ledger.service import Ledger
from ledger.service.expiring import default_notice_s
from ledger.store.dynamodb.client import default_client
from ledger.store.dynamodb.store import DynamoDBStore

service = "ledger-jobs"
namespace = "ServerlessLedger"
expired_metric = "PendingExpired"
noticed_metric = "ExpiringNoticed"

logger = Logger(service=service)
metrics = Metrics(namespace=namespace, service=service)


@dataclass(frozen=True)
class ExpirySweep:
    """The pending entries of one table: those past their expiry voided, then those within
    `notice_s` of it noticed."""

    ledger: Ledger
    notice_s: int

    def run(self) -> dict[str, int]:
        """One sweep; how many entries it expired and how many it noticed."""
        expired = self.ledger.expire_pending()
        noticed = self.ledger.notice_expiring(self.notice_s)
        return {"expired": expired, "noticed": noticed}


@cache
def sweep() -> ExpirySweep:
    """The container's sweep, built on first use from its settings."""
    notice_s = expiring_notice_s(default_notice_s)
    return ExpirySweep(Ledger(DynamoDBStore(table_name(), default_client())), notice_s)


@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, int]:
    """The function's entry point: an EventBridge scheduled event (its content unused)."""
    counts = sweep().run()
    metrics.add_metric(name=expired_metric, unit=MetricUnit.Count, value=counts["expired"])
    metrics.add_metric(name=noticed_metric, unit=MetricUnit.Count, value=counts["noticed"])
    logger.info("expiry sweep", extra=counts)
    return counts
