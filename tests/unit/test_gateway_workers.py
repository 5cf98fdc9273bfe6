"""The local Lambda model: warm worker processes, one invocation at a time, replaced on loss."""

from __future__ import annotations

import json
import multiprocessing
import os
import secrets
import signal
import threading
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ledger.local import container, workers
from ledger.local.dev import lambda_environment
from ledger.local.events import HttpRequest, api_event
from ledger.local.gateway import Gateway, functions
from ledger.local.server import GatewayServer
from ledger.local.workers import InvocationFailed, InvocationTimedOut, WorkerPool, WorkerStartFailed

if TYPE_CHECKING:
    from collections.abc import Iterator


_stubs = functions("gateway_stubs:authorize", "gateway_stubs:handle")
_endpoint = "http://127.0.0.1:1"


def _environment(table_name: str = "ledger-test") -> dict[str, str]:
    return lambda_environment(os.environ, table_name, _endpoint)


def _event(target: str) -> dict[str, Any]:
    request = HttpRequest("GET", target, (), b"", "127.0.0.1")
    return api_event(request, secrets.token_hex(6), datetime.now(UTC))


@pytest.fixture
def one_worker() -> Iterator[WorkerPool]:
    with WorkerPool(_stubs, _environment(), size=1) as pool:
        yield pool


def _serve(pool: WorkerPool) -> tuple[GatewayServer, threading.Thread]:
    server = GatewayServer(("127.0.0.1", 0), Gateway(pool))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    return server, thread


def _overlapping_requests(pool: WorkerPool, folder: Path, count: int, expect: int) -> list[Any]:
    """Send `count` /overlap requests at once through HTTP; return their answers."""
    (folder / "arrived").mkdir()
    (folder / "left").mkdir()
    server, thread = _serve(pool)
    url = f"http://127.0.0.1:{server.port}/overlap?dir={folder}&expect={expect}"
    answers: list[Any] = []

    def call() -> None:
        with urllib.request.urlopen(url, timeout=60) as response:
            answers.append(json.loads(response.read()))

    callers = [threading.Thread(target=call) for _ in range(count)]
    try:
        for caller in callers:
            caller.start()
        for caller in callers:
            caller.join()
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    return answers


def test_requests_run_in_parallel_on_distinct_workers(tmp_path: Path) -> None:
    # GIVEN a pool of four workers behind the gateway
    with WorkerPool(_stubs, _environment(), size=4) as pool:
        # WHEN four requests arrive at once, each waiting until four have arrived
        answers = _overlapping_requests(pool, tmp_path, count=4, expect=4)

    # THEN all four ran at the same time, each in its own process, one per interpreter
    assert len(answers) == 4
    assert [answer["seen"] for answer in answers] == [4, 4, 4, 4]
    assert len({answer["pid"] for answer in answers}) == 4
    assert {answer["in_process"] for answer in answers} == {1}


def test_requests_beyond_the_pool_size_wait_for_a_free_worker(tmp_path: Path) -> None:
    # GIVEN a pool of two workers
    with WorkerPool(_stubs, _environment(), size=2) as pool:
        # WHEN four requests arrive at once, each waiting until two have arrived
        answers = _overlapping_requests(pool, tmp_path, count=4, expect=2)

    # THEN never more than two ran at once, on two processes, one invocation each at a time
    assert len(answers) == 4
    assert max(answer["max_active"] for answer in answers) == 2
    assert len({answer["pid"] for answer in answers}) == 2
    assert {answer["in_process"] for answer in answers} == {1}


def test_functions_see_the_lambda_environment_and_context(one_worker: WorkerPool) -> None:
    # GIVEN a warm worker
    names = [
        "LEDGER_TABLE_NAME",
        "AWS_ENDPOINT_URL_DYNAMODB",
        "AWS_REGION",
        "POWERTOOLS_METRICS_DISABLED",
        "POWERTOOLS_TRACE_DISABLED",
    ]

    # WHEN the handler reports its environment, and the authorizer its context
    seen = one_worker.invoke("handler", _event(f"/environment?names={','.join(names)}"), "r-1")
    echoed = one_worker.invoke("handler", _event("/echo"), "r-2")

    # THEN the table and DynamoDB Local are configured, powertools silent
    assert seen == {
        "LEDGER_TABLE_NAME": "ledger-test",
        "AWS_ENDPOINT_URL_DYNAMODB": _endpoint,
        "AWS_REGION": "us-east-1",
        "POWERTOOLS_METRICS_DISABLED": "true",
        "POWERTOOLS_TRACE_DISABLED": "true",
    }
    # AND the context is Lambda's, with time left under the gateway's timeout
    assert isinstance(echoed, dict)
    context = json.loads(echoed["body"])["context"]
    assert context["aws_request_id"] == "r-2"
    assert context["function_name"] == "ledger-api"
    assert context["memory_limit_in_mb"] == container.memory_limit_in_mb
    assert context["invoked_function_arn"].endswith(":function:ledger-api")
    assert 0 < context["remaining_ms"] <= workers.invocation_timeout_ms


