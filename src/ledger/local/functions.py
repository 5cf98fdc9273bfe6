"""The stream's consumers that `ledger dev` runs: each a Lambda function's name and handler.

Each gets every batch of the table's stream, as its event source mapping would give it
in AWS; the stream poller invokes them by name.
"""

from __future__ import annotations

from ledger.local.container import Function

stream_consumers: tuple[Function, ...] = (
    Function("ledger-history", "ledger.consumers.history:lambda_handler"),
    Function("ledger-audit", "ledger.consumers.audit:lambda_handler"),
    Function("ledger-events", "ledger.consumers.events:lambda_handler"),
    Function("ledger-monitors", "ledger.consumers.monitors:lambda_handler"),
)

# The inbound queue's consumer; the inbound poller invokes it with SQS batches of the spool.
inbound_consumer = Function("ledger-inbound", "ledger.consumers.inbound:lambda_handler")
