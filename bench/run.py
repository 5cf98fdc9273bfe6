"""`make bench`: DynamoDB calls, items written and CPU time per ledger operation.

Runs every operation N times against the DynamoDBStore on DynamoDB Local, prints a
table and PASS/FAIL lines for the round-trip targets, writes bench/results.json, and
exits non-zero if a target fails or repetitions of one operation counted differently.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.counting import CallCounter, InconsistentCounts, OperationResult, measure, summarize
from bench.scenarios import ScenarioFailed, repetitions_max, scenarios
from bench.targets import Check, check_targets
from ledger.local.dynamodb_local import DynamoDBLocal, make_client
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore, ensure_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

repetitions_default = 200
results_path_default = Path(__file__).resolve().parent / "results.json"
exit_target_failed = 1
exit_measurement_invalid = 2


def run_benchmark(
    client: DynamoDBClient, table_name: str, repetitions: int
) -> dict[str, OperationResult]:
    """Measure every operation `repetitions` times on an existing ledger table."""
    if not 1 <= repetitions <= repetitions_max:
        raise ValueError(f"repetitions must be from 1 to {repetitions_max}")
    ledger = Ledger(DynamoDBStore(table_name, client=client))
    ledger_id = ledger.create_ledger(f"bench-{secrets.token_hex(4)}").id
    counter = CallCounter()
    results: dict[str, OperationResult] = {}
    for scenario in scenarios:
        prepared = scenario.prepare(ledger, ledger_id, repetitions)
        outcomes: list[object] = []
        samples = []
        with counter.attached(client):
            for call in prepared.calls:
                outcome, sample = measure(counter, call)
                outcomes.append(outcome)
                samples.append(sample)
        prepared.verify(outcomes)
        results[scenario.name] = summarize(scenario.name, samples)
    return results


def format_table(results: dict[str, OperationResult]) -> str:
    """A fixed-width table: one row per operation."""
    header = ("operation", "calls", "reads", "items_written", "cpu_ms_median")
    rows = [
        (
            name,
            " + ".join(f"{count} {call}" for call, count in sorted(result.calls.items())),
            str(result.reads),
            str(result.items_written),
            f"{result.cpu_ms_median:.3f}",
        )
        for name, result in results.items()
    ]
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        parts = [first.ljust(widths[0]), cells[1].ljust(widths[1])]
        parts += [cell.rjust(width) for cell, width in zip(rest[1:], widths[2:], strict=True)]
        return "  ".join(parts).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def results_document(
    results: dict[str, OperationResult], checks: Sequence[Check], repetitions: int
) -> dict[str, Any]:
    """The results.json content."""
    return {
        "operations": {name: result.as_json() for name, result in results.items()},
        "repetitions": repetitions,
        "targets": [{"name": check.name, "passed": check.passed} for check in checks],
        "notes": {
            "calls": "DynamoDB API calls of ONE operation, the same on every repetition",
            "items_written": "Put/Update/Delete actions of calls that succeeded",
            "items_attempted": "the same, counting calls that were refused (a replay) too",
            "consistent_reads": "GetItem and Query calls with ConsistentRead",
            "cpu_ms_median": "process CPU time in this process (not DynamoDB's), median",
        },
    }


def _benchmark_on(endpoint_url: str, repetitions: int) -> dict[str, OperationResult]:
    """Run on a fresh table of the DynamoDB Local at `endpoint_url`, then drop the table."""
    client = make_client(endpoint_url)
    table_name = f"ledger-bench-{secrets.token_hex(6)}"
    ensure_table(client, table_name)
    try:
        return run_benchmark(client, table_name, repetitions)
    finally:
        client.delete_table(TableName=table_name)


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "--repetitions",
        type=int,
        default=repetitions_default,
        help=f"runs per operation (default {repetitions_default})",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=results_path_default,
        help="where to write the JSON results (default bench/results.json)",
    )
    parser.add_argument(
        "--endpoint-url",
        help="use this running DynamoDB Local instead of starting an in-memory one",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print, write results; 0 only if every target passes."""
    arguments = parse_arguments(argv)
    try:
        if arguments.endpoint_url is not None:
            results = _benchmark_on(arguments.endpoint_url, arguments.repetitions)
        else:
            with DynamoDBLocal() as server:
                results = _benchmark_on(server.endpoint_url, arguments.repetitions)
    except (InconsistentCounts, ScenarioFailed) as error:
        print(f"bench: measurement invalid: {error}", file=sys.stderr)
        return exit_measurement_invalid
    checks = check_targets(results)
    print(f"{arguments.repetitions} repetitions per operation, DynamoDBStore on DynamoDB Local")
    print(format_table(results))
    print()
    for check in checks:
        print(check.line())
    document = results_document(results, checks, arguments.repetitions)
    arguments.output.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {arguments.output}")
    return 0 if all(check.passed for check in checks) else exit_target_failed


if __name__ == "__main__":
    sys.exit(main())
