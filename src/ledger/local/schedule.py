"""Scheduled functions locally: a thread that runs one job every interval until stopped."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ledger.local.lifecycle import BackgroundThread

if TYPE_CHECKING:
    from collections.abc import Callable

stop_wait_s_max = 30

logger = logging.getLogger(__name__)


class Schedule(BackgroundThread):
    """Calls `run` every `interval_s` seconds in a background thread until stopped.

    A failed run is logged and the next one runs on schedule, as a scheduled Lambda
    would be invoked again whatever happened to the previous run.
    """

    def __init__(self, name: str, run: Callable[[], object], interval_s: float) -> None:
        if interval_s <= 0:
            raise ValueError(f"the interval of the {name} must be positive")
        self._name = name
        self._run_once = run
        self._interval_s = interval_s
        # The first run is one interval after the start.
        super().__init__(name.replace(" ", "-"), stop_wait_s_max)

    def _run(self) -> None:
        while not self._stopping.wait(self._interval_s):
            try:
                self._run_once()
            except Exception:
                logger.exception("the %s failed; the next one runs on schedule", self._name)
