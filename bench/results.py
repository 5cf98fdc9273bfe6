"""What `make bench` writes to bench/results.json, with a note on each measurement."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from bench.cold_start import ColdStart
from bench.consumers import ConsumersReport
from bench.cost import cost_per_million, prices_as_of, prices_region
from bench.counting import OperationResult
from bench.events import EventsReport
from bench.history_lag import HistoryLag
from bench.hot_accounts import conflict_window_s_default, round_trip_s_default
from bench.monitors import MonitorsReport
from bench.targets import Check


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
    monitors: MonitorsReport | None = None,
    events: EventsReport | None = None,
    event_lag: HistoryLag | None = None,
    matching: Mapping[str, Any] | None = None,
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
        **({} if monitors is None else {"monitors": monitors.as_json()}),
        **({} if events is None else {"events": events.as_json()}),
        **({} if events is None else {"events_throughput": events.throughput()}),
        **({} if event_lag is None else {"event_lag": event_lag.as_json()}),
        **(
            {}
            if matching is None
            else {
                "statement_matching": dict(matching),
                "statement_matching_rows_per_s": matching["rows_per_s"],
            }
        ),
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
            "monitors": (
                "the monitors consumer over the real stream of watched wallets walking across "
                "and within their thresholds (bench/monitors.py), batches of 100 records: an "
                "evaluation is one balance monitor against one balance change; write calls "
                "and items written per evaluation; replay: the same batches again"
            ),
            "events": (
                "the events consumer over the real stream of the consumers' mix, batches of "
                "100 records, publishing to a fake EventBridge that accepts every entry: "
                "events, PutEvents calls, events per call and per record; a redelivery must "
                "publish the same event ids"
            ),
            "events_throughput": (
                "events a second (wall) and CPU microseconds per event through the events "
                "consumer in this process, fake EventBridge"
            ),
            "event_lag": (
                "ms from a deposit's HTTP answer to its ledger.entry.posted event in "
                "<data-dir>/events.jsonl under ledger dev, one deposit after the other"
            ),
            "statement_matching": (
                "the pure statement matcher (ledger.reporting.matching) on 10,000 seeded rows "
                "against 10,000 entries, one_to_many on amount and date in this process; "
                "rows_per_s is rows over wall time, reported only"
            ),
            "targets": "enforced targets set the exit status; timed ones are only reported",
        },
    }