def test_a_crash_is_reported_with_its_traceback_on_stderr(
    capfd: pytest.CaptureFixture[str],
) -> None:
    # GIVEN a worker started while stderr is captured
    with WorkerPool(_stubs, _environment(), size=1) as pool:
        # WHEN the handler raises
        with pytest.raises(InvocationFailed, match="fails on purpose"):
            pool.invoke("handler", _event("/crash"), "r-1")
        # THEN the worker is still usable
        assert pool.invoke("handler", _event("/environment?names=AWS_REGION"), "r-2") == {
            "AWS_REGION": "us-east-1"
        }

    # AND the traceback went to stderr
    assert "RuntimeError: the handler stub fails on purpose" in capfd.readouterr().err


def test_a_result_that_is_not_json_fails_the_invocation(one_worker: WorkerPool) -> None:
    # GIVEN a handler returning something JSON cannot carry
    # WHEN it is invoked
    # THEN the invocation fails, as Lambda's would
    with pytest.raises(InvocationFailed, match="not JSON serializable"):
        one_worker.invoke("handler", _event("/unserializable"), "r-1")


def test_a_worker_that_dies_is_replaced_on_the_next_invocation(one_worker: WorkerPool) -> None:
    # GIVEN the only worker, whose process exits during an invocation
    (before,) = one_worker.pids
    with pytest.raises(InvocationFailed):
        one_worker.invoke("handler", _event("/exit"), "r-1")

    # WHEN the next invocation comes
    answer = one_worker.invoke("handler", _event("/environment?names=AWS_REGION"), "r-2")

    # THEN a new process (a cold start) answers it
    assert answer == {"AWS_REGION": "us-east-1"}
    (after,) = one_worker.pids
    assert after != before


