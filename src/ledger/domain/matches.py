"""Statement matching runs and the match records they keep (docs/reconciliation.md, ADR 0030)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import datetime

    from ledger.domain.model import Actor


@dataclass(frozen=True)
class StatementMatchRun:
    """What one run matched: each row with its entries, in the rows' (date, id) order; the
    rows and entries left unmatched; the rows an earlier run matched already."""

    run_id: str
    account_id: str
    source: str
    matched: tuple[tuple[str, tuple[str, ...]], ...]
    unmatched_external: tuple[str, ...]
    unmatched_entries: tuple[str, ...]
    already_matched: tuple[str, ...]
    dry_run: bool


@dataclass(frozen=True)
class MatchRecord:
    """One match as kept: a row of a source's statement and the entries it settled."""

    ledger_id: str
    account_id: str
    source: str
    row_id: str
    entry_ids: tuple[str, ...]
    run_id: str
    matched_at: datetime
    actor: Actor | None = None


@dataclass(frozen=True)
class MatchRefused:
    """A match not recorded because another run recorded its row or some of its entries
    first; nothing of it was written."""

    row_taken: bool
    entries_taken: frozenset[str]
