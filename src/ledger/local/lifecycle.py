"""Things the dev runtime starts and must stop, whatever happens in between."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from types import TracebackType
    from typing import Self


class Service(ABC):
    """Started by `start()`, stopped by `stop()`; `with` does both, stopping even on error."""

    @abstractmethod
    def start(self) -> None:
        """Bring it up."""

    @abstractmethod
    def stop(self) -> None:
        """Bring it down; safe to call once it is down."""

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


class BackgroundThread(Service):
    """A daemon thread that runs `_run` until `stop()` sets `_stopping`; `_run` waits on
    `_stopping` between its steps, so a stop takes effect after the step in progress."""

    def __init__(self, thread_name: str, stop_wait_s_max: float) -> None:
        self._stop_wait_s_max = stop_wait_s_max
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)

    @abstractmethod
    def _run(self) -> None:
        """The thread's work, until `_stopping` is set."""

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to stop and wait, at most `stop_wait_s_max`, for the step in
        progress to end."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(self._stop_wait_s_max)
