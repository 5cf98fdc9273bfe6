"""Cold start: the wall time to import the API handler, and the authorizer, in a fresh
interpreter, each against a floor.

The handler's floor is what any Python Lambda on DynamoDB pays: `import boto3` and one
client. The authorizer's is lower, a bare botocore client: it imports nothing but its key
lookup. Each run is a new interpreter with the environment Lambda gives a function (tracing
on), timing the import from inside, so interpreter start-up is left out of all. The
programs' runs alternate, so all share whatever else the machine is doing.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ledger

runs_default = 10
handler_module = "ledger.api.handler"
handler_statement = f"import {handler_module}"
floor_statement = "import boto3; boto3.client('dynamodb')"
authorizer_statement = "import ledger.auth.authorizer"
botocore_floor_statement = (
    "import botocore.session; botocore.session.get_session().create_client('dynamodb')"
)
# What the handler's frameworks cost before any ledger code: the floor's client, plus the
# powertools resolver with validation, pydantic, and the logger, tracer and metrics.
frameworks_statement = (
    "import boto3; boto3.client('dynamodb')\n"
    "import pydantic\n"
    "from aws_lambda_powertools import Logger, Metrics, Tracer\n"
    "from aws_lambda_powertools.event_handler import APIGatewayHttpResolver\n"
    "APIGatewayHttpResolver(enable_validation=True)\n"
    "Logger(service='ledger'); Metrics(namespace='ledger')\n"
    "Tracer(service='ledger', patch_modules=('botocore',))"
)
# The child's tracer must be on, as in Lambda: otherwise the X-Ray setup is not what is timed.
handler_check = (
    "from ledger.api.observability import tracer\n"
    "assert not tracer.disabled, 'tracing is off: the environment is not Lambda-like'"
)
child_timeout_s = 300
seconds_decimals = 4
ratio_decimals = 3
region = "us-east-1"
# Network use is what a module must not do at import (the X-Ray daemon, the metadata service).
network_events = ("socket.connect", "socket.sendto", "socket.sendmsg", "socket.getaddrinfo")


class ColdStartFailed(RuntimeError):
    """A child interpreter failed, used the network at import, or answered nonsense."""


@dataclass(frozen=True)
class ColdStart:
    """Median import times of the handler, its floor and the frameworks, and of the
    authorizer and its botocore floor, over `runs` each."""

    handler_s: float
    floor_s: float
    runs: int
    frameworks_s: float | None = None
    authorizer_s: float | None = None
    botocore_floor_s: float | None = None

    @property
    def ratio(self) -> float:
        """How many floors the handler's import costs."""
        return round(self.handler_s / self.floor_s, ratio_decimals)

    @property
    def authorizer_ratio(self) -> float | None:
        """How many bare botocore clients the authorizer's import costs."""
        if self.authorizer_s is None or self.botocore_floor_s is None:
            return None
        return round(self.authorizer_s / self.botocore_floor_s, ratio_decimals)

    def as_json(self) -> dict[str, Any]:
        """The results.json shape."""
        return {
            "handler_s": self.handler_s,
            "floor_s": self.floor_s,
            "ratio": self.ratio,
            "frameworks_s": self.frameworks_s,
            "ratio_over_frameworks": (
                None
                if self.frameworks_s is None
                else round(self.handler_s / self.frameworks_s, ratio_decimals)
            ),
            "authorizer_s": self.authorizer_s,
            "botocore_floor_s": self.botocore_floor_s,
            "authorizer_ratio": self.authorizer_ratio,
            "runs": self.runs,
        }


