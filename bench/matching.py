"""Statement matching in `make bench`: rows of a statement per second against as many entries.

A seeded statement over 30 days: most rows have one entry of the same amount up to a day
apart, some rows settle two entries (a payout of two charges), and the rest of the rows and
entries have no partner. Matched on amount and date (no reference, so the amount index and
the subset-sum search do the work), two days of date tolerance, one row to many entries.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.reporting.matching import Candidate, MatchRules, StatementRow, match

rows_default = 10_000
rows_max = 10_000
seed = 20261202
span_s = 30 * 24 * 3600
split_share = 0.10
single_share = 0.75
rules = MatchRules(
    match_on=frozenset({"amount", "date"}),
    date_tolerance_s=2 * 24 * 3600,
    strategy="one_to_many",
)
start = datetime(2026, 11, 1, tzinfo=UTC)


def statement(rows: int) -> tuple[list[StatementRow], list[Candidate]]:
    """`rows` statement rows and as many entries, the same for the same `rows`."""
    rng = random.Random(seed)
    statement_rows: list[StatementRow] = []
    entries: list[Candidate] = []

    def entry(amount: int) -> Candidate:
        at = start + timedelta(seconds=rng.randrange(span_s))
        made = Candidate(f"entry-{len(entries):05d}", amount, at)
        entries.append(made)
        return made

    def row(amount: int, near: datetime) -> None:
        date = near + timedelta(seconds=rng.randrange(-86_400, 86_400))
        statement_rows.append(StatementRow(f"row-{len(statement_rows):05d}", amount, date))

    # Each step adds one row and one or two entries, so the entries reach `rows` first.
    while len(entries) < rows:
        amount = rng.choice((1, -1)) * rng.randrange(100, 1_000_000)
        draw = rng.random()
        if draw < split_share and len(entries) + 2 <= rows:
            first, second = entry(amount), entry(amount + rng.randrange(100, 10_000))
            row(first.amount + second.amount, first.effective_at)
        elif draw < split_share + single_share:
            row(amount, entry(amount).effective_at)
        else:
            entry(amount)
            row(-amount, start + timedelta(seconds=rng.randrange(span_s)))
    while len(statement_rows) < rows:
        row(rng.randrange(100, 1_000_000), start + timedelta(seconds=rng.randrange(span_s)))
    return statement_rows, entries


def measure_matching(rows: int = rows_default) -> dict[str, Any]:
    """Match `rows` seeded rows against as many entries; the rows matched per second."""
    if not 1 <= rows <= rows_max:
        raise ValueError(f"rows must be from 1 to {rows_max}")
    statement_rows, entries = statement(rows)
    began = time.perf_counter_ns()
    result = match(statement_rows, entries, rules)
    elapsed_ns = max(time.perf_counter_ns() - began, 1)
    return {
        "rows": len(statement_rows),
        "entries": len(entries),
        "matched": len(result.matched),
        "seconds": round(elapsed_ns / 1e9, 3),
        "rows_per_s": round(len(statement_rows) * 1e9 / elapsed_ns),
    }


def format_matching(measured: Mapping[str, Any]) -> str:
    """One line: rows matched and rows a second."""
    return (
        f"Statement matching in process, {measured['rows']} rows against {measured['entries']} "
        f"entries: {measured['matched']} matched in {measured['seconds']:.2f} s, "
        f"{measured['rows_per_s']:.0f} rows/s (reported only)"
    )
