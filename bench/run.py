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
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.api import measure_api_cpu, requests_default
from bench.cold_start import ColdStart, ColdStartFailed, measure_cold_start, runs_default
from bench.consumers import (
    ConsumerFailed,
    ConsumersReport,
    consumers_checks,
    format_consumers,
    measure_consumers,
    rounds_default,
)
from bench.cost import Usage, billed_ms, cost_per_million, prices_as_of, prices_region, usages
from bench.counting import (
    CallCounter,
    InconsistentCounts,
    OperationResult,
    Sample,
    measure,
    summarize,
)
from bench.history_lag import (
    HistoryLag,
    LagMeasurementFailed,
    format_history_lag,
    measure_history_lag,
    writes_default,
)
from bench.hot_accounts import (
    conflict_window_s_default,
    hot_accounts_checks,
    hot_accounts_report,
    round_trip_s_default,
)
from bench.item_size import item_size, kilobyte, write_units, write_units_floor
from bench.scenarios import ScenarioFailed, repetitions_max, scenarios
from bench.targets import Check, authorizer_cold_start_check, check_targets, cold_start_check
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


def format_table(results: dict[str, OperationResult]) -> str:
    """A fixed-width table: one row per operation."""
    header = (
        "operation",
        "calls",
        "reads",
        "items_written",
        "max_item_bytes",
        "write_units",
        "floor",
        "cpu_ms_median",
    )
    rows = [
        (
            name,
            " + ".join(f"{count} {call}" for call, count in sorted(result.calls.items())),
            str(result.reads),
            str(result.items_written),
            str(max(result.item_bytes, default=0)),
            str(result.write_units),
            str(result.write_units_floor),
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


def format_item_sizes(results: dict[str, OperationResult]) -> str:
    """Whether a transfer's items fit in 1 KB each, where a write costs the least."""
    sizes = results["transfer"].item_bytes if "transfer" in results else ()
    over = [size for size in sizes if size > kilobyte]
    if over:
        return (
            f"transfer: {len(over)} of {len(sizes)} items exceed 1 KB "
            f"({', '.join(map(str, sizes))} bytes); each costs more than the floor"
        )
    return f"transfer: every item fits in 1 KB ({', '.join(map(str, sizes))} bytes)"


def format_api_cpu(api_cpu: dict[str, float], requests: int) -> str:
    """The API's CPU per request, one line per function or route."""
    width = max(len(name) for name in api_cpu)
    lines = [f"API in this process, DynamoDB stubbed: CPU ms per request, median of {requests}"]
    lines += [f"  {name.ljust(width)}  {ms:.3f}" for name, ms in api_cpu.items()]
    return "\n".join(lines)


def format_cold_start(cold_start: ColdStart) -> str:
    """The cold-start line."""
    return (
        f"Cold start, median of {cold_start.runs} fresh interpreters: "
        f"import ledger.api.handler {cold_start.handler_s:.3f} s, "
        f"import boto3 + client {cold_start.floor_s:.3f} s, ratio {cold_start.ratio:.2f}; "
        f"the frameworks alone {cold_start.frameworks_s or 0:.3f} s; "
        f"import ledger.auth.authorizer {cold_start.authorizer_s or 0:.3f} s, "
        f"bare botocore client {cold_start.botocore_floor_s or 0:.3f} s, "
        f"ratio {cold_start.authorizer_ratio or 0:.2f}"
    )


def format_hot_accounts(report: Mapping[str, Any]) -> str:
    """The hot-account model's sustainable operations a second, one line per workload."""
    world = ", ".join(f"{shards}: {rate}" for shards, rate in report["world_deposits"].items())
    fee = ", ".join(f"{name}: {rate}" for name, rate in report["fee_account"].items())
    return "\n".join(
        [
            f"Hot accounts, modelled (docs/scaling.md): sustainable ops/s with a "
            f"{conflict_window_s_default * 1000:g} ms conflict window",
            f"  transfers between distinct accounts  {report['distinct_transfers']}",
            f"  deposits through world, by world_shards  {world}",
            f"  sales paying one fee account  {fee}",
        ]
    )


def format_cost(usage: Mapping[str, Usage], cost: Mapping[str, Mapping[str, float]]) -> str:
    """What a million of each priced operation costs, with the units and milliseconds billed."""
    header = (
        *("per million", "requests", "WRU", "RRU", "billed ms"),
        *("dynamodb", "lambda", "api_gateway", "total"),
    )
    rows = [
        (
            name,
            str(used.requests),
            str(used.write_units),
            f"{used.read_units.normalize():f}",
            " + ".join(
                f"{billed_ms(api)}/{billed_ms(authorizer)}"
                for api, authorizer in zip(used.api_cpu_ms, used.authorizer_cpu_ms, strict=True)
            ),
            *(f"{cost[name][part]:.2f}" for part in ("dynamodb", "lambda", "api_gateway", "total")),
        )
        for name, used in usage.items()
    ]
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        first, *rest = cells
        parts = [first.ljust(widths[0])]
        parts += [cell.rjust(width) for cell, width in zip(rest, widths[1:], strict=True)]
        return "  ".join(parts)

    title = (
        f"USD per million on AWS, {prices_region} list prices as of {prices_as_of} "
        "(docs/cost.md). The authorizer runs on every request: billed ms are the API "
        "function's/the authorizer's per request; RRU are the operation's, and its key read "
        "adds 1 per request"
    )
    rule = "  ".join("-" * width for width in widths)
    return "\n".join([title, line(header), rule, *(line(row) for row in rows)])


def results_document(
    results: dict[str, OperationResult],
    checks: Sequence[Check],
    repetitions: int,
    *,
    api_cpu: dict[str, float],
    cold_start: ColdStart,
    hot_accounts: Mapping[str, Any],
    consumers: ConsumersReport,
    history_lag: HistoryLag,
) -> dict[str, Any]:
    """The results.json content."""
    return {
        "operations": {name: result.as_json() for name, result in results.items()},
        "repetitions": repetitions,
        "api_cpu_ms_median": api_cpu,
        "cold_start": cold_start.as_json(),
        "cost_per_million": cost_per_million(results, api_cpu),
        "hot_accounts": hot_accounts,
        "consumers": consumers.as_json(),
        "history_throughput": consumers.throughput(),
        "history_lag": history_lag.as_json(),
        "targets": [
            {"name": check.name, "passed": check.passed, "enforced": check.enforced}
            for check in checks
        ],
        "notes": {
            "calls": "DynamoDB API calls of ONE operation, the same on every repetition",
            "items_written": "Put/Update/Delete actions of calls that succeeded",
            "items_attempted": "the same, counting calls that were refused (a replay) too",
            "consistent_reads": "GetItem and Query calls with ConsistentRead",
            "item_bytes": (
                "size of each item written, as DynamoDB sizes it (attribute names and values), "
                "read back after the write; the larger of the first and last repetition"
            ),
            "write_units": (
                "write request units: 2 per started KB of each item written in a transaction "
                "(1 outside one), plus 1 per started KB of each keys-only index entry put or "
                "deleted (an item entering or leaving an index, or changing its keys there)"
            ),
            "write_units_floor": "the floor: 2 per item (1 per KB minimum) + 1 per index write",
            "cpu_ms_median": "process CPU time in this process (not DynamoDB's), median",
            "api_cpu_ms_median": (
                "CPU ms per request of the API handler (transfer, balance) and of the "
                "authorizer, called in this process with a fake DynamoDB client, median"
            ),
            "cold_start": (
                "median wall seconds to import ledger.api.handler (handler_s) and to import "
                "boto3 and make a DynamoDB client (floor_s), each in a fresh interpreter with "
                "Lambda's environment and compiled bytecode; ratio = handler_s / floor_s; "
                "authorizer_s: ledger.auth.authorizer, against botocore_floor_s (a bare "
                "botocore session and DynamoDB client); authorizer_ratio = their quotient"
            ),
            "cost_per_million": (
                f"USD per million of each operation on AWS, {prices_region} list prices as of "
                f"{prices_as_of} (bench/cost.py, docs/cost.md): DynamoDB on-demand request "
                "units, Lambda arm64 (API function 1024 MB, authorizer 256 MB, each billed its "
                "measured CPU rounded up to 1 ms, plus per request; the authorizer runs on "
                "every request, uncached) and API Gateway HTTP API requests; hold_confirm is a "
                "hold and its confirm; each part rounded to cents, total their sum"
            ),
            "hot_accounts": (
                "operations/s the model in bench/hot_accounts.py sustains (docs/scaling.md): "
                "committed operations a second of closed-loop clients retrying as the store "
                "does, with at most 1% giving up; items held "
                f"{conflict_window_s_default * 1000:g} ms inside a transaction (an assumption), "
                f"a {round_trip_s_default * 1000:g} ms round trip, 1,000 write units a second "
                "per item and per index partition; transfers between distinct accounts, "
                "deposits through world by world_shards, sales paying one fee account"
            ),
            "consumers": (
                "DynamoDB calls of each stream consumer over the real stream of a fixed mix "
                "(bench/consumers.py) cut into batches of 100 records, as Lambda delivers them, "
                "per record and per batch; replay: the same batches delivered again"
            ),
            "history_throughput": (
                "stream records a second (wall) and CPU ms per record through the history "
                "consumer in this process, its writes going to DynamoDB Local"
            ),
            "history_lag": (
                "ms from a deposit's HTTP answer to its first listing in the account's entries "
                "(read from history) under ledger dev, one deposit after the other"
            ),
            "targets": "enforced targets set the exit status; timed ones are only reported",
        },
    }


def _benchmark_on(
    endpoint_url: str, arguments: argparse.Namespace
) -> tuple[dict[str, OperationResult], ConsumersReport]:
    """The operations on a fresh table of the DynamoDB Local at `endpoint_url` (dropped
    afterwards), and the stream consumers on one of their own."""
    client = make_client(endpoint_url)
    table_name = f"ledger-bench-{secrets.token_hex(6)}"
    ensure_table(client, table_name)
    try:
        results = run_benchmark(client, table_name, arguments.repetitions)
    finally:
        client.delete_table(TableName=table_name)
    return results, measure_consumers(endpoint_url, arguments.consumer_rounds)


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
        "--lag-writes",
        type=_positive,
        default=writes_default,
        help=f"deposits timed into history under ledger dev (default {writes_default})",
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
            results, consumers = _benchmark_on(arguments.endpoint_url, arguments)
        else:
            with DynamoDBLocal() as server:
                results, consumers = _benchmark_on(server.endpoint_url, arguments)
        api_cpu = measure_api_cpu(arguments.api_requests)
        cold_start = measure_cold_start(arguments.cold_start_runs)
        history_lag = measure_history_lag(arguments.lag_writes)
    except (
        InconsistentCounts,
        ScenarioFailed,
        ColdStartFailed,
        ConsumerFailed,
        LagMeasurementFailed,
    ) as error:
        print(f"bench: measurement invalid: {error}", file=sys.stderr)
        return exit_measurement_invalid
    hot_accounts = hot_accounts_report()
    checks = [
        *check_targets(results),
        *hot_accounts_checks(hot_accounts),
        *consumers_checks(consumers),
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
    )
    arguments.output.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nwrote {arguments.output}")
    enforced = [check for check in checks if check.enforced]
    return 0 if all(check.passed for check in enforced) else exit_target_failed


if __name__ == "__main__":
    sys.exit(main())
