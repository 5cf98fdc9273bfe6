"""What `make bench` prints: a table per measurement, in fixed-width text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bench.cold_start import ColdStart
from bench.cost import Usage, billed_ms, prices_as_of, prices_region
from bench.counting import OperationResult
from bench.hot_accounts import conflict_window_s_default
from bench.item_size import kilobyte


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
