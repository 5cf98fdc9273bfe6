"""Logger and metrics of the stream consumers, one of each per container."""

from __future__ import annotations

import warnings

from aws_lambda_powertools import Logger, Metrics

service = "ledger-consumers"
namespace = "ServerlessLedger"

logger = Logger(service=service)
metrics = Metrics(namespace=namespace, service=service)
# A batch that counts nothing (no mismatch, no removal) is the normal case, not news.
warnings.filterwarnings("ignore", message="No application metrics to publish")