def test_an_invocation_past_the_timeout_is_cut_off(
    one_worker: WorkerPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a short timeout and a handler that sleeps far longer
    monkeypatch.setattr(workers, "invocation_timeout_ms", 300)
    (before,) = one_worker.pids

    # WHEN it is invoked
    with pytest.raises(InvocationTimedOut):
        one_worker.invoke("handler", _event("/sleep?seconds=60"), "r-1")

    # THEN its process was stopped, and the next invocation runs on a fresh one
    assert one_worker.pids == []
    monkeypatch.setattr(workers, "invocation_timeout_ms", 30_000)
    assert one_worker.invoke("handler", _event("/sleep?seconds=0"), "r-2") == {
        "statusCode": 200,
        "body": "awake",
    }
    assert one_worker.pids != [before]


def test_a_worker_that_cannot_import_its_functions_fails_the_start() -> None:
    # GIVEN a handler path naming nothing
    broken = functions("gateway_stubs:authorize", "gateway_stubs:no_such_function")
    pool = WorkerPool(broken, _environment(), size=2)

    # WHEN the pool starts
    with pytest.raises(WorkerStartFailed, match="no_such_function"):
        pool.start()

    # THEN no worker is left running
    assert pool.pids == []


def test_a_stopped_pool_refuses_invocations() -> None:
    # GIVEN a pool that ran and was stopped
    pool = WorkerPool(_stubs, _environment(), size=1)
    pool.start()
    pool.stop()

    # WHEN an invocation comes late
    # THEN it fails instead of starting a worker again
    with pytest.raises(InvocationFailed, match="stopping"):
        pool.invoke("handler", _event("/echo"), "r-1")
    assert pool.pids == []


@pytest.mark.parametrize("handler", ["gateway_stubs", "gateway_stubs:", ":handle"])
def test_a_handler_path_must_name_a_module_and_an_attribute(handler: str) -> None:
    # GIVEN a handler path missing a part
    # WHEN it is loaded
    # THEN it is refused with the expected form
    with pytest.raises(ValueError, match="module:attribute"):
        container.load_handler(handler)


def test_a_pool_needs_a_worker() -> None:
    # GIVEN no workers
    # WHEN a pool is made
    # THEN it is refused
    with pytest.raises(ValueError, match="at least one"):
        WorkerPool(_stubs, {}, size=0)


def test_the_lambda_environment_keeps_the_callers_aws_settings_out() -> None:
    # GIVEN a caller's environment with a real profile, credentials and an endpoint override
    base = {
        "PATH": "/usr/bin",
        "AWS_PROFILE": "production",
        "AWS_SESSION_TOKEN": secrets.token_hex(8),
        "AWS_ENDPOINT_URL": "https://dynamodb.example",
        "LEDGER_ADMIN_KEY": secrets.token_hex(8),
        "POWERTOOLS_LOG_LEVEL": "DEBUG",
    }

    # WHEN the functions' environment is made from it
    environment = lambda_environment(base, "books", _endpoint)

    # THEN none of the caller's AWS or ledger settings pass, but their powertools choice does
    assert environment["PATH"] == "/usr/bin"
    assert not {"AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL", "LEDGER_ADMIN_KEY"} & set(
        environment
    )
    assert environment["POWERTOOLS_LOG_LEVEL"] == "DEBUG"
    assert environment["LEDGER_TABLE_NAME"] == "books"
    assert environment["AWS_ENDPOINT_URL_DYNAMODB"] == _endpoint
    assert environment["AWS_ACCESS_KEY_ID"] == environment["AWS_SECRET_ACCESS_KEY"] == "local"
    assert environment["POWERTOOLS_SERVICE_NAME"] == "ledger"


def test_a_worker_that_ignores_terminate_is_killed(
    one_worker: WorkerPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a handler that ignores SIGTERM and outlives the timeout
    monkeypatch.setattr(workers, "invocation_timeout_ms", 500)
    monkeypatch.setattr(workers, "stop_wait_s_max", 0.2)

    # WHEN it is cut off
    with pytest.raises(InvocationTimedOut):
        one_worker.invoke("handler", _event("/stubborn"), "r-1")

    # THEN its process is gone all the same
    assert one_worker.pids == []


def _write_module(folder: Path, source: str) -> str:
    """A handler module in `folder` (on sys.path, which spawned workers inherit)."""
    name = f"stub_{secrets.token_hex(6)}"
    (folder / f"{name}.py").write_text(source)
    return name


def test_a_worker_that_dies_while_importing_fails_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a handler module that ends its process when imported
    monkeypatch.syspath_prepend(str(tmp_path))
    module = _write_module(tmp_path, "import os\nos._exit(3)\n")
    pool = WorkerPool(functions("gateway_stubs:authorize", f"{module}:handle"), {}, size=1)

    # WHEN the pool starts
    # THEN the start fails, saying the worker exited
    with pytest.raises(WorkerStartFailed, match="exited while importing"):
        pool.start()
    assert pool.pids == []


def test_a_cold_start_that_fails_fails_the_invocation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a worker whose handler module breaks on import once a flag file exists
    monkeypatch.syspath_prepend(str(tmp_path))
    flag = tmp_path / "broken"
    module = _write_module(
        tmp_path,
        "import os, pathlib\n"
        "if pathlib.Path(os.environ['STUB_FLAG']).exists():\n"
        "    raise ImportError('broken on purpose')\n"
        "def handle(event, context):\n"
        "    os._exit(3)\n",
    )
    lambdas = functions("gateway_stubs:authorize", f"{module}:handle")
    with WorkerPool(lambdas, {"STUB_FLAG": str(flag)}, size=1) as pool:
        with pytest.raises(InvocationFailed):
            pool.invoke("handler", _event("/"), "r-1")
        flag.touch()

        # WHEN the next invocation needs a new worker, which cannot import its handler
        # THEN the invocation fails with the import error
        with pytest.raises(InvocationFailed, match="broken on purpose"):
            pool.invoke("handler", _event("/"), "r-2")


def test_waiting_for_a_worker_is_bounded() -> None:
    # GIVEN a worker just spawned
    worker = workers.Worker(multiprocessing.get_context("spawn"), _stubs, _environment())
    worker.spawn()

    # WHEN nobody gives it time to import
    # THEN the wait fails, and the worker is stopped
    with pytest.raises(WorkerStartFailed, match="within 0 s"):
        worker.wait_ready(timeout_s=0)
    assert not worker.alive


def test_a_worker_never_spawned_is_not_running() -> None:
    # GIVEN a worker that was never spawned
    worker = workers.Worker(multiprocessing.get_context("spawn"), _stubs, {})

    # WHEN it is awaited
    # THEN it says it is not running
    with pytest.raises(InvocationFailed, match="not running"):
        worker.wait_ready()


def test_a_stopped_pool_cannot_be_launched_again() -> None:
    # GIVEN a pool that was stopped
    pool = WorkerPool(_stubs, {}, size=2)
    pool.stop()

    # WHEN it is launched
    # THEN it refuses and nothing runs
    with pytest.raises(InvocationFailed, match="stopping"):
        pool.launch()
    assert pool.pids == []


def test_the_container_loop_answers_until_its_pipe_closes() -> None:
    # GIVEN a container loop fed two invocations over a pipe, run here in the main thread
    ours, theirs = multiprocessing.Pipe()
    environment = dict(os.environ)
    ours.send(("handler", json.dumps(_event("/environment?names=HOME")), "r-1", 30_000))
    ours.send(("handler", json.dumps(_event("/crash")), "r-2", 30_000))
    replies: list[Any] = []

    def read_then_close() -> None:
        replies.extend(ours.recv() for _ in range(3))
        ours.close()

    reader = threading.Thread(target=read_then_close)
    reader.start()
    previous = signal.getsignal(signal.SIGINT)
    try:
        # WHEN it runs
        container.run_container(theirs, _stubs, environment)
    finally:
        signal.signal(signal.SIGINT, previous)
    reader.join()

    # THEN it said it was ready, answered the first call, reported the crash, and returned
    assert replies[0] == ("ready", os.getpid())
    assert replies[1] == ("ok", json.dumps({"HOME": os.environ.get("HOME")}))
    assert replies[2][0] == "error"
    assert "fails on purpose" in replies[2][1]


def test_the_container_loop_reports_an_import_failure() -> None:
    # GIVEN a container loop whose handler does not exist
    ours, theirs = multiprocessing.Pipe()
    broken = functions("gateway_stubs:authorize", "gateway_stubs:nothing_here")
    previous = signal.getsignal(signal.SIGINT)
    try:
        # WHEN it starts
        container.run_container(theirs, broken, dict(os.environ))
    finally:
        signal.signal(signal.SIGINT, previous)

    # THEN it reports the failure with its traceback instead of serving
    status, detail = ours.recv()
    assert status == "failed"
    assert "nothing_here" in detail


def test_a_container_ends_once_the_runtime_that_started_it_is_gone() -> None:
    # GIVEN two containers with their pipes open, one watching its real parent (this
    # process) and one told that its parent is a process that has already exited
    context = multiprocessing.get_context("spawn")
    gone = context.Process(target=int)
    gone.start()
    gone.join()
    assert gone.pid is not None
    pipes = [context.Pipe() for _ in range(2)]
    orphan = context.Process(
        target=container.run_container, args=(pipes[0][1], _stubs, dict(os.environ), gone.pid)
    )
    kept = context.Process(
        target=container.run_container, args=(pipes[1][1], _stubs, dict(os.environ), os.getpid())
    )
    orphan.start()
    kept.start()

    # WHEN a few of their checks have passed
    orphan.join(timeout=20)
    kept.join(timeout=container.parent_check_interval_s * 4)

    # THEN the one whose parent is gone exited by itself; the other still serves
    try:
        assert orphan.exitcode == 1
        assert kept.is_alive()
        assert pipes[1][0].recv() == ("ready", kept.pid)
    finally:
        for ours, _ in pipes:
            ours.close()
        kept.join(timeout=20)
    assert kept.exitcode == 0


def test_the_parent_watch_exits_once_the_parent_pid_changes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a process whose parent pid reads 4242 twice, then 1 (it was adopted: 4242 died)
    exits: list[int] = []
    exited = threading.Event()
    parents = iter([4242, 4242])
    monkeypatch.setattr(container, "parent_check_interval_s", 0.01)
    monkeypatch.setattr(os, "getppid", lambda: next(parents, 1))

    def record_exit(code: int) -> None:
        exits.append(code)
        exited.set()

    monkeypatch.setattr(os, "_exit", record_exit)

    # WHEN the watch of parent 4242 runs
    container._exit_with_parent(4242)

    # THEN it ends the process, once, with a failure code
    assert exited.wait(timeout=10)
    assert exits == [1]


def test_a_container_given_its_parent_watches_it(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a container loop told its parent's pid, whose handler does not import
    watched: list[int] = []
    monkeypatch.setattr(container, "_exit_with_parent", watched.append)
    ours, theirs = multiprocessing.Pipe()
    broken = functions("gateway_stubs:authorize", "gateway_stubs:nothing_here")
    previous = signal.getsignal(signal.SIGINT)
    try:
        # WHEN it starts
        container.run_container(theirs, broken, dict(os.environ), 4242)
    finally:
        signal.signal(signal.SIGINT, previous)

    # THEN it set the watch on that pid before anything else
    assert watched == [4242]
    assert ours.recv()[0] == "failed"
