"""Things the dev runtime starts and must stop, whatever happens in between."""

from __future__ import annotations

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
