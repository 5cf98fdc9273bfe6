"""Scheduled functions locally: a thread that runs one job every interval until stopped."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from ledger.local.lifecycle import Service

if TYPE_CHECKING:
    from collections.abc import Callable

stop_wait_s_max = 30

logger = logging.getLogger(__name__)


class Schedule(Service):
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
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name.replace(" ", "-"), daemon=True)

    def start(self) -> None:
        """Start the schedule; the first run is one interval from now."""
        self._thread.start()

    def stop(self) -> None:
        """Stop the schedule, waiting for a run in progress to finish (bounded)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(stop_wait_s_max)

    def _run(self) -> None:
        while not self._stopping.wait(self._interval_s):
            try:
                self._run_once()
            except Exception:
                logger.exception("the %s failed; the next one runs on schedule", self._name)
