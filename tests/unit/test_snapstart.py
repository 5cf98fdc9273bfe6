"""Lambda SnapStart: what init builds before the snapshot, and the restore hook.

The priming checks run in a fresh interpreter (`snapstart_probe.py`), as a Lambda init
does: they import both handlers, then count what the first requests still build.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from snapshot_restore_py import get_after_restore

import ledger
from ledger import snapstart
from ledger.store.dynamodb.retries import backoff_ms

source_root = Path(ledger.__file__).resolve().parents[1]
repository_root = source_root.parent
probe = Path(__file__).with_name("snapstart_probe.py")
draws = 16


@pytest.fixture(scope="module")
def report() -> dict[str, Any]:
    """What a fresh interpreter reports after importing the handlers and a few requests."""
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "PYTHONPATH": os.pathsep.join([str(source_root), str(repository_root)]),
        "LEDGER_TABLE_NAME": "ledger-probe",
        "LEDGER_PROJECTIONS": "",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        # Only the probe's own requests sign; the priming at import needs no credentials.
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "ERROR",
    }
    completed = subprocess.run(
        [sys.executable, str(probe)], env=env, capture_output=True, text=True, check=True
    )
    answer: dict[str, Any] = json.loads(completed.stdout)
    return answer


def test_every_route_has_its_models_and_signature_built_at_import(report: dict[str, Any]) -> None:
    # GIVEN / WHEN a fresh interpreter imports the API's handler (the fixture)
    # THEN no route is left to build its validation models or read its signature
    assert report["handler"] == "ledger.api.handler"
    assert report["routes"] > 50
    assert (report["models_unbuilt"], report["signatures_unread"]) == (0, 0)


def test_first_requests_build_no_validation_model(report: dict[str, Any]) -> None:
    # GIVEN the imported API
    # WHEN its first requests come: health, a body refused by validation, a missing ledger
    # THEN they are answered and build no TypeAdapter
    assert report["first_statuses"] == [200, 400, 404]
    assert report["type_adapters_on_first_requests"] == []
    # AND the count can fail: a route whose models are dropped builds them again
    assert report["type_adapters_of_an_unprimed_route"] > 0


def test_first_dynamodb_calls_resolve_no_shape_and_no_endpoint(report: dict[str, Any]) -> None:
    # GIVEN the imported API and authorizer, each client primed at import
    # WHEN the API reads a ledger and the authorizer looks a key up, for the first time
    # THEN each sent its GetItem without resolving a model shape or an endpoint
    assert report["sent_on_first_requests"] == ["DynamoDB_20120810.GetItem"] * 2
    assert report["authorizer_answer"] == "false"
    assert report["shapes_on_first_requests"] == []
    assert report["endpoints_on_first_requests"] == 0
    # AND the count can fail: an operation neither makes resolves its shapes on first call
    assert report["shapes_of_an_unprimed_operation"] > 0


def test_init_opens_no_connection(report: dict[str, Any]) -> None:
    # GIVEN / WHEN the handlers are imported, clients primed
    # THEN the API's client holds no connection pool: a snapshot shares no connection
    assert report["connections_at_import"] == 0


def test_both_handlers_register_the_reseed_once(report: dict[str, Any]) -> None:
    # GIVEN / WHEN both handlers are imported into one interpreter
    # THEN the restore hooks hold the reseed exactly once
    assert report["after_restore"] == ["reseed"]


def test_installing_again_adds_no_second_hook() -> None:
    # GIVEN the hook installed
    snapstart.install()
    before = [hook for hook, _, _ in get_after_restore()]

    # WHEN it is installed again
    snapstart.install()

    # THEN the hooks are unchanged and hold the reseed once
    after = [hook for hook, _, _ in get_after_restore()]
    assert after == before
    assert after.count(snapstart.reseed) == 1


def restored_jitter(snapshot: object) -> list[int]:
    """The retry waits a container restored from `snapshot` draws, after the restore hooks."""
    random.setstate(snapshot)  # type: ignore[arg-type]
    for hook, arguments, options in get_after_restore():
        hook(*arguments, **options)
    return [backoff_ms(attempt % 6) for attempt in range(draws)]


def test_two_restored_containers_draw_different_jitter() -> None:
    # GIVEN one snapshot of the random state, taken after init, and the hook installed
    snapstart.install()
    random.seed(20261203)
    snapshot = random.getstate()

    # WHEN two containers are restored from it and run the restore hooks
    first = restored_jitter(snapshot)
    second = restored_jitter(snapshot)

    # THEN their retry waits differ
    assert first != second


def test_without_the_hook_restored_containers_draw_the_same_jitter() -> None:
    # GIVEN one snapshot of the random state
    random.seed(20261203)
    snapshot = random.getstate()

    # WHEN two containers restored from it run no hook
    random.setstate(snapshot)
    first = [backoff_ms(attempt % 6) for attempt in range(draws)]
    random.setstate(snapshot)
    second = [backoff_ms(attempt % 6) for attempt in range(draws)]

    # THEN they draw the same waits: the problem the hook solves
    assert first == second


def test_a_traced_import_primes_without_x_ray_warnings_and_then_traces(tmp_path: Path) -> None:
    # GIVEN a Lambda-like environment with tracing on
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "PYTHONPATH": str(source_root),
        "LAMBDA_TASK_ROOT": str(tmp_path),
        "AWS_LAMBDA_FUNCTION_NAME": "ledger-api",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "LEDGER_TABLE_NAME": "ledger-probe",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    program = (
        "import logging\n"
        "logging.basicConfig(level=logging.WARNING)\n"
        "import ledger.api.handler\n"
        "import botocore.client\n"
        "print(hasattr(botocore.client, '_xray_enabled'))\n"
    )

    # WHEN the API's handler is imported, priming its client
    completed = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
    )

    # THEN X-Ray warned of no call at init, and botocore is traced for the requests
    assert "aws_xray_sdk" not in completed.stderr, completed.stderr
    assert completed.stdout.strip() == "True"
