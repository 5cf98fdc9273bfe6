"""Stand-in Lambda functions for the local gateway's tests: they echo, fail, stall or count.

Each runs in a worker process, so what a test needs to see comes back in the response.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

overlap_wait_s_max = 20
_active_lock = threading.Lock()
_active = 0


def authorize(event: dict[str, Any], context: Any) -> object:
    """Denies `Bearer deny`, answers nonsense to `Bearer nonsense`, allows anything else."""
    authorization = event["headers"].get("authorization")
    if authorization == "Bearer deny":
        return {"isAuthorized": False, "context": {}}
    if authorization == "Bearer nonsense":
        return {"allowed": "yes"}
    if authorization == "Bearer crash":
        raise RuntimeError("the authorizer stub fails on purpose")
    return {
        "isAuthorized": True,
        "context": {
            "key_id": "key_stub",
            "event_type": event["type"],
            "route_arn": event["routeArn"],
            "identity_source": event["identitySource"],
            "saw_body": "body" in event,
        },
    }


def handle(event: dict[str, Any], context: Any) -> object:
    """Routes on the path: each path is one behaviour a test asks for."""
    path = event["rawPath"]
    if path == "/crash":
        raise RuntimeError("the handler stub fails on purpose")
    if path == "/exit":
        os._exit(3)
    if path == "/stubborn":
        # Ignores SIGTERM, so only SIGKILL ends it.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(60)
    if path == "/unserializable":
        return {"statusCode": 200, "body": {"not", "json"}}
    if path == "/respond":
        # The test sends, as the body, the exact result the function should return.
        return json.loads(event["body"])
    if path == "/sleep":
        time.sleep(float(event["queryStringParameters"]["seconds"]))
        return {"statusCode": 200, "body": "awake"}
    if path == "/environment":
        names = event["queryStringParameters"]["names"].split(",")
        return {name: os.environ.get(name) for name in names}
    if path == "/overlap":
        return _overlap(event["queryStringParameters"], context.aws_request_id)
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"event": event, "context": _context_fields(context)}),
    }


def _overlap(query: dict[str, str], request_id: str) -> dict[str, Any]:
    """Marks its arrival in a shared folder and waits until `expect` invocations have arrived.

    Only invocations running at the same time can all see each other arrive, so `seen`
    proves overlap without measuring time; `max_active` is the most invocations seen
    running at once (arrived, not yet left). `in_process` is how many this interpreter
    ran at once, which must stay 1.
    """
    global _active  # noqa: PLW0603 - the point is to observe process-wide state
    with _active_lock:
        _active += 1
        in_process = _active
    arrived, left = Path(query["dir"], "arrived"), Path(query["dir"], "left")
    name = request_id.replace("/", "_")
    (arrived / name).touch()
    try:
        deadline = time.monotonic() + overlap_wait_s_max
        max_active = 0
        while True:
            seen = len(list(arrived.iterdir()))
            max_active = max(max_active, seen - len(list(left.iterdir())))
            if seen >= int(query["expect"]) or time.monotonic() >= deadline:
                return {
                    "seen": seen,
                    "max_active": max_active,
                    "pid": os.getpid(),
                    "in_process": in_process,
                }
            time.sleep(0.02)
    finally:
        (left / name).touch()
        with _active_lock:
            _active -= 1


def _context_fields(context: Any) -> dict[str, Any]:
    return {
        "aws_request_id": context.aws_request_id,
        "function_name": context.function_name,
        "memory_limit_in_mb": context.memory_limit_in_mb,
        "invoked_function_arn": context.invoked_function_arn,
        "remaining_ms": context.get_remaining_time_in_millis(),
    }
