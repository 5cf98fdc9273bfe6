"""The expiry schedule locally: a thread that, every interval, voids expired pending entries
and writes the expiring notices of those about to expire."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ledger.local.schedule import Schedule

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)


def _nothing() -> int:
    return 0


class ExpirySweeper(Schedule):
    """Calls `sweep` and then `notice` (each returns how many entries it took) every
    `interval_s` seconds."""

    def __init__(
        self,
        sweep: Callable[[], int],
        interval_s: float,
        notice: Callable[[], int] = _nothing,
    ) -> None:
        self._sweep = sweep
        self._notice = notice
        super().__init__("expiry sweep", self._sweep_once, interval_s)

    def _sweep_once(self) -> None:
        expired = self._sweep()
        if expired:
            logger.info("expired %d pending entries", expired)
        noticed = self._notice()
        if noticed:
            logger.info("noticed %d pending entries about to expire", noticed)
