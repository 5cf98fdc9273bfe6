"""The benchmark's counting on DynamoDB Local, its round-trip targets enforced as counts, and
its timed measurements (API CPU, cold start) reported with the right shape, never judged."""

from __future__ import annotations

import json
import secrets
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from botocore.exceptions import ClientError

from bench import run, targets
from bench.cold_start import ColdStart
from bench.consumers import measure_consumers
from bench.counting import (
    CallCounter,
    InconsistentCounts,
    OperationResult,
    Sample,
    measure,
    summarize,
)
from bench.events import measure_events
from bench.history_lag import HistoryLag
from bench.matching import measure_matching
from bench.monitors import measure_monitors
from bench.targets import authorizer_cold_start_check, check_targets, cold_start_check
from ledger.local.dynamodb_local import DynamoDBLocal

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

repetitions = 3
api_requests = 4
cold_start_runs = 1
api_timings = ("transfer", "balance", "authorizer")
# The operations' 17, the stream consumers' 6, the monitors consumer's 3, the events'.
count_targets = 29
consumer_rounds = 1
lag_writes = 2
matching_rows = 100
hot_account_targets = (
    "hot accounts: one unsharded item >= 500 ops/s (25x 20 entries/s)",
    "hot accounts: 8 world shards >= 7x one shard",
)
passing_hot_accounts = {
    "distinct_transfers": 1_000,
    "world_deposits": {"1": 500, "2": 1_000, "4": 2_000, "8": 3_600, "16": 7_000, "32": 9_000},
    "fee_account": {"unsharded": 500, "sharded_8": 3_600},
}
operations = (
    "create_account",
    "deposit",
    "spend",
    "transfer",
    "transfer_to_sharded",
    "entry_4_lines",
    "replay",
    "balance",
    "balance_sharded",
    "hold",
    "confirm",
    "release",
    "escrow",
    "reverse",
    "batch_10_transfers",
)
one_write_call = {"TransactWriteItems": 1}
one_read_one_write = {"GetItem": 1, "TransactWriteItems": 1}
# What each operation writes: one item per account it moves, plus its entries. A hold or
# escrow is a new pending entry; a confirmation puts its posting entry and marks the pending
# one; a release marks the pending entry only; a reversal puts itself and marks the original.
items_written = {
    "deposit": 3,
    "spend": 3,
    "transfer": 3,
    "transfer_to_sharded": 3,
    "entry_4_lines": 5,
    "hold": 3,
    "escrow": 3,
    "confirm": 4,
    "release": 3,
    "reverse": 4,
    # 10 transfer entries and the 4 accounts they move, each updated once
    "batch_10_transfers": 14,
}


@pytest.fixture(scope="module")
def stream_reports(dynamodb_local: DynamoDBLocal) -> tuple[Any, Any, Any]:
    """The consumers', monitors' and events' measurements, taken once for the runs whose
    subject is the verdict on other numbers."""
    endpoint_url = dynamodb_local.endpoint_url
    return (
        measure_consumers(endpoint_url, consumer_rounds),
        measure_monitors(endpoint_url, consumer_rounds),
        measure_events(endpoint_url, consumer_rounds),
    )


def measured_elsewhere(
    monkeypatch: pytest.MonkeyPatch, stream_reports: tuple[Any, Any, Any]
) -> None:
    """Everything but the operations' counts and the cold start as measured already: the
    stream consumers once per module, the API's CPU and the matching on a token size."""
    consumers, monitors, events = stream_reports
    monkeypatch.setattr(run, "measure_consumers", lambda endpoint_url, rounds: consumers)
    monkeypatch.setattr(run, "measure_monitors", lambda endpoint_url, rounds: monitors)
    monkeypatch.setattr(run, "measure_events", lambda endpoint_url, rounds: events)
    monkeypatch.setattr(run, "measure_api_cpu", lambda requests: dict.fromkeys(api_timings, 1.0))
    monkeypatch.setattr(run, "measure_matching", lambda: measure_matching(matching_rows))
    monkeypatch.setattr(run, "hot_accounts_report", lambda: passing_hot_accounts)
    monkeypatch.setattr(run, "measure_lags", measured_lags)


