"""The statement matching bench, on a small statement."""

from __future__ import annotations

import pytest

from bench.matching import format_matching, measure_matching, statement


def test_the_bench_reports_rows_entries_matches_and_a_rate() -> None:
    # WHEN a small seeded statement is matched
    measured = measure_matching(rows=200)
    # THEN it reports as many rows as entries, most of them matched, and a positive rate
    assert measured["rows"] == measured["entries"] == 200
    assert 100 < measured["matched"] < 200
    assert measured["rows_per_s"] > 0
    assert set(measured) == {"rows", "entries", "matched", "seconds", "rows_per_s"}
    assert format_matching(measured).startswith(
        f"Statement matching in process, 200 rows against 200 entries: {measured['matched']} "
    )


def test_the_statement_is_the_same_every_time_and_the_size_is_bounded() -> None:
    # GIVEN the seeded statement THEN it is the same twice
    assert statement(50) == statement(50)
    # AND a size outside the bench's limit is refused
    with pytest.raises(ValueError, match="rows"):
        measure_matching(rows=0)
