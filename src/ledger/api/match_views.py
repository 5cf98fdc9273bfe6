"""The response body of statement matching, and its renderer."""

from __future__ import annotations

from typing import Any

from ledger.api.views import View
from ledger.domain.matches import StatementMatchRun


class MatchView(View):
    """A row and the entries it settled."""

    external_id: str
    entry_ids: list[str]


class StatementMatchView(View):
    """What one run matched, what it left unmatched, and the rows matched before."""

    run_id: str
    matched: list[MatchView]
    unmatched_external: list[str]
    unmatched_entries: list[str]
    already_matched: list[str]
    dry_run: bool


def statement_match_view(run: StatementMatchRun) -> dict[str, Any]:
    """A run as API.md shows it."""
    return {
        "run_id": run.run_id,
        "matched": [
            {"external_id": row_id, "entry_ids": list(entry_ids)}
            for row_id, entry_ids in run.matched
        ],
        "unmatched_external": list(run.unmatched_external),
        "unmatched_entries": list(run.unmatched_entries),
        "already_matched": list(run.already_matched),
        "dry_run": run.dry_run,
    }
