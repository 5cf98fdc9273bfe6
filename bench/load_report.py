"""What `make bench-load` reports: latency percentiles, one line per scenario and level, the
balances each account must hold after the run, the report as JSON and as a table. Pure."""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

percentiles = (50, 95, 99)
machine_note = (
    "Absolute numbers are this machine's: one `ledger dev` process on DynamoDB Local, "
    "client threads on the same machine. Compare runs on one machine, not across machines."
)


def nearest_rank(values: Sequence[float], percent: int) -> float:
    """The nearest-rank percentile: the smallest value with at least `percent`% of values at or
    below it."""
    if not values:
        raise ValueError("no values to take a percentile of")
    if not 0 < percent <= 100:
        raise ValueError(f"percent must be in (0, 100], got {percent}")
    ordered = sorted(values)
    # Integer ceiling of percent * n / 100: a float product could round past a whole rank.
    rank = -(-percent * len(ordered) // 100)
    return ordered[rank - 1]


@dataclass(frozen=True)
class ClientRun:
    """What one client thread did: the latency of each request it sent, how many failed, and
    how many transfers the service accepted (answered 2xx)."""

    source_id: str
    target_id: str
    latencies_s: tuple[float, ...]
    errors: int
    accepted: int


@dataclass(frozen=True)
class LevelResult:
    """One scenario at one level of concurrency, summed over its clients."""

    scenario: str
    clients: int
    requests: int
    errors: int
    duration_s: float
    stopped_by: str
    latencies_ms: Mapping[int, float]

    @property
    def throughput_rps(self) -> float:
        """Requests answered (successes and errors) per second of the level's wall time."""
        return self.requests / self.duration_s if self.duration_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """The level as the JSON report holds it."""
        return {
            "scenario": self.scenario,
            "clients": self.clients,
            "requests": self.requests,
            "errors": self.errors,
            "duration_s": round(self.duration_s, 3),
            "stopped_by": self.stopped_by,
            "throughput_rps": round(self.throughput_rps, 1),
            "latency_ms": {f"p{percent}": value for percent, value in self.latencies_ms.items()},
        }


def summarize_level(
    scenario: str,
    runs: Sequence[ClientRun],
    duration_s: float,
    *,
    requests_max: int,
) -> LevelResult:
    """Sum the clients of one level; `stopped_by` says whether the count or the clock ended it."""
    latencies = [latency for run in runs for latency in run.latencies_s]
    requests = len(latencies)
    return LevelResult(
        scenario=scenario,
        clients=len(runs),
        requests=requests,
        errors=sum(run.errors for run in runs),
        duration_s=duration_s,
        stopped_by="count" if requests >= requests_max else "time",
        latencies_ms={
            percent: round(nearest_rank(latencies, percent) * 1000, 2) if latencies else 0.0
            for percent in percentiles
        },
    )


def expected_balances(
    runs: Sequence[ClientRun], funding_minor: int, amount_minor: int
) -> dict[str, int]:
    """The posted balance every account of a level must show, in minor units: each source its
    funding less what it sent, each target what it received (a shared target the sum)."""
    sources = [run.source_id for run in runs]
    if len(set(sources)) != len(sources):
        raise ValueError("each client must send from a source of its own")
    if set(sources) & {run.target_id for run in runs}:
        raise ValueError("an account cannot be both a source and a target")
    expected = {run.source_id: funding_minor - run.accepted * amount_minor for run in runs}
    for run in runs:
        expected[run.target_id] = expected.get(run.target_id, 0) + run.accepted * amount_minor
    return expected


@dataclass(frozen=True)
class Mismatch:
    """An account whose posted balance is not what the run sent it."""

    account_id: str
    expected: str
    actual: str

    def to_dict(self) -> dict[str, str]:
        """The mismatch as the JSON report holds it."""
        return {"account_id": self.account_id, "expected": self.expected, "actual": self.actual}


def machine() -> dict[str, Any]:
    """Where the numbers come from."""
    return {
        "note": machine_note,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
    }


def assemble(
    *,
    settings: Mapping[str, Any],
    hot_shards: int,
    levels: Sequence[LevelResult],
    balances_checked: int,
    mismatches: Sequence[Mismatch],
    reconciliation: Mapping[str, Any],
) -> dict[str, Any]:
    """The whole report; `ok` only with no error, every balance exact and a clean
    reconciliation."""
    errors = sum(level.errors for level in levels)
    ok = errors == 0 and not mismatches and reconciliation.get("ok") is True
    return {
        "ok": ok,
        "machine": machine(),
        "settings": dict(settings),
        "hot_shards": hot_shards,
        "levels": [level.to_dict() for level in levels],
        "errors": errors,
        "balances": {
            "checked": balances_checked,
            "mismatches": [mismatch.to_dict() for mismatch in mismatches],
        },
        "reconciliation": dict(reconciliation),
    }


table_columns = ("scenario", "clients", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms")


def table(levels: Sequence[LevelResult]) -> str:
    """The levels as a Markdown table, as docs/scaling.md shows them."""
    rows = [
        (
            level.scenario,
            str(level.clients),
            str(level.requests),
            str(level.errors),
            f"{level.throughput_rps:.1f}",
            *(f"{level.latencies_ms[percent]:.1f}" for percent in percentiles),
        )
        for level in levels
    ]
    widths = [max(len(row[index]) for row in (table_columns, *rows)) for index in range(8)]

    def line(cells: Sequence[str]) -> str:
        padded = (
            cell.ljust(width) if index == 0 else cell.rjust(width)
            for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
        )
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            "-" * (width + 1) + (":" if index else "-") for index, width in enumerate(widths)
        )
        + "|"
    )
    return "\n".join([line(table_columns), rule, *(line(row) for row in rows)])
