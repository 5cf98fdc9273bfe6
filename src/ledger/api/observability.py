"""Logger, tracer and metrics of the API, one of each per container.

Locally (`ledger dev`, tests) the environment disables tracing and metrics, so both are
silent there; the logger follows POWERTOOLS_LOG_LEVEL.
"""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.functions import is_metrics_disabled

service = "ledger"
namespace = "ServerlessLedger"

logger = Logger(service=service)
# Only DynamoDB calls are worth a subsegment; patching every installed library would cost
# the cold start tens of milliseconds for nothing. The handler patches botocore once its
# client is primed: the priming calls at init belong to no trace, and X-Ray would warn of each.
tracer = Tracer(service=service, auto_patch=False)
traced_modules = ("botocore",)
metrics = Metrics(namespace=namespace, service=service)
# A read adds no metric, and that is no news: powertools would warn about it.
warnings.filterwarnings("ignore", message="No application metrics to publish")
# Disabled metrics still pile up and print once a metric reaches 100 values; don't add them.
_metrics_on = not is_metrics_disabled()


def count(name: str, value: int = 1) -> None:
    """Add to a count metric of this invocation."""
    if _metrics_on:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
