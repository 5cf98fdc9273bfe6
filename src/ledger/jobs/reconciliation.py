"""The scheduled reconciliation: every ledger in turn, within a time budget, from where the
previous run stopped. It reads and reports; the one item it writes is its checkpoint.

A run walks the ledger listing (oldest first) from its checkpoint, reconciles each ledger
(`Reports.reconcile`), and stops when the budget is spent, when it is back at the first
ledger it checked, or at the end of a round begun at the listing's start; the checkpoint
then names the page and the last ledger done, and the next run goes on after it, wrapping
around to the first ledger at the end of the listing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ledger.domain import limits
from ledger.domain.errors import ReportTooLarge
from ledger.domain.money import format_amount
from ledger.domain.results import Reconciliation
from ledger.domain.timestamps import timestamp
from ledger.service import Ledger, utc_now
from ledger.store.checkpoints import Checkpoint, Checkpoints

job_name = "reconciliation"
# An unfiltered ledger listing fills every page but its last; one more page covers the
# wrap back to the listing's start.
_pages_max = -(-limits.reconciliation_run_ledgers_max // limits.report_page_size) + 2


def discrepancies(result: Reconciliation) -> int:
    """What does not add up in one ledger: each mismatch and each unbalanced currency."""
    return len(result.mismatches) + sum(not each.balanced for each in result.totals.values())


@dataclass(frozen=True)
class ReconciliationRun:
    """What one run did: the ledgers it reconciled, those too large to, and where the next
    run goes on (`next_after`: after that ledger; None: at the listing's start).

    `checkpoint` is `saved`, `unchanged` (the run ended where it began, nothing written)
    or `taken` (another run saved one meanwhile, so this one saved nothing).
    """

    started_at: datetime
    finished_at: datetime
    resumed_after: str | None
    checked: tuple[Reconciliation, ...]
    too_large: tuple[tuple[str, str], ...]
    round_complete: bool
    budget_spent: bool
    next_after: str | None
    checkpoint: str

    @property
    def mismatches(self) -> int:
        """Every mismatch and unbalanced currency over the ledgers reconciled."""
        return sum(discrepancies(result) for result in self.checked)

    def summary(self) -> dict[str, Any]:
        """The run in a few counts, as JSON: what the function returns."""
        return {
            "job": job_name,
            "started_at": timestamp(self.started_at),
            "finished_at": timestamp(self.finished_at),
            "resumed_after": self.resumed_after,
            "ledgers_checked": len(self.checked),
            "mismatches": self.mismatches,
            "ledgers_too_large": len(self.too_large),
            "round_complete": self.round_complete,
            "budget_spent": self.budget_spent,
            "next_after": self.next_after,
            "checkpoint": self.checkpoint,
        }

    def balances(self) -> dict[str, dict[str, dict[str, str]]]:
        """Per ledger and currency what the metrics report: `available`, `pending` (the
        pending debits, equal to the pending credits when balanced) and `escrowed`."""
        return {
            result.ledger_id: {
                code: {
                    "available": format_amount(totals.available, totals.currency),
                    "pending": format_amount(totals.pending_debits, totals.currency),
                    "escrowed": format_amount(totals.escrowed, totals.currency),
                }
                for code, totals in result.totals.items()
            }
            for result in self.checked
        }

    def record(self) -> dict[str, Any]:
        """The run in full, as JSON: its summary, its findings and the balances."""
        return {**self.summary(), "findings": self.findings(), "balances": self.balances()}

    def findings(self) -> list[dict[str, Any]]:
        """Each thing that does not add up, and each ledger left unchecked, with its
        details as JSON (amounts as decimal strings, counts as numbers)."""
        found: list[dict[str, Any]] = []
        for result in self.checked:
            for mismatch in result.mismatches:
                found.append(
                    {
                        "problem": "mismatch",
                        "ledger_id": result.ledger_id,
                        "account_id": mismatch.account_id,
                        "shard": mismatch.shard,
                        "kind": mismatch.kind,
                        "field": mismatch.field,
                        "expected": mismatch.rendered(mismatch.expected),
                        "actual": mismatch.rendered(mismatch.actual),
                        "missing_versions": list(mismatch.missing_versions),
                    }
                )
            for code, totals in result.totals.items():
                if not totals.balanced:
                    sums = ("posted_debits", "posted_credits", "pending_debits", "pending_credits")
                    found.append(
                        {
                            "problem": "unbalanced",
                            "ledger_id": result.ledger_id,
                            "currency": code,
                            **{
                                name: format_amount(getattr(totals, name), totals.currency)
                                for name in sums
                            },
                        }
                    )
        found += [
            {"problem": "too_large", "ledger_id": ledger_id, "reason": reason}
            for ledger_id, reason in self.too_large
        ]
        return found


class ReconciliationJob:
    """Reconciles the ledgers of one store in turn, resuming at its checkpoint."""

    def __init__(
        self,
        ledger: Ledger,
        checkpoints: Checkpoints,
        *,
        margin_ms: int = limits.reconciliation_run_margin_ms,
        ledgers_max: int = limits.reconciliation_run_ledgers_max,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._ledger = ledger
        self._checkpoints = checkpoints
        self._margin_ms = margin_ms
        self._ledgers_max = ledgers_max
        self._clock = clock

    def run(self, remaining_ms: Callable[[], float]) -> ReconciliationRun:
        """One run: reconcile ledgers while `remaining_ms()` exceeds the margin, then save
        where it stopped. An error other than a ledger too large to reconcile saves the
        place before that ledger and is raised, so the next run starts with it again."""
        walk = _Walk(self._checkpoints.load(job_name), self._clock())
        try:
            self._walk(walk, remaining_ms)
        except Exception:
            self._save(walk)
            raise
        return self._save(walk)

    def _walk(self, walk: _Walk, remaining_ms: Callable[[], float]) -> None:
        # Begun at the listing's start, a round ends at the listing's end; begun further on,
        # it wraps around and ends back at the first ledger it checked.
        wrapped = walk.read.at_start
        for _ in range(_pages_max):
            page = self._ledger.list_ledgers(limit=limits.report_page_size, cursor=walk.cursor)
            ids = [record.id for record in page.items]
            start = ids.index(walk.after) + 1 if walk.after in ids else 0
            for ledger_id in ids[start:]:
                if ledger_id == walk.first:
                    walk.round_complete = True
                    return
                if remaining_ms() <= self._margin_ms or walk.count >= self._ledgers_max:
                    walk.budget_spent = True
                    return
                self._reconcile(walk, ledger_id)
            if page.next_cursor is not None:
                walk.cursor = page.next_cursor
            elif wrapped:
                walk.round_complete = True
                walk.cursor, walk.after = None, None
                return
            else:
                wrapped = True
                walk.cursor, walk.after = None, None
        walk.budget_spent = True

    def _reconcile(self, walk: _Walk, ledger_id: str) -> None:
        try:
            walk.checked.append(self._ledger.reconcile(ledger_id))
        except ReportTooLarge as error:
            walk.too_large.append((ledger_id, error.message))
        walk.first = walk.first or ledger_id
        walk.after = ledger_id

    def _save(self, walk: _Walk) -> ReconciliationRun:
        read = walk.read
        if (walk.cursor, walk.after) == (read.cursor, read.after):
            checkpoint = "unchanged"
        elif self._checkpoints.save(job_name, read, walk.cursor, walk.after):
            checkpoint = "saved"
        else:
            checkpoint = "taken"
        return ReconciliationRun(
            started_at=walk.started_at,
            finished_at=self._clock(),
            resumed_after=read.after,
            checked=tuple(walk.checked),
            too_large=tuple(walk.too_large),
            round_complete=walk.round_complete,
            budget_spent=walk.budget_spent,
            next_after=walk.after,
            checkpoint=checkpoint,
        )


class _Walk:
    """Where a run is: the checkpoint it read, the page and last ledger done, the results."""

    def __init__(self, read: Checkpoint, started_at: datetime) -> None:
        self.read = read
        self.started_at = started_at
        self.cursor = read.cursor
        self.after = read.after
        self.first: str | None = None
        self.checked: list[Reconciliation] = []
        self.too_large: list[tuple[str, str]] = []
        self.round_complete = False
        self.budget_spent = False

    @property
    def count(self) -> int:
        return len(self.checked) + len(self.too_large)
