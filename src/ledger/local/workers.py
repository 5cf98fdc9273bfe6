"""Lambda's execution model locally: a pool of warm processes, each running one call at a time.

A function module may keep per-request state at module level (the powertools resolver
does), which is safe in Lambda because one container handles one invocation at a time.
Each worker here is such a container: a spawned interpreter that imports the functions
once and then takes one invocation after another.
"""

from __future__ import annotations

import importlib
import json
import multiprocessing
import os
import queue
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ledger.local.events import account_id, region
from ledger.local.lifecycle import Service

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from multiprocessing.connection import Connection
    from multiprocessing.context import SpawnContext, SpawnProcess

memory_limit_in_mb = 1024
# API Gateway gives up on an integration after 30 s; a call running longer is cut off.
invocation_timeout_ms = 30_000
warm_up_s_max = 120
stop_wait_s_max = 5
# How often a container checks that the runtime which started it is still alive.
parent_check_interval_s = 0.5


class InvocationFailed(RuntimeError):
    """The function raised, returned something that is not JSON, or its container died."""


class InvocationTimedOut(RuntimeError):
    """The function did not answer within the timeout; its container was stopped."""


class WorkerStartFailed(RuntimeError):
    """A container could not import its functions or did not become ready in time."""


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


def _container(
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


class Worker:
    """One container process, driven over a pipe by whichever thread holds it."""

    def __init__(
        self,
        context: SpawnContext,
        functions: Mapping[str, Function],
        environment: Mapping[str, str],
    ) -> None:
        self._context = context
        self._functions = dict(functions)
        self._environment = dict(environment)
        self._lock = threading.Lock()
        self._closed = False
        self._process: SpawnProcess | None = None
        self._connection: Connection | None = None

    @property
    def pid(self) -> int | None:
        """The container's process id while it runs."""
        return None if self._process is None else self._process.pid

    @property
    def alive(self) -> bool:
        """Whether the container process runs."""
        return self._process is not None and self._process.is_alive()

    def spawn(self) -> None:
        """Start the container process; `wait_ready` waits for its imports."""
        with self._lock:
            if self._closed:
                raise InvocationFailed("the local runtime is stopping")
            ours, theirs = self._context.Pipe()
            # Daemonic: if the parent exits, multiprocessing's exit hook ends the workers; if
            # it is killed, each worker's watch of its parent does.
            process = self._context.Process(
                target=_container,
                args=(theirs, self._functions, self._environment, os.getpid()),
                daemon=True,
            )
            process.start()
            theirs.close()
            self._process, self._connection = process, ours

    def wait_ready(self, timeout_s: float = warm_up_s_max) -> None:
        """Wait until the container has imported its functions."""
        connection = self._require_connection()
        if not connection.poll(timeout_s):
            self.stop()
            raise WorkerStartFailed(f"a worker did not import its functions within {timeout_s} s")
        try:
            status, detail = connection.recv()
        except EOFError:
            self.stop()
            raise WorkerStartFailed("a worker exited while importing its functions") from None
        if status != "ready":
            self.stop()
            raise WorkerStartFailed(f"a worker could not import its functions:\n{detail}")

    def invoke(self, key: str, event: object, request_id: str) -> object:
        """Run one function on this container and return its JSON result, decoded."""
        if not self.alive:
            # A cold start, as Lambda does after a crashed or timed-out container.
            self.stop()
            self.spawn()
            try:
                self.wait_ready()
            except WorkerStartFailed as error:
                raise InvocationFailed(str(error)) from error
        connection = self._require_connection()
        try:
            connection.send((key, json.dumps(event), request_id, invocation_timeout_ms))
            answered = connection.poll(invocation_timeout_ms / 1000)
            reply = connection.recv() if answered else None
        except (EOFError, OSError) as error:
            self.stop()
            raise InvocationFailed("the worker running the function exited") from error
        if reply is None:
            # Still busy with the late call: waiting for it to notice the pipe is pointless.
            self.stop(wait_s=0)
            raise InvocationTimedOut(f"no answer within {invocation_timeout_ms} ms")
        status, payload = reply
        if status != "ok":
            raise InvocationFailed(payload)
        return json.loads(payload)

    def stop(self, wait_s: float = stop_wait_s_max) -> None:
        """Stop the container: close its pipe, then terminate, then kill; idempotent."""
        with self._lock:
            process, self._process = self._process, None
            connection, self._connection = self._connection, None
        if connection is not None:
            # The container's next read sees the end of the pipe and returns.
            connection.close()
        if process is not None:
            process.join(wait_s)
            if process.is_alive():
                process.terminate()
                process.join(stop_wait_s_max)
            if process.is_alive():
                process.kill()
                process.join()
            process.close()

    def retire(self) -> None:
        """Tell the container to finish and never restart it; `stop` then waits for it."""
        with self._lock:
            self._closed = True
            connection = self._connection
        if connection is not None:
            connection.close()

    def _require_connection(self) -> Connection:
        connection = self._connection
        if connection is None:
            raise InvocationFailed("the worker is not running")
        return connection


class WorkerPool(Service):
    """A fixed number of containers; each invocation takes an idle one, waiting if none is."""

    def __init__(
        self,
        functions: Mapping[str, Function],
        environment: Mapping[str, str],
        size: int,
    ) -> None:
        if size < 1:
            raise ValueError("a worker pool needs at least one worker")
        context = multiprocessing.get_context("spawn")
        self._workers = [Worker(context, functions, environment) for _ in range(size)]
        self._idle: queue.SimpleQueue[Worker] = queue.SimpleQueue()

    @property
    def pids(self) -> list[int]:
        """The process ids of the running containers."""
        return [worker.pid for worker in self._workers if worker.pid is not None]

    def start(self) -> None:
        """Start every container and wait until all have imported their functions."""
        self.launch()
        self.wait_ready()

    def launch(self) -> None:
        """Start every container without waiting, so they warm up while other things start."""
        try:
            for worker in self._workers:
                worker.spawn()
        except BaseException:
            self.stop()
            raise

    def wait_ready(self) -> None:
        """Wait until every launched container has imported its functions, then take calls."""
        try:
            for worker in self._workers:
                worker.wait_ready()
        except BaseException:
            self.stop()
            raise
        for worker in self._workers:
            self._idle.put(worker)

    def invoke(self, key: str, event: object, request_id: str) -> object:
        """Run the function `key` on an idle container and return its result."""
        worker = self._idle.get()
        try:
            return worker.invoke(key, event, request_id)
        finally:
            self._idle.put(worker)

    def stop(self) -> None:
        """Stop every container; invocations still waiting fail."""
        # All are told first, so they wind down together rather than one after another.
        for worker in self._workers:
            worker.retire()
        for worker in self._workers:
            worker.stop()
