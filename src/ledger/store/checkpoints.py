"""Where a scheduled job that walks every ledger stopped, so that its next run goes on from
there: one small record per job, saved only if no other run saved one since it was read."""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from typing import Protocol


@dataclass(frozen=True)
class Checkpoint:
    """A job's place in the ledger listing: the cursor of the page it was on (None: the
    first page) and the last ledger of that page it finished (None: none of it yet).
    `revision` counts the saves, 0 for a job that never saved one."""

    cursor: str | None = None
    after: str | None = None
    revision: int = 0

    @property
    def at_start(self) -> bool:
        """Whether it points at the first ledger of the listing."""
        return self.cursor is None and self.after is None


class Checkpoints(Protocol):
    """The jobs' checkpoints, by job name."""

    def load(self, job: str) -> Checkpoint:
        """The job's checkpoint as saved last (strongly consistent), or the start."""

    def save(self, job: str, read: Checkpoint, cursor: str | None, after: str | None) -> bool:
        """Save the place (`cursor`, `after`) as the revision after `read`'s, provided the
        saved checkpoint is still `read`; False, saving nothing, when another run saved
        one in between."""


class MemoryCheckpoints:
    """Checkpoints in a dict, for the memory store and the jobs' unit tests."""

    def __init__(self) -> None:
        self._saved: dict[str, Checkpoint] = {}
        self._lock = threading.Lock()

    def load(self, job: str) -> Checkpoint:
        """The job's checkpoint as saved last, or the start."""
        with self._lock:
            return self._saved.get(job, Checkpoint())

    def save(self, job: str, read: Checkpoint, cursor: str | None, after: str | None) -> bool:
        """Save the place if the saved checkpoint is still `read`."""
        with self._lock:
            if self._saved.get(job, Checkpoint()).revision != read.revision:
                return False
            self._saved[job] = replace(read, cursor=cursor, after=after, revision=read.revision + 1)
            return True