def fast_cold_start(runs: int) -> ColdStart:
    """A cold start within both targets."""
    return ColdStart(0.5, 0.5, runs, authorizer_s=0.3, botocore_floor_s=0.3)


def measured_lags(writes: int) -> tuple[HistoryLag, HistoryLag]:
    """The history and event lags as if measured, for the runs whose subject is not a lag."""
    lag = HistoryLag(tuple(100.0 + write for write in range(writes)))
    return lag, lag


def run_bench(server: DynamoDBLocal, output: Path) -> tuple[int, dict[str, Any]]:
    code = run.main(
        [
            "--repetitions",
            str(repetitions),
            "--output",
            str(output),
            "--endpoint-url",
            server.endpoint_url,
            "--api-requests",
            str(api_requests),
            "--cold-start-runs",
            str(cold_start_runs),
            "--consumer-rounds",
            str(consumer_rounds),
            "--monitor-rounds",
            str(consumer_rounds),
            "--lag-writes",
            str(lag_writes),
        ]
    )
    document: dict[str, Any] = json.loads(output.read_text()) if output.exists() else {}
    return code, document


def test_bench_meets_every_round_trip_target(
    dynamodb_local: DynamoDBLocal,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    stream_reports: tuple[Any, Any, Any],
) -> None:
    # GIVEN the session's DynamoDB Local, and the hot-account model's report (the model is
    # tested on its own in tests/unit/test_hot_accounts.py, and takes a minute to run)
    # AND the stream consumers' measurements, taken once for the module
    output = tmp_path / "results.json"
    monkeypatch.setattr(run, "hot_accounts_report", lambda: passing_hot_accounts)
    consumers, monitors, events = stream_reports
    monkeypatch.setattr(run, "measure_consumers", lambda endpoint_url, rounds: consumers)
    monkeypatch.setattr(run, "measure_monitors", lambda endpoint_url, rounds: monitors)
    monkeypatch.setattr(run, "measure_events", lambda endpoint_url, rounds: events)

    # WHEN the benchmark runs each operation a few times
    code, document = run_bench(dynamodb_local, output)

    # THEN every mutation (a hold, an escrow, a replay too) is one write call and no read
    measured = document["operations"]
    assert list(measured) == list(operations)
    for name in (*targets.mutations, "replay"):
        assert measured[name]["calls"] == one_write_call, name
        assert measured[name]["reads"] == 0, name
    # AND confirming or releasing a hold and reversing an entry read it once, consistently,
    # then write once
    for name in ("confirm", "release", "reverse"):
        assert measured[name]["calls"] == one_read_one_write, name
        assert (measured[name]["reads"], measured[name]["consistent_reads"]) == (1, 1), name
    # AND a balance is one consistent read; each mutation writes its accounts and entries
    assert measured["balance"]["calls"] == {"GetItem": 1}
    assert measured["balance_sharded"]["calls"] == {"BatchGetItem": 1}
    assert measured["balance"]["consistent_reads"] == 1
    assert measured["balance"]["items_written"] == 0
    for name, count in items_written.items():
        assert measured[name]["items_written"] == count, name
    # AND a replay is refused by its entry's condition, so it writes nothing
    assert measured["replay"]["items_written"] == 0
    assert measured["replay"]["items_attempted"] == 3
    # AND every operation reports the size of each item it wrote and its write units, at least
    # the floor: 2 per item in a transaction and 1 per index write
    for name in operations:
        sizes, units = measured[name]["item_bytes"], measured[name]["write_units"]
        assert len(sizes) == measured[name]["items_written"], name
        assert all(size > 0 for size in sizes), name
        assert units >= measured[name]["write_units_floor"] >= 2 * len(sizes), name
    # AND a transfer's three items each fit in 1 KB, so it costs its floor: 2 per item and
    # one index write for its entry
    assert all(size <= 1024 for size in measured["transfer"]["item_bytes"])
    assert measured["transfer"]["write_units"] == 7
    # AND updates that keep their items' index keys (a release) write no index entry
    assert measured["release"]["write_units"] == 2 * items_written["release"]
    for name in operations:
        assert measured[name]["repetitions"] == repetitions
        assert measured[name]["http_requests"] == sum(measured[name]["calls"].values()), name
        assert isinstance(measured[name]["cpu_ms_median"], float)
        assert measured[name]["cpu_ms_median"] > 0
    # AND the API's CPU per request is a positive time for each route and the authorizer
    api_cpu = document["api_cpu_ms_median"]
    assert list(api_cpu) == list(api_timings)
    assert all(isinstance(ms, float) and ms > 0 for ms in api_cpu.values())
    # AND the cold start compares two positive medians over the runs asked for
    cold_start = document["cold_start"]
    assert sorted(cold_start) == [
        "authorizer_ratio",
        "authorizer_s",
        "botocore_floor_s",
        "floor_s",
        "frameworks_s",
        "handler_s",
        "ratio",
        "ratio_over_frameworks",
        "runs",
    ]
    assert cold_start["runs"] == cold_start_runs
    measured_fields = (
        "handler_s",
        "floor_s",
        "ratio",
        "frameworks_s",
        "ratio_over_frameworks",
        "authorizer_s",
        "botocore_floor_s",
        "authorizer_ratio",
    )
    assert all(isinstance(cold_start[name], float) for name in measured_fields)
    assert cold_start["ratio_over_frameworks"] == round(
        cold_start["handler_s"] / cold_start["frameworks_s"], 3
    )
    assert cold_start["handler_s"] > 0
    assert cold_start["floor_s"] > 0
    assert cold_start["ratio"] == round(cold_start["handler_s"] / cold_start["floor_s"], 3)
    assert cold_start["authorizer_ratio"] == round(
        cold_start["authorizer_s"] / cold_start["botocore_floor_s"], 3
    )
    # AND the hot-account model's goodput per workload is reported as the model gave it
    assert document["hot_accounts"] == passing_hot_accounts
    # AND every count target is enforced and passes; the hot-account targets are enforced and
    # with them decide the exit status; the cold-start ratios are reported as targets that
    # are not enforced, whichever way they went on this machine
    enforced = [check for check in document["targets"] if check["enforced"]]
    timed = [check for check in document["targets"] if not check["enforced"]]
    counted = [check for check in enforced if check["name"] not in hot_account_targets]
    assert len(counted) == count_targets
    assert all(check["passed"] for check in counted)
    modelled = [check for check in enforced if check["name"] in hot_account_targets]
    assert [check["name"] for check in modelled] == list(hot_account_targets)
    all_passed = all(check["passed"] for check in enforced)
    assert code == (0 if all_passed else run.exit_target_failed)
    assert [check["name"] for check in timed] == [
        "cold start: handler import <= 1.5x a bare boto3 client",
        "cold start: authorizer import <= 1.2x a bare botocore client",
    ]
    assert all(isinstance(check["passed"], bool) for check in timed)
    # AND a million of each priced operation costs its parts in USD, the total their sum
    cost = document["cost_per_million"]
    assert list(cost) == ["transfer", "deposit", "hold_confirm", "balance"]
    for name, parts in cost.items():
        assert list(parts) == ["dynamodb", "lambda", "api_gateway", "total"], name
        assert all(usd > 0 for usd in parts.values()), name
        assert parts["total"] == pytest.approx(sum(list(parts.values())[:-1])), name
    assert cost["hold_confirm"]["api_gateway"] == 2 * cost["transfer"]["api_gateway"]
    # AND the report says PASS for every enforced target and names each operation and timing
    printed = capsys.readouterr().out
    target_lines = [line for line in printed.splitlines() if line.startswith(("PASS", "FAIL"))]
    round_trip_lines = [
        line for line in target_lines if "not enforced" not in line and "hot accounts:" not in line
    ]
    assert len(round_trip_lines) == count_targets
    assert all(line.startswith("PASS ") for line in round_trip_lines)
    assert len(target_lines) == count_targets + len(hot_account_targets) + len(timed)
    assert all(name in printed for name in (*operations, *api_timings))
    assert "Cold start, median of 1 fresh interpreters" in printed
    assert "transfer: every item fits in 1 KB" in printed
    assert "USD per million on AWS" in printed
    assert "Hot accounts, modelled" in printed
    # AND each stream consumer reads once a batch, writes once a balance change, and a
    # redelivered batch writes nothing
    consumers = document["consumers"]
    changes = consumers["balance_changes"]
    assert changes > 0
    assert consumers["history"]["calls"] == {"BatchGetItem": 1, "TransactWriteItems": changes}
    assert consumers["history"]["replay"]["items_written_per_record"] == 0
    assert consumers["audit"]["calls"]["BatchGetItem"] == 1
    assert consumers["audit"]["replay"]["items_written_per_record"] == 0
    assert document["history_throughput"]["records"] == consumers["history"]["records"]
    assert document["history_throughput"]["records_per_s"] > 0
    assert document["monitors"]["crossings"] == document["monitors"]["events_written"] > 0
    # AND the lag into history under ledger dev is reported for each deposit
    lag = document["history_lag"]
    assert lag["writes"] == lag_writes
    assert 0 < lag["p50_ms"] <= lag["p95_ms"] <= lag["max_ms"]
    assert "Write-to-history lag under ledger dev, 2 deposits" in printed
    # AND the events consumer published each batch in the fewest calls, the same ids again
    events = document["events"]
    assert events["events"] >= events["entries_created"] > 0
    assert events["replay_same_event_ids"] is True
    assert document["events_throughput"]["events_per_s"] > 0
    # AND the lag onto the bus under ledger dev is reported for each deposit
    event_lag = document["event_lag"]
    assert event_lag["writes"] == lag_writes
    assert 0 < event_lag["p50_ms"] <= event_lag["p95_ms"] <= event_lag["max_ms"]
    assert "Write-to-event lag under ledger dev, 2 deposits" in printed
    # AND the statement matcher's rows a second are reported
    assert document["statement_matching_rows_per_s"] > 0
    assert document["statement_matching"]["rows"] == 10_000
    assert "Statement matching in process, 10000 rows against 10000 entries" in printed


