"""What a store offers to keep external balance checks: add one (with its mismatch event,
in the same write), and read a ledger's, newest first per source (ADR 0031)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from ledger.domain.events import OutboxEvent
    from ledger.domain.external import ExternalCheck

# Microseconds since the epoch stay below this until the year 2286: the inverted time
# `moment_max - moment` then sorts the newest first, in a fixed width.
_moment_max_us = 10**16
_epoch = datetime(1970, 1, 1, tzinfo=UTC)


class ExternalCheckTaken(Exception):
    """A check of that id exists already (a retried or replayed request); nothing was
    written."""

    def __init__(self, existing: ExternalCheck) -> None:
        super().__init__(f"external check {existing.id} exists already")
        self.existing = existing


def check_position(check: ExternalCheck) -> str:
    """Where a check sits in its ledger's listing: by source, newest first, then by id.
    No source name holds `#` (it sorts below every character one may hold), so a source
    never sorts between another's checks."""
    micros = (check.checked_at - _epoch) // timedelta(microseconds=1)
    inverted = str(_moment_max_us - micros).rjust(len(str(_moment_max_us)), "0")
    return f"{check.source}#{inverted}#{check.id}"


def source_prefix(source: str | None) -> str:
    """The positions of one source's checks begin with this; every position with `""`."""
    return "" if source is None else f"{source}#"


@runtime_checkable
class KeepsExternalChecks(Protocol):
    """A store that keeps external balance checks in their ledger's partition."""

    def add_external_check(self, check: ExternalCheck, event: OutboxEvent | None) -> None:
        """Write the check, and its event to the outbox, all or nothing, only if no check
        of its id exists: ExternalCheckTaken otherwise, with nothing written."""

    def external_checks(
        self, ledger_id: str, source: str | None, after: str | None, count: int
    ) -> list[ExternalCheck]:
        """Up to `count` of the ledger's checks (of one source, or all) in listing order,
        strictly after the position `after` (strongly consistent)."""
