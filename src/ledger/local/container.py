"""Inside one local Lambda container: import the functions once, then run one call at a time."""

from __future__ import annotations

import importlib
import json
import os
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.local.events import account_id, region

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from multiprocessing.connection import Connection

memory_limit_in_mb = 1024


# How often a container checks that the runtime which started it is still alive.
parent_check_interval_s = 0.5


@dataclass(frozen=True)
class Function:
    """A Lambda function: its name and its handler as `module:attribute`."""

    name: str
    handler: str


class LambdaContext:
    """The context object Lambda passes to a handler, with the fields handlers read."""

    def __init__(self, function_name: str, request_id: str, deadline_s: float) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline_s = deadline_s

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds left before the invocation is cut off."""
        return max(0, int((self._deadline_s - time.monotonic()) * 1000))


def load_handler(handler: str) -> Callable[[Any, LambdaContext], Any]:
    """The callable a `module:attribute` path names, importing its module."""
    module_name, separator, attribute = handler.partition(":")
    if not separator or not module_name or not attribute:
        raise ValueError(f"a handler is named module:attribute, not {handler!r}")
    loaded: Callable[[Any, LambdaContext], Any] = getattr(
        importlib.import_module(module_name), attribute
    )
    return loaded


def run_container(
    connection: Connection,
    functions: Mapping[str, Function],
    environment: Mapping[str, str],
    parent: int | None = None,
) -> None:
    """A worker process's life: set the environment, import once, then serve invocations.

    With `parent`, the pid of the runtime that started it, it ends when that process does.
    """
    # Ctrl-C in a terminal reaches the whole process group; the parent stops workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if parent is not None:
        _exit_with_parent(parent)
    os.environ.clear()
    os.environ.update(environment)
    try:
        handlers = {key: load_handler(function.handler) for key, function in functions.items()}
    except BaseException:
        connection.send(("failed", traceback.format_exc()))
        return
    connection.send(("ready", os.getpid()))
    while True:
        try:
            key, event_json, request_id, timeout_ms = connection.recv()
            reply = _run(handlers[key], functions[key].name, event_json, request_id, timeout_ms)
            connection.send(reply)
        except (EOFError, OSError):
            # The parent closed the pipe: the runtime is stopping.
            return


def _exit_with_parent(parent: int) -> None:
    """End this container once `parent` is gone, even in the middle of an invocation.

    An idle container sees the end of its pipe when the runtime dies, but a busy one would
    run on as an orphan; a killed runtime (kill -9) has no chance to stop it.
    """

    def watch() -> None:
        # An orphan is adopted by another process, so a changed parent pid means ours died.
        while os.getppid() == parent:
            time.sleep(parent_check_interval_s)
        os._exit(1)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _run(
    handler: Callable[[Any, LambdaContext], Any],
    function_name: str,
    event_json: str,
    request_id: str,
    timeout_ms: int,
) -> tuple[str, str]:
    """One invocation: ("ok", result as JSON) or ("error", traceback), as Lambda reports it."""
    context = LambdaContext(function_name, request_id, time.monotonic() + timeout_ms / 1000)
    try:
        # Lambda carries events and results as JSON, so a result must survive JSON too.
        return "ok", json.dumps(handler(json.loads(event_json), context))
    except Exception:
        text = traceback.format_exc()
        print(text, end="", file=sys.stderr, flush=True)
        return "error", text