def lambda_environment(scratch: Path) -> dict[str, str]:
    """What Lambda sets for a function, and no more: nothing of this shell leaks in.

    Credentials are dummies: nothing is called. Python writes its bytecode cache under
    `scratch`, so every timed run reads compiled modules, as a deployment package that
    ships them does, whatever the caller's PYTHONDONTWRITEBYTECODE says.
    """
    return {
        "PATH": os.environ.get("PATH", os.defpath),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        # Powertools turns tracing on by it, and the X-Ray SDK takes its Lambda set-up (it
        # then touches /tmp/.aws-xray/initialized, as it does in Lambda).
        "LAMBDA_TASK_ROOT": str(scratch),
        "AWS_LAMBDA_FUNCTION_NAME": "ledger-api",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
        "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_SESSION_TOKEN": "bench",
        "AWS_CONFIG_FILE": str(scratch / "no-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(scratch / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
        "LEDGER_TABLE_NAME": "ledger",
        "POWERTOOLS_SERVICE_NAME": "ledger",
        # The same ledger code as this process, installed or not.
        "PYTHONPATH": str(Path(ledger.__file__).resolve().parents[1]),
        "PYTHONPYCACHEPREFIX": str(scratch / "pycache"),
    }


def child_program(statement: str, check: str = "", *, guard_network: bool = False) -> str:
    """A program that times `statement` and prints the seconds as JSON.

    With `guard_network`, an audit hook refuses network use during the import (it slows
    the import, so only untimed runs use it); it also keeps what it saw, in case the
    importing code swallows the refusal. The check runs after the clock stops.
    """
    lines = ["import json, sys, time"]
    if guard_network:
        lines += [
            "used = []",
            "def guard(event, args):",
            f"    if event in {network_events!r}:",
            "        used.append(f'{event} {args!r}')",
            "        raise RuntimeError(f'network used at import: {event} {args!r}')",
            "sys.addaudithook(guard)",
        ]
    lines += ["start = time.perf_counter()", statement, "seconds = time.perf_counter() - start"]
    if guard_network:
        lines.append("assert not used, f'network used at import: {used}'")
    lines += [check, "print(json.dumps(seconds))"]
    return "\n".join(lines) + "\n"


def time_import(program: str, env: dict[str, str], cwd: Path) -> float:
    """Run the program in a fresh interpreter; the seconds it measured."""
    try:
        completed = subprocess.run(
            [sys.executable, "-c", program],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=child_timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired as error:
        raise ColdStartFailed(f"no answer within {child_timeout_s} s") from error
    if completed.returncode != 0:
        raise ColdStartFailed(f"exit {completed.returncode}: {completed.stderr.strip()[-2000:]}")
    try:
        seconds = json.loads(completed.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError) as error:
        raise ColdStartFailed(f"no time printed: {completed.stdout[-500:]!r}") from error
    if not isinstance(seconds, float) or seconds <= 0:
        raise ColdStartFailed(f"not a time: {seconds!r}")
    return seconds


def measure_cold_start(runs: int = runs_default) -> ColdStart:
    """Median import seconds of each program, runs interleaved.

    One untimed run of each comes first: it fills the bytecode cache and checks that
    neither function's import uses the network.
    """
    if runs < 1:
        raise ValueError("runs must be at least 1")
    programs = {
        "handler": child_program(handler_statement, handler_check),
        "floor": child_program(floor_statement),
        "frameworks": child_program(frameworks_statement),
        "authorizer": child_program(authorizer_statement),
        "botocore_floor": child_program(botocore_floor_statement),
    }
    with tempfile.TemporaryDirectory(prefix="ledger-cold-start-") as directory:
        scratch = Path(directory)
        env = lambda_environment(scratch)
        guarded = ((handler_statement, handler_check), (floor_statement, ""))
        for statement, check in (*guarded, (authorizer_statement, "")):
            time_import(child_program(statement, check, guard_network=True), env, scratch)
        # The botocore floor needs no run of its own: the boto3 floor compiled its modules.
        time_import(programs["frameworks"], env, scratch)
        times: dict[str, list[float]] = {name: [] for name in programs}
        for run in range(runs):
            # Alternating who goes first keeps none from always finding the caches warmer.
            order = list(programs) if run % 2 == 0 else list(reversed(programs))
            for name in order:
                times[name].append(time_import(programs[name], env, scratch))
    medians = {
        name: round(statistics.median(seconds), seconds_decimals) for name, seconds in times.items()
    }
    return ColdStart(
        handler_s=medians["handler"],
        floor_s=medians["floor"],
        runs=runs,
        frameworks_s=medians["frameworks"],
        authorizer_s=medians["authorizer"],
        botocore_floor_s=medians["botocore_floor"],
    )
