"""The events consumer's bench targets, on made-up passes."""

from __future__ import annotations

from bench.events import EventsPass, EventsReport, events_checks, format_events


def a_pass(calls: int, ids: tuple[str, ...], per_batch: tuple[int, ...] = (12, 3)) -> EventsPass:
    return EventsPass(
        records=30,
        batches=len(per_batch),
        events_per_batch=per_batch,
        calls=calls,
        event_ids=ids,
        cpu_ns=15_000_000,
        wall_ns=30_000_000,
    )


ids = tuple(f"evt_{n:032x}" for n in range(15))


def failed(report: EventsReport) -> list[str]:
    return [check.name for check in events_checks(report) if not check.passed]


def test_every_events_target_passes_on_the_designed_counts() -> None:
    # GIVEN 15 events in 2 batches (12 and 3): 2 + 1 calls, and a redelivery of the same ids
    report = EventsReport(10, a_pass(3, ids), a_pass(3, ids))
    # THEN every target passes, and the report shows the ratios and the throughput
    assert failed(report) == []
    shape = report.as_json()
    assert (shape["events_per_call"], shape["events_per_record"]) == (5.0, 0.5)
    assert report.throughput() == {"events_per_s": 500.0, "cpu_us_per_event": 1000.0}
    assert "15 events in 3 PutEvents calls" in format_events(report)


def test_extra_calls_a_doubled_event_or_other_ids_on_redelivery_fail() -> None:
    # GIVEN a call per event, an id published twice, and a redelivery with other ids
    doubled = (*ids[:-1], ids[0])
    report = EventsReport(10, a_pass(15, doubled), a_pass(3, ids[::-1]))
    # THEN each target fails
    assert failed(report) == [
        "events: PutEvents calls = ceil(events / 10) per batch",
        "events: one event per change, each id once in a pass",
        "events: a redelivered batch publishes the same event ids",
    ]


def test_a_pass_without_events_reports_zeros() -> None:
    empty = EventsPass(0, 0, (), 0, (), 0, 0)
    report = EventsReport(0, empty, empty)
    assert report.throughput() == {"events_per_s": 0.0, "cpu_us_per_event": 0.0}
    assert report.as_json()["events_per_call"] == 0.0