def test_bench_exits_non_zero_when_a_target_fails(
    dynamodb_local: DynamoDBLocal,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stream_reports: tuple[Any, Any, Any],
) -> None:
    # GIVEN measurements where a transfer reads before it writes
    def measured(client: DynamoDBClient, table_name: str, count: int) -> Any:
        results = passing_results()
        results["transfer"] = result({"GetItem": 1, "TransactWriteItems": 1}, 3)
        return results

    measured_elsewhere(monkeypatch, stream_reports)
    monkeypatch.setattr(run, "run_benchmark", measured)
    monkeypatch.setattr(run, "measure_cold_start", fast_cold_start)

    # WHEN the benchmark reports them
    code, document = run_bench(dynamodb_local, tmp_path / "results.json")

    # THEN it exits 1, reports that target as FAIL with what it got, and still writes results
    assert code == run.exit_target_failed
    printed = capsys.readouterr().out
    assert (
        "FAIL transfer: 1 TransactWriteItems and 0 reads (got 1 GetItem, 1 TransactWriteItems)"
        in printed
    )
    failed = [check["name"] for check in document["targets"] if not check["passed"]]
    assert failed == ["transfer: 1 TransactWriteItems and 0 reads"]
    assert document["operations"]["transfer"]["reads"] == 1


