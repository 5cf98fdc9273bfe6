"""A stream consumer for tests of `ledger dev`: it writes what it gets to a file."""

from __future__ import annotations

import json
import os
from typing import Any


def lambda_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Append one line per record (its key, stream and the worker it ran in); fail on none."""
    with open(os.environ["STREAM_PROBE_FILE"], "a") as file:
        for record in event["Records"]:
            line = {
                "function_name": context.function_name,
                "pid": os.getpid(),
                "event_source_arn": record["eventSourceARN"],
                "sequence_number": record["dynamodb"]["SequenceNumber"],
                "pk": record["dynamodb"]["Keys"]["pk"]["S"],
            }
            file.write(json.dumps(line) + "\n")
    return {"batchItemFailures": []}
