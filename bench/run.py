"""`make bench`: DynamoDB calls, items written and CPU time per ledger operation.

Runs every operation N times against the DynamoDBStore on DynamoDB Local, then times the
API handler's CPU per request with DynamoDB stubbed and its cold start against a bare
boto3 client (the authorizer's against a bare botocore client), and prices a million of
four operations on AWS from those measurements (bench/cost.py), and models how many
operations a second hot accounts take (bench/hot_accounts.py). Prints tables and
PASS/FAIL lines for the targets, writes bench/results.json, and exits non-zero if a
round-trip or hot-account target fails or a measurement is invalid (repetitions that
counted differently, a request answered wrongly, a failed child).
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.api import measure_api_cpu, requests_default
from bench.cold_start import ColdStartFailed, measure_cold_start, runs_default
from bench.consumers import (
    ConsumerFailed,
    ConsumersReport,
    consumers_checks,
    format_consumers,
    measure_consumers,
    rounds_default,
)
from bench.cost import cost_per_million, usages
from bench.counting import (
    CallCounter,
    InconsistentCounts,
    OperationResult,
    Sample,
    measure,
    summarize,
)
from bench.event_lag import format_event_lag, measure_lags
from bench.events import EventsFailed, EventsReport, events_checks, format_events, measure_events
from bench.history_lag import (
    LagMeasurementFailed,
    format_history_lag,
    writes_default,
)
from bench.hot_accounts import (
    hot_accounts_checks,
    hot_accounts_report,
)
from bench.item_size import item_size, write_units, write_units_floor
from bench.matching import format_matching, measure_matching
from bench.monitors import (
    MonitorsReport,
    format_monitors,
    measure_monitors,
    monitors_checks,
)
from bench.monitors import rounds_default as monitor_rounds_default
from bench.report import (
    format_api_cpu,
    format_cold_start,
    format_cost,
    format_hot_accounts,
    format_item_sizes,
    format_table,
)
from bench.results import results_document
from bench.scenarios import ScenarioFailed, repetitions_max, scenarios
from bench.targets import authorizer_cold_start_check, check_targets, cold_start_check
from ledger.local.dynamodb_local import DynamoDBLocal, make_client
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore, ensure_table

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

repetitions_default = 200
results_path_default = Path(__file__).resolve().parent / "results.json"
exit_target_failed = 1
exit_measurement_invalid = 2


def written_cost(client: DynamoDBClient, sample: Sample) -> tuple[tuple[int, ...], int, int]:
    """Sizes of the items a sample wrote, read back whole, with their write units and floor.

    Runs after the measured call, so its reads are not counted; the images before the write
    were kept by the counter. A deleted item is sized as it was.
    """
    sizes: list[int] = []
    units = floor = 0
    for written in sample.written:
        after: dict[str, Any] | None = None
        if not written.deleted:
            answer = client.get_item(
                TableName=written.table_name, Key=written.key, ConsistentRead=True
            )
            after = dict(answer["Item"]) if "Item" in answer else None
        sizes.append(item_size(after if after is not None else written.before or {}))
        units += write_units(written.before, after, written.transactional)
        floor += write_units_floor(written.before, after, written.transactional)
    return tuple(sizes), units, floor


def _costlier(
    first: tuple[tuple[int, ...], int, int], second: tuple[tuple[int, ...], int, int]
) -> tuple[tuple[int, ...], int, int]:
    return max(first, second, key=lambda cost: (cost[1], sum(cost[0])))


def run_benchmark(
    client: DynamoDBClient, table_name: str, repetitions: int
) -> dict[str, OperationResult]:
    """Measure every operation `repetitions` times on an existing ledger table."""
    if not 1 <= repetitions <= repetitions_max:
        raise ValueError(f"repetitions must be from 1 to {repetitions_max}")
    ledger = Ledger(DynamoDBStore(table_name, client=client))
    ledger_id = ledger.create_ledger(f"bench-{secrets.token_hex(4)}").id
    counter = CallCounter(reader=make_client(client.meta.endpoint_url))
    results: dict[str, OperationResult] = {}
    for scenario in scenarios:
        prepared = scenario.prepare(ledger, ledger_id, repetitions)
        outcomes: list[object] = []
        samples = []
        # The first and the last repetition are sized: numbers (versions, balances) grow.
        sized: list[tuple[tuple[int, ...], int, int]] = []
        with counter.attached(client):
            for index, call in enumerate(prepared.calls):
                counter.keep_before = index in (0, len(prepared.calls) - 1)
                outcome, sample = measure(counter, call)
                outcomes.append(outcome)
                samples.append(sample)
                if counter.keep_before:
                    sized.append(written_cost(client, sample))
        prepared.verify(outcomes)
        item_bytes, units, floor = _costlier(sized[0], sized[-1])
        results[scenario.name] = replace(
            summarize(scenario.name, samples),
            item_bytes=item_bytes,
            write_units=units,
            write_units_floor=floor,
        )
    return results


def _benchmark_on(
    endpoint_url: str, arguments: argparse.Namespace
) -> tuple[dict[str, OperationResult], ConsumersReport, MonitorsReport, EventsReport]:
    """The operations on a fresh table of the DynamoDB Local at `endpoint_url` (dropped
    afterwards), and the stream consumers, the monitors and the events consumer on tables
    of their own."""
    client = make_client(endpoint_url)
    table_name = f"ledger-bench-{secrets.token_hex(6)}"
    ensure_table(client, table_name)
    try:
        results = run_benchmark(client, table_name, arguments.repetitions)
    finally:
        client.delete_table(TableName=table_name)
    consumers = measure_consumers(endpoint_url, arguments.consumer_rounds)
    monitors = measure_monitors(endpoint_url, arguments.monitor_rounds)
    return results, consumers, monitors, measure_events(endpoint_url, arguments.consumer_rounds)


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
    parser.add_argument(
        "--api-requests",
        type=_positive,
        default=requests_default,
        help=f"requests per API route timed in this process (default {requests_default})",
    )
    parser.add_argument(
        "--consumer-rounds",
        type=_positive,
        default=rounds_default,
        help=f"rounds of the mix fed to the stream consumers (default {rounds_default})",
    )
    parser.add_argument(
        "--monitor-rounds",
        type=_positive,
        default=monitor_rounds_default,
        help=f"watched wallets walked for the monitors consumer (default {monitor_rounds_default})",
    )
    parser.add_argument(
        "--lag-writes",
        type=_positive,
        default=writes_default,
        help=f"deposits timed into history and onto the bus under ledger dev "
        f"(default {writes_default})",
    )
    parser.add_argument(
        "--cold-start-runs",
        type=_positive,
        default=runs_default,
        help=f"fresh interpreters for the handler and for the floor (default {runs_default})",
    )
    return parser.parse_args(argv)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """Measure, print, write results; 0 only if every enforced target passes."""
    arguments = parse_arguments(argv)
    try:
        if arguments.endpoint_url is not None:
            results, consumers, monitors, events = _benchmark_on(arguments.endpoint_url, arguments)
        else:
            with DynamoDBLocal() as server:
                results, consumers, monitors, events = _benchmark_on(server.endpoint_url, arguments)
        api_cpu = measure_api_cpu(arguments.api_requests)
        cold_start = measure_cold_start(arguments.cold_start_runs)
        history_lag, event_lag = measure_lags(arguments.lag_writes)
        matching = measure_matching()
    except (
        InconsistentCounts,
        ScenarioFailed,
        ColdStartFailed,
        ConsumerFailed,
        EventsFailed,
        LagMeasurementFailed,
    ) as error:
        print(f"bench: measurement invalid: {error}", file=sys.stderr)
        return exit_measurement_invalid
    hot_accounts = hot_accounts_report()
    checks = [
        *check_targets(results),
        *hot_accounts_checks(hot_accounts),
        *consumers_checks(consumers),
        *monitors_checks(monitors),
        *events_checks(events),
        cold_start_check(cold_start),
        authorizer_cold_start_check(cold_start),
    ]
    print(f"{arguments.repetitions} repetitions per operation, DynamoDBStore on DynamoDB Local")
    print(format_table(results))
    print(format_item_sizes(results))
    print()
    print(format_api_cpu(api_cpu, arguments.api_requests))
    print(format_cold_start(cold_start))
    print()
    print(format_cost(usages(results, api_cpu), cost_per_million(results, api_cpu)))
    print()
    print(format_hot_accounts(hot_accounts))
    print()
    print(format_consumers(consumers))
    print(format_history_lag(history_lag))
    print(format_monitors(monitors))
    print(format_events(events))
    print(format_event_lag(event_lag))
    print(format_matching(matching))
    print()
    for check in checks:
        print(check.line())
    document = results_document(
        results,
        checks,
        arguments.repetitions,
        api_cpu=api_cpu,
        cold_start=cold_start,
        hot_accounts=hot_accounts,
        consumers=consumers,
        history_lag=history_lag,
        monitors=monitors,
        events=events,
        event_lag=event_lag,
        matching=matching,
    )
    arguments.output.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {arguments.output}")
    enforced = [check for check in checks if check.enforced]
    return 0 if all(check.passed for check in enforced) else exit_target_failed


if __name__ == "__main__":
    sys.exit(main())
