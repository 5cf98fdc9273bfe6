"""The reconciliation schedule locally: a run of the reconciliation job every interval, each
with the function's time budget, written to the data dir since no metrics leave the machine.

Each run appends one JSON line to `<data-dir>/reconciliations.jsonl`: the summary the
function returns, every finding and each ledger's balances per currency (what the
function emits as metrics); each finding is also logged as an error.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING

from ledger.domain import limits
from ledger.local.schedule import Schedule

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from ledger.jobs.reconciliation import ReconciliationJob, ReconciliationRun

results_file_name = "reconciliations.jsonl"

logger = logging.getLogger(__name__)


class ScheduledReconciliation(Schedule):
    """Runs `job` every `interval_s` seconds, each run given `budget_ms` as a Lambda's
    remaining time, and records it in `data_dir`."""

    def __init__(
        self,
        job: ReconciliationJob,
        data_dir: Path,
        interval_s: float,
        budget_ms: int = limits.reconciliation_run_timeout_ms,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._job = job
        self._results = data_dir / results_file_name
        self._budget_ms = budget_ms
        self._clock = clock
        super().__init__("reconciliation", self.run_once, interval_s)

    def run_once(self) -> ReconciliationRun:
        """One run, recorded: a line in the results file, each finding logged."""
        deadline_s = self._clock() + self._budget_ms / 1000

        def remaining_ms() -> float:
            return (deadline_s - self._clock()) * 1000

        run = self._job.run(remaining_ms)
        record = run.record()
        self._results.parent.mkdir(parents=True, exist_ok=True)
        with self._results.open("a", encoding="utf-8") as results:
            results.write(json.dumps(record) + "\n")
        for finding in record["findings"]:
            logger.error("reconciliation %s: %s", finding["problem"], json.dumps(finding))
        return run
