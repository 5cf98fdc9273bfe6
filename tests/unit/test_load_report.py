"""The pure parts of `make bench-load`: percentiles, a level's summary, the balances a run must
leave, the report and its table, and the request budget shared by a level's clients."""

from __future__ import annotations

import secrets

import pytest

from bench.load import summary
from bench.load_driver import Budget
from bench.load_report import (
    ClientRun,
    LevelResult,
    Mismatch,
    assemble,
    expected_balances,
    nearest_rank,
    summarize_level,
    table,
)

clean_reconciliation = {
    "ok": True,
    "accounts_checked": 3,
    "entries_checked": 4,
    "mismatches": [],
    "trial_balance_balanced": True,
}


def _id() -> str:
    return f"acc_{secrets.token_hex(4)}"


def _run(source_id: str, target_id: str, accepted: int, errors: int = 0) -> ClientRun:
    latencies = tuple(0.010 * (index + 1) for index in range(accepted + errors))
    return ClientRun(source_id, target_id, latencies, errors, accepted)


def _level(errors: int = 0) -> LevelResult:
    return LevelResult(
        scenario="hot",
        clients=8,
        requests=200,
        errors=errors,
        duration_s=4.0,
        stopped_by="count",
        latencies_ms={50: 12.5, 95: 30.0, 99: 41.25},
    )


@pytest.mark.parametrize(
    ("percent", "value"), [(5, 15), (30, 20), (40, 20), (50, 35), (99, 50), (100, 50)]
)
def test_nearest_rank_is_the_smallest_value_covering_the_percent(percent: int, value: int) -> None:
    # GIVEN the textbook example, given out of order
    values = [35, 20, 50, 15, 40]

    # THEN each percentile is a value of the list, the one at rank ceil(p * n / 100)
    assert nearest_rank(values, percent) == value


def test_nearest_rank_of_a_hundred_values_is_the_value_at_that_rank() -> None:
    values = [float(value) for value in range(100, 0, -1)]

    assert [nearest_rank(values, percent) for percent in (50, 95, 99)] == [50.0, 95.0, 99.0]


@pytest.mark.parametrize(("values", "percent"), [([], 50), ([1.0], 0), ([1.0], 101)])
def test_nearest_rank_refuses_no_values_and_percents_outside_the_range(
    values: list[float], percent: int
) -> None:
    with pytest.raises(ValueError, match="percent"):
        nearest_rank(values, percent)


def test_a_level_sums_its_clients_and_says_the_count_stopped_it() -> None:
    # GIVEN two clients: one with 3 accepted transfers, one with 1 accepted and 1 failed
    runs = [_run(_id(), _id(), accepted=3), _run(_id(), _id(), accepted=1, errors=1)]

    # WHEN the level of 5 requests in 0.5 s is summarized
    level = summarize_level("distinct", runs, 0.5, requests_max=5)

    # THEN it counts every request and error, in ms by nearest rank, ended by the count
    assert (level.clients, level.requests, level.errors) == (2, 5, 1)
    assert level.throughput_rps == pytest.approx(10.0)
    assert dict(level.latencies_ms) == {50: 20.0, 95: 30.0, 99: 30.0}
    assert level.stopped_by == "count"
    assert level.to_dict()["latency_ms"] == {"p50": 20.0, "p95": 30.0, "p99": 30.0}


def test_a_level_short_of_its_count_was_stopped_by_the_time_cap() -> None:
    level = summarize_level("hot", [_run(_id(), _id(), accepted=2)], 30.0, requests_max=200)

    assert level.stopped_by == "time"
    assert level.to_dict()["throughput_rps"] == pytest.approx(0.1)


def test_distinct_pairs_expect_each_source_less_and_each_target_what_it_was_sent() -> None:
    # GIVEN two clients, each with its own pair, sources funded with 10.00 (1000 minor units)
    first, second = (_id(), _id()), (_id(), _id())
    runs = [_run(*first, accepted=3), _run(*second, accepted=0, errors=2)]

    # WHEN the balances are expected for transfers of 1.00
    expected = expected_balances(runs, funding_minor=1000, amount_minor=100)

    # THEN only accepted transfers moved money, and a failed one moved none
    assert expected == {first[0]: 700, first[1]: 300, second[0]: 1000, second[1]: 0}


def test_a_shared_target_expects_the_sum_of_what_every_client_sent() -> None:
    hot = _id()
    sources = [_id() for _ in range(3)]
    runs = [
        _run(source, hot, accepted=count) for source, count in zip(sources, (1, 2, 4), strict=True)
    ]

    expected = expected_balances(runs, funding_minor=500, amount_minor=100)

    assert expected[hot] == 700
    assert [expected[source] for source in sources] == [400, 300, 100]


def test_two_clients_on_one_source_or_a_source_as_target_are_refused() -> None:
    shared, target = _id(), _id()
    with pytest.raises(ValueError, match="source of its own"):
        expected_balances([_run(shared, target, 1), _run(shared, _id(), 1)], 100, 1)
    with pytest.raises(ValueError, match="both a source and a target"):
        expected_balances([_run(shared, target, 1), _run(target, _id(), 1)], 100, 1)


def test_a_clean_run_reports_ok_with_the_machine_it_ran_on() -> None:
    report = assemble(
        settings={"requests_per_level": 200},
        hot_shards=8,
        levels=[_level()],
        balances_checked=9,
        mismatches=[],
        reconciliation=clean_reconciliation,
    )

    assert report["ok"] is True
    assert (report["errors"], report["hot_shards"]) == (0, 8)
    assert report["balances"] == {"checked": 9, "mismatches": []}
    assert report["levels"][0]["throughput_rps"] == 50.0
    assert {"note", "cpu_count", "platform", "python"} <= set(report["machine"])
    assert "this machine" in report["machine"]["note"]
    assert all(line.startswith("PASS") for line in summary(report).splitlines())


@pytest.mark.parametrize("flaw", ["error", "mismatch", "reconciliation"])
def test_an_error_a_wrong_balance_or_an_unclean_reconciliation_fails_the_report(
    flaw: str,
) -> None:
    report = assemble(
        settings={},
        hot_shards=1,
        levels=[_level(errors=1 if flaw == "error" else 0)],
        balances_checked=2,
        mismatches=[Mismatch(_id(), "1.00", "2.00")] if flaw == "mismatch" else [],
        reconciliation={**clean_reconciliation, "ok": flaw != "reconciliation"},
    )

    assert report["ok"] is False
    assert sum(line.startswith("FAIL") for line in summary(report).splitlines()) == 1


def test_the_table_has_a_header_and_one_row_per_level() -> None:
    lines = table([_level(), _level(errors=2)]).splitlines()

    assert len(lines) == 4
    assert lines[0].split("|")[1].strip() == "scenario"
    cells = [cell.strip() for cell in lines[3].split("|")[1:-1]]
    assert cells == ["hot", "8", "200", "2", "50.0", "12.5", "30.0", "41.2"]


def test_the_budget_hands_out_its_count_and_nothing_after() -> None:
    budget = Budget(requests_max=3, time_cap_s=60.0)
    budget.start()

    assert [budget.take() for _ in range(5)] == [True, True, True, False, False]


def test_the_budget_hands_out_nothing_once_its_time_cap_has_passed() -> None:
    budget = Budget(requests_max=3, time_cap_s=0.0)
    budget.start()

    assert budget.take() is False
