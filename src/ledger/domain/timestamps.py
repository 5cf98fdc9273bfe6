"""The table's one timestamp format, in a module of its own so that light readers (the
authorizer's key lookup) can share it without loading the store."""

from __future__ import annotations

from datetime import UTC, datetime


def timestamp(moment: datetime) -> str:
    """Fixed-width RFC 3339 UTC with microseconds, so text order is time order."""
    utc = moment.astimezone(UTC)
    # strftime's %Y does not pad years before 1000 on every platform; the width must be fixed.
    return f"{utc.year:04d}-{utc:%m-%dT%H:%M:%S.%f}Z"
