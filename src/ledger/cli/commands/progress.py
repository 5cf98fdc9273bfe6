"""Progress on stderr while a command waits: a spinner for one long request, progress bars
for the phases of work done in this process. Never on stdout, which a script may parse."""

from __future__ import annotations

import itertools
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

import click

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

spinner_frames = "|/-\\"
spinner_interval_s = 0.1
# What each phase of a reconciliation is called on the terminal.
phase_labels = {
    "entries": "reading the journal",
    "accounts": "reading the accounts",
    "projections": "checking history and audit",
}


@contextmanager
def spinning(label: str, stream: TextIO | None = None) -> Iterator[None]:
    """A spinner and `label` on `stream` (stderr) while the block runs, if it is a
    terminal; the line is cleared at the end. Elsewhere nothing is written."""
    out = stream or sys.stderr
    if not out.isatty():
        yield
        return
    done = threading.Event()
    frames = itertools.cycle(spinner_frames)

    def draw() -> None:
        out.write(f"\r{next(frames)} {label}")
        out.flush()

    def spin() -> None:
        # The first frame comes at once, whatever the wait turns out to be.
        draw()
        while not done.wait(spinner_interval_s):
            draw()

    thread = threading.Thread(target=spin, name="spinner", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        out.write("\r" + " " * (len(label) + 2) + "\r")
        out.flush()


class PhaseProgress:
    """A `Progress` callback for click: a phase whose total is known from its start gets a
    progress bar; one whose total is known only at its end shows a running count, on a
    terminal only."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stderr
        self._phase: str | None = None
        self._bar: ProgressBar[int] | None = None
        self._shown = 0

    def __call__(self, phase: str, done: int, total: int | None) -> None:
        """Show that `done` of `total` (None: not known yet) of `phase` are done."""
        if phase != self._phase:
            self.close()
            self._phase = phase
            if total is not None:
                self._bar = click.progressbar(
                    length=total, label=phase_labels.get(phase, phase), file=self._stream
                )
                self._bar.__enter__()
        if self._bar is not None:
            self._bar.update(done - self._shown)
            self._shown = done
        elif self._stream.isatty():
            ended = "" if total is None else "\n"
            self._stream.write(f"\r{phase_labels.get(phase, phase)}: {done}{ended}")
            self._stream.flush()

    def close(self) -> None:
        """Finish the progress bar on show, if any."""
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
        self._bar = None
        self._phase = None
        self._shown = 0
