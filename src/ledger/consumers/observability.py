"""Logger and metrics of the stream consumers, one of each per container."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics

service = "ledger-consumers"
namespace = "ServerlessLedger"

logger = Logger(service=service)
metrics = Metrics(namespace=namespace, service=service)
