"""The stream consumers' bench targets and the lag's percentiles, on made-up measurements."""

from __future__ import annotations

from bench.consumers import ConsumerCost, ConsumersReport, consumers_checks
from bench.history_lag import HistoryLag


def cost(calls: dict[str, int], items_written: int, *, records: int = 100) -> ConsumerCost:
    return ConsumerCost(
        records=records, batches=1, calls=calls, items_written=items_written, cpu_ns=0, wall_ns=0
    )


def report(
    history: ConsumerCost | None = None,
    audit: ConsumerCost | None = None,
    history_replay_items: int = 0,
) -> ConsumersReport:
    first = {
        "history": history or cost({"BatchGetItem": 1, "TransactWriteItems": 40}, 100),
        "audit": audit or cost({"BatchGetItem": 1, "GetItem": 2, "PutItem": 50}, 50),
    }
    replay = {
        "history": cost({"BatchGetItem": 1, "TransactWriteItems": 40}, history_replay_items),
        "audit": cost({"BatchGetItem": 1, "GetItem": 50, "PutItem": 50}, 0),
    }
    return ConsumersReport(balance_changes=40, first=first, replay=replay)


def failed(checked: ConsumersReport) -> list[str]:
    return [check.name for check in consumers_checks(checked) if not check.passed]


def test_every_consumer_target_passes_on_the_designed_counts() -> None:
    assert failed(report()) == []


def test_a_read_per_record_fails_the_history_and_the_audit_targets() -> None:
    # GIVEN consumers that read once per record
    history = cost({"BatchGetItem": 1, "GetItem": 100, "TransactWriteItems": 40}, 100)
    audit = cost({"BatchGetItem": 1, "GetItem": 100, "PutItem": 50}, 50)
    # THEN both read targets fail, and nothing else
    assert failed(report(history, audit)) == [
        "history: at most 2 BatchGetItem per batch, no other read",
        "audit: at most 0.1 reads per record",
    ]


def test_a_missing_write_or_a_replay_that_writes_fails() -> None:
    # GIVEN a history consumer that wrote one balance change short, and a replay that wrote
    history = cost({"BatchGetItem": 1, "TransactWriteItems": 39}, 97)
    # THEN the write target and the replay target fail
    assert failed(report(history, history_replay_items=3)) == [
        "history: 1 TransactWriteItems per balance change",
        "history: a redelivered batch writes 0 items",
    ]


def test_the_lag_reports_its_median_95th_percentile_and_maximum() -> None:
    # GIVEN twenty lags of 1..20 ms, out of order
    lag = HistoryLag(tuple(float(value) for value in [*range(20, 10, -1), *range(1, 11)]))
    # THEN the median is between the middle two, the 95th is the 20th value, the max the last
    assert lag.as_json() == {"writes": 20, "p50_ms": 10.5, "p95_ms": 20.0, "max_ms": 20.0}
