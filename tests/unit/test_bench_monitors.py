"""The monitors consumer's bench targets, on made-up measurements."""

from __future__ import annotations

from bench.consumers import ConsumerCost
from bench.monitors import MonitorsReport, balance_monitors, format_monitors, monitors_checks, walk

wallets = 10
evaluations = wallets * len(walk) * balance_monitors


def cost(calls: dict[str, int], items_written: int) -> ConsumerCost:
    return ConsumerCost(
        records=200, batches=2, calls=calls, items_written=items_written, cpu_ns=0, wall_ns=0
    )


def report(*, events: int = 70, writes: int = 60, replay_items: int = 0) -> MonitorsReport:
    first = cost({"Query": 20, "TransactWriteItems": writes}, 200)
    replay = cost({"Query": 20, "PutItem": 20}, replay_items)
    return MonitorsReport(evaluations, crossings=70, events=events, first=first, replay=replay)


def failed(checked: MonitorsReport) -> list[str]:
    return [check.name for check in monitors_checks(checked) if not check.passed]


def test_every_monitors_target_passes_on_the_designed_counts() -> None:
    # GIVEN one event per crossing, few writes and a silent replay THEN every target passes
    assert failed(report()) == []
    assert report().as_json()["write_calls_per_evaluation"] == round(60 / evaluations, 3)
    assert "70 crossings" in format_monitors(report())


def test_a_missed_or_doubled_crossing_a_write_per_evaluation_or_a_noisy_replay_fails() -> None:
    # GIVEN a consumer that wrote an event twice, wrote on every evaluation, and rewrote
    checked = report(events=71, writes=evaluations, replay_items=3)
    # THEN each target fails
    assert failed(checked) == [
        "monitors: one outbox event per crossing",
        "monitors: at most 1 write call per crossing, large entry and account and batch",
        "monitors: a redelivered batch writes 0 items",
    ]
