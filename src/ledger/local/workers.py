"""Lambda's execution model locally: a pool of warm processes, each running one call at a time.

A function module may keep per-request state at module level (the powertools resolver
does), which is safe in Lambda because one container handles one invocation at a time.
Each worker here is such a container: a spawned interpreter that imports the functions
once and then takes one invocation after another.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import queue
import threading
from typing import TYPE_CHECKING

from ledger.local.lifecycle import Service

if TYPE_CHECKING:
    from collections.abc import Mapping
    from multiprocessing.connection import Connection
    from multiprocessing.context import SpawnContext, SpawnProcess
from ledger.local.container import Function, run_container

# API Gateway gives up on an integration after 30 s; a call running longer is cut off.
invocation_timeout_ms = 30_000
warm_up_s_max = 120
stop_wait_s_max = 5


class InvocationFailed(RuntimeError):
    """The function raised, returned something that is not JSON, or its container died."""


class InvocationTimedOut(RuntimeError):
    """The function did not answer within the timeout; its container was stopped."""


class WorkerStartFailed(RuntimeError):
    """A container could not import its functions or did not become ready in time."""


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
                target=run_container,
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
