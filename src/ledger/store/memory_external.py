"""The reference store's external balance checks: by ledger and id, under the store's
lock; a listing sorts them by position."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from ledger.store.external import ExternalCheckTaken, check_position, source_prefix

if TYPE_CHECKING:
    from ledger.domain.events import OutboxEvent
    from ledger.domain.external import ExternalCheck


class MemoryExternalChecks:
    """External balance checks in dicts; a mismatch's event joins the store's outbox in
    the same step."""

    _lock: threading.Lock
    _external_checks: dict[str, dict[str, ExternalCheck]]
    outbox: list[OutboxEvent]

    def add_external_check(self, check: ExternalCheck, event: OutboxEvent | None) -> None:
        """Keep the check and its event, unless a check of its id exists."""
        with self._lock:
            held = self._external_checks.setdefault(check.ledger_id, {})
            if check.id in held:
                raise ExternalCheckTaken(held[check.id])
            held[check.id] = check
            if event is not None:
                self.outbox.append(event)

    def external_checks(
        self, ledger_id: str, source: str | None, after: str | None, count: int
    ) -> list[ExternalCheck]:
        """The ledger's checks in listing order after `after`."""
        prefix = source_prefix(source)
        with self._lock:
            held = list(self._external_checks.get(ledger_id, {}).values())
        placed = sorted((check_position(check), check) for check in held)
        kept = [
            check
            for position, check in placed
            if position.startswith(prefix) and (after is None or position > after)
        ]
        return kept[:count]
