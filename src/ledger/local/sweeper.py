"""The expiry schedule locally: a thread that voids expired pending entries every interval."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from ledger.local.lifecycle import Service

if TYPE_CHECKING:
    from collections.abc import Callable

stop_wait_s_max = 30

logger = logging.getLogger(__name__)


class ExpirySweeper(Service):
    """Calls `sweep` every `interval_s` seconds in a background thread until stopped.

    A failed sweep is logged and the next one runs on schedule, as a scheduled Lambda
    would be invoked again whatever happened to the previous run.
    """

    def __init__(self, sweep: Callable[[], int], interval_s: float) -> None:
        if interval_s <= 0:
            raise ValueError("the sweep interval must be positive")
        self._sweep = sweep
        self._interval_s = interval_s
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="expiry-sweeper", daemon=True)

    def start(self) -> None:
        """Start sweeping; the first sweep runs one interval from now."""
        self._thread.start()

    def stop(self) -> None:
        """Stop sweeping, waiting for a sweep in progress to finish (bounded)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(stop_wait_s_max)

    def _run(self) -> None:
        while not self._stopping.wait(self._interval_s):
            try:
                expired = self._sweep()
            except Exception:
                logger.exception("the expiry sweep failed; the next one runs on schedule")
                continue
            if expired:
                logger.info("expired %d pending entries", expired)