def test_a_slow_cold_start_is_reported_but_does_not_fail_the_run(
    dynamodb_local: DynamoDBLocal,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stream_reports: tuple[Any, Any, Any],
) -> None:
    # GIVEN counts that meet every target, and a handler whose import costs three floors
    def measured(client: DynamoDBClient, table_name: str, count: int) -> Any:
        return passing_results()

    measured_elsewhere(monkeypatch, stream_reports)
    monkeypatch.setattr(run, "run_benchmark", measured)
    monkeypatch.setattr(
        run, "measure_cold_start", lambda runs: replace(fast_cold_start(runs), handler_s=1.5)
    )

    # WHEN the benchmark reports them
    code, document = run_bench(dynamodb_local, tmp_path / "results.json")

    # THEN it exits 0, with the cold start reported as a FAIL that is not enforced
    assert code == 0
    printed = capsys.readouterr().out
    assert (
        "FAIL cold start: handler import <= 1.5x a bare boto3 client (got 3.0x) "
        "[timed: reported, not enforced]" in printed
    )
    assert document["cold_start"] == {
        "handler_s": 1.5,
        "floor_s": 0.5,
        "ratio": 3.0,
        "frameworks_s": None,
        "ratio_over_frameworks": None,
        "authorizer_s": 0.3,
        "botocore_floor_s": 0.3,
        "authorizer_ratio": 1.0,
        "runs": cold_start_runs,
    }
    failed = [check for check in document["targets"] if not check["passed"]]
    assert failed == [
        {
            "name": "cold start: handler import <= 1.5x a bare boto3 client",
            "passed": False,
            "enforced": False,
        }
    ]


