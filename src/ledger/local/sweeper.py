"""The expiry schedule locally: a thread that voids expired pending entries every interval."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ledger.local.schedule import Schedule

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)


class ExpirySweeper(Schedule):
    """Calls `sweep` (which returns how many entries it expired) every `interval_s` seconds."""

    def __init__(self, sweep: Callable[[], int], interval_s: float) -> None:
        self._sweep = sweep
        super().__init__("expiry sweep", self._sweep_once, interval_s)

    def _sweep_once(self) -> None:
        expired = self._sweep()
        if expired:
            logger.info("expired %d pending entries", expired)