def test_bench_exits_non_zero_when_repetitions_disagree(
    dynamodb_local: DynamoDBLocal,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # GIVEN repetitions that counted differently
    def inconsistent(client: DynamoDBClient, table_name: str, count: int) -> Any:
        raise InconsistentCounts("deposit: repetition 1 differs")

    monkeypatch.setattr(run, "run_benchmark", inconsistent)
    output = tmp_path / "results.json"

    # WHEN the benchmark runs
    code, _ = run_bench(dynamodb_local, output)

    # THEN it exits 2, says why, and writes no results
    assert code == run.exit_measurement_invalid
    assert "measurement invalid: deposit: repetition 1 differs" in capsys.readouterr().err
    assert not output.exists()


def test_counter_counts_write_actions_of_successful_calls_only(
    dynamodb_client: DynamoDBClient, local_table: str
) -> None:
    # GIVEN a counter on the client and two items that exist
    def key(name: str) -> dict[str, Any]:
        return {"pk": {"S": name}, "sk": {"S": "BENCH"}}

    existing, checked, fresh = (f"bench-{secrets.token_hex(4)}" for _ in range(3))
    for name in (existing, checked):
        dynamodb_client.put_item(TableName=local_table, Item=key(name))
    counter = CallCounter()

    def transaction(put_condition: str) -> None:
        dynamodb_client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": local_table, "Item": key(fresh)}},
                {
                    "Update": {
                        "TableName": local_table,
                        "Key": key(existing),
                        "UpdateExpression": "SET touched = :yes",
                        "ExpressionAttributeValues": {":yes": {"BOOL": True}},
                        "ConditionExpression": put_condition,
                    }
                },
                {
                    "ConditionCheck": {
                        "TableName": local_table,
                        "Key": key(checked),
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )

    def refused() -> None:
        with pytest.raises(ClientError, match="TransactionCanceled"):
            transaction("attribute_not_exists(pk)")

    with counter.attached(dynamodb_client):
        # WHEN a transaction puts, updates and checks
        _, written = measure(counter, lambda: transaction("attribute_exists(pk)"))
        # AND a transaction whose condition fails
        _, cancelled = measure(counter, refused)
        # AND single-item calls, one of two reads strongly consistent
        _, single = measure(
            counter,
            lambda: (
                dynamodb_client.put_item(TableName=local_table, Item=key(fresh)),
                dynamodb_client.get_item(TableName=local_table, Key=key(fresh)),
                dynamodb_client.get_item(
                    TableName=local_table, Key=key(fresh), ConsistentRead=True
                ),
                dynamodb_client.delete_item(TableName=local_table, Key=key(fresh)),
            ),
        )
    # AND a call after the counter is detached
    dynamodb_client.get_item(TableName=local_table, Key=key(existing))

    # THEN the condition check writes nothing, and a cancelled transaction writes nothing
    assert (written.calls, written.items_written, written.items_attempted) == (
        one_write_call,
        2,
        2,
    )
    assert (cancelled.calls, cancelled.items_written, cancelled.items_attempted) == (
        one_write_call,
        0,
        2,
    )
    # AND single-item writes count one item each, the reads none, and each call is one request
    assert single.calls == {"PutItem": 1, "GetItem": 2, "DeleteItem": 1}
    assert (single.items_written, single.reads, single.http_requests) == (2, 2, 4)
    # AND only the read that asked for it counts as consistent
    assert (single.consistent_reads, written.consistent_reads) == (1, 0)
    assert written.cpu_ns > 0
    # AND nothing is counted once detached
    assert counter.sample(0).calls == {"PutItem": 1, "GetItem": 2, "DeleteItem": 1}


def result(calls: dict[str, int], items: int, consistent_reads: int = 0) -> OperationResult:
    return OperationResult(calls, sum(calls.values()), items, items, 1.0, 1, consistent_reads)


def passing_results() -> dict[str, OperationResult]:
    """Measurements that meet every target."""
    results = {name: result(one_write_call, 3) for name in operations}
    results["balance"] = result({"GetItem": 1}, 0, consistent_reads=1)
    results["balance_sharded"] = result({"BatchGetItem": 1}, 0)
    for name in targets.resolutions:
        results[name] = result(one_read_one_write, 4, consistent_reads=1)
    return results


def sample(calls: dict[str, int], cpu_ns: int, items_written: int = 3) -> Sample:
    return Sample(calls, 1, items_written, items_written, cpu_ns)


def test_summary_is_the_median_cpu_time_of_identical_counts() -> None:
    # GIVEN three repetitions with the same counts
    samples = [sample(one_write_call, cpu_ns) for cpu_ns in (3_000_000, 1_234_567, 9_000_000)]

    # WHEN summarized
    result = summarize("transfer", samples)

    # THEN the counts are those of one operation and the CPU time is the median, in ms
    assert (result.calls, result.items_written, result.repetitions) == (one_write_call, 3, 3)
    assert result.cpu_ms_median == 3.0
    assert summarize("x", [sample({}, 1_234_567)]).cpu_ms_median == 1.235


@pytest.mark.parametrize(
    "odd_one",
    [
        pytest.param(sample({"TransactWriteItems": 1, "GetItem": 1}, 1), id="extra-read"),
        pytest.param(sample(one_write_call, 1, items_written=4), id="more-items"),
        pytest.param(Sample(one_write_call, 2, 3, 3, 1), id="retried"),
        pytest.param(Sample(one_write_call, 1, 3, 3, 1, consistent_reads=1), id="consistent"),
    ],
)
def test_repetitions_that_count_differently_fail_loudly(odd_one: Sample) -> None:
    # GIVEN one repetition that counted differently from the others
    samples = [sample(one_write_call, 1), sample(one_write_call, 1), odd_one]

    # WHEN summarized / THEN it refuses, naming the operation and the repetition
    with pytest.raises(InconsistentCounts, match="deposit: repetition 2"):
        summarize("deposit", samples)


def test_every_target_passes_on_passing_measurements() -> None:
    # GIVEN measurements that meet every target / WHEN checked
    checks = check_targets(passing_results())

    # THEN every check passes, and each resolution has its own
    assert [check.name for check in checks if not check.passed] == []
    assert {
        "confirm: 1 consistent GetItem + 1 TransactWriteItems",
        "release: 1 consistent GetItem + 1 TransactWriteItems",
        "reverse: 1 consistent GetItem + 1 TransactWriteItems",
        "hold: 1 TransactWriteItems and 0 reads",
        "escrow: 1 TransactWriteItems and 0 reads",
    } <= {check.name for check in checks}


def test_targets_fail_on_a_read_a_missing_operation_or_an_extra_item() -> None:
    # GIVEN a transfer that read first and wrote one item too many, and no balance measured
    results = passing_results()
    del results["balance"]
    results["transfer"] = result({"GetItem": 1, "TransactWriteItems": 1}, 4)
    # AND a hold that read first, a confirmation that read twice, a release whose read was
    # eventually consistent, and no reversal measured
    results["hold"] = result({"GetItem": 1, "TransactWriteItems": 1}, 3)
    results["confirm"] = result({"GetItem": 2, "TransactWriteItems": 1}, 4, consistent_reads=2)
    results["release"] = result(one_read_one_write, 3, consistent_reads=0)
    del results["reverse"]

    # WHEN checked
    checks = {check.name: check for check in check_targets(results)}

    # THEN exactly those targets fail, each saying what was measured
    failed = sorted(name for name, check in checks.items() if not check.passed)
    assert failed == [
        "balance: 1 GetItem",
        "confirm: 1 consistent GetItem + 1 TransactWriteItems",
        "hold: 1 TransactWriteItems and 0 reads",
        "release: 1 consistent GetItem + 1 TransactWriteItems",
        "reverse: 1 consistent GetItem + 1 TransactWriteItems",
        "transfer: 1 TransactWriteItems and 0 reads",
        "transfer: writes 3 items",
    ]
    confirm_line = checks["confirm: 1 consistent GetItem + 1 TransactWriteItems"].line()
    assert confirm_line.endswith("(got 2 GetItem, 1 TransactWriteItems; 2 consistent)")
    release_line = checks["release: 1 consistent GetItem + 1 TransactWriteItems"].line()
    assert release_line.endswith("(got 1 GetItem, 1 TransactWriteItems; 0 consistent)")
    assert checks["balance: 1 GetItem"].line() == "FAIL balance: 1 GetItem (got not measured)"
    transfer_line = checks["transfer: 1 TransactWriteItems and 0 reads"].line()
    assert transfer_line.endswith("(got 1 GetItem, 1 TransactWriteItems)")
    assert checks["deposit: 1 TransactWriteItems and 0 reads"].line().startswith("PASS")


@pytest.mark.parametrize(
    ("handler_s", "floor_s", "passed"),
    [
        pytest.param(0.75, 0.5, True, id="at-the-bound"),
        pytest.param(0.6, 0.5, True, id="below"),
        pytest.param(0.8, 0.5, False, id="above"),
    ],
)
def test_cold_start_target_is_the_ratio_and_never_enforced(
    handler_s: float, floor_s: float, passed: bool
) -> None:
    # GIVEN a measured cold start / WHEN checked
    check = cold_start_check(ColdStart(handler_s, floor_s, runs=1))

    # THEN it passes up to 1.5 floors, says what it got, and never decides the exit status
    assert check.passed is passed
    assert check.actual == f"{round(handler_s / floor_s, 3)}x"
    assert check.enforced is False
    assert check.line().endswith("[timed: reported, not enforced]")
    assert check.line().startswith("PASS" if passed else "FAIL")


@pytest.mark.parametrize(
    ("authorizer_s", "botocore_floor_s", "passed", "actual"),
    [
        pytest.param(0.36, 0.3, True, "1.2x", id="at-the-bound"),
        pytest.param(0.4, 0.3, False, "1.333x", id="above"),
        pytest.param(None, None, False, "not measured", id="not-measured"),
    ],
)
def test_the_authorizer_cold_start_target_is_its_ratio_and_never_enforced(
    authorizer_s: float | None, botocore_floor_s: float | None, passed: bool, actual: str
) -> None:
    # GIVEN a measured cold start / WHEN the authorizer's is checked
    cold_start = ColdStart(
        0.5, 0.5, 1, authorizer_s=authorizer_s, botocore_floor_s=botocore_floor_s
    )
    check = authorizer_cold_start_check(cold_start)

    # THEN it passes up to 1.2 bare botocore clients, says what it got, and never decides
    assert (check.passed, check.actual, check.enforced) == (passed, actual, False)
