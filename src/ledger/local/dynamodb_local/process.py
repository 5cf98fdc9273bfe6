"""Run DynamoDB Local, without Docker: one process on 127.0.0.1 that does not outlive us."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ledger.local.dynamodb_local.launch import (
    DataDirInUse,
    LauncherBuildError,
    ensure_launcher,
    java_command,
    lock_data_dir,
    parent_death_hook,
)
from ledger.local.lifecycle import Service

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient
from ledger.local.dynamodb_local.install import (
    DynamoDBLocalError,
    ensure_installed,
    jar_name,
    log_tail_bytes_max,
    native_lib_dir_name,
)

log_name = "dynamodb-local.log"
lock_name = "dynamodb-local.lock"

host = "127.0.0.1"
region = "us-east-1"
# sharedDb makes the credentials irrelevant; they only have to be present for SigV4 signing.
credentials_dummy = "local"

startup_wait_s_max = 60
startup_poll_interval_ms = 100
stop_wait_s_max = 10
probe_timeout_s = 2
client_connect_timeout_s = 5
client_read_timeout_s = 30
client_attempts_max = 2


def free_port() -> int:
    """A TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _port_is_free(port: int) -> bool:
    """Whether nothing listens on `port`, so a second server cannot answer in our place."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # SO_REUSEADDR ignores TIME_WAIT leftovers of a stopped server but not a live listener.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
        return True


def make_client(
    endpoint_url: str,
    *,
    connect_timeout_s: int = client_connect_timeout_s,
    read_timeout_s: int = client_read_timeout_s,
    attempts_max: int = client_attempts_max,
) -> DynamoDBClient:
    """A low-level DynamoDB client for a DynamoDB Local endpoint, with dummy credentials."""
    # Imported here: boto3 costs most of a second, which `fetch` on an installed cache skips.
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    config = Config(
        connect_timeout=connect_timeout_s,
        read_timeout=read_timeout_s,
        retries={"max_attempts": attempts_max, "mode": "standard"},
    )
    return boto3.client(
        "dynamodb",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=credentials_dummy,
        aws_secret_access_key=credentials_dummy,
        config=config,
    )


def make_streams_client(endpoint_url: str) -> DynamoDBStreamsClient:
    """A DynamoDB Streams client for a DynamoDB Local endpoint, with the same dummy credentials."""
    import boto3  # noqa: PLC0415
    from botocore.config import Config  # noqa: PLC0415

    config = Config(
        connect_timeout=client_connect_timeout_s,
        read_timeout=client_read_timeout_s,
        retries={"max_attempts": client_attempts_max, "mode": "standard"},
    )
    return boto3.client(
        "dynamodbstreams",
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=credentials_dummy,
        aws_secret_access_key=credentials_dummy,
        config=config,
    )


class DynamoDBLocal(Service):
    """One DynamoDB Local process on 127.0.0.1, in memory or persisted to `data_dir`.

    It listens on 127.0.0.1 only when a JDK's `javac` can build the loopback launcher,
    else on every interface (`loopback_only` says which), and it does not outlive us.
    """

    def __init__(self, port: int | None = None, data_dir: Path | None = None) -> None:
        self._port = free_port() if port is None else port
        # Absolute: the jar runs inside the data dir, where a relative -dbPath means nothing.
        self._data_dir = None if data_dir is None else data_dir.resolve()
        self._process: subprocess.Popen[bytes] | None = None
        self._temp_dir: Path | None = None
        self._log_path: Path | None = None
        self._lock: IO[bytes] | None = None
        self._loopback_only = False

    @property
    def loopback_only(self) -> bool:
        """Whether the server listens on 127.0.0.1 only, rather than on every interface."""
        return self._loopback_only

    @property
    def pid(self) -> int | None:
        """The server's process id while it is started."""
        return None if self._process is None else self._process.pid

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        return self._port

    @property
    def endpoint_url(self) -> str:
        """The endpoint to hand to an AWS SDK."""
        return f"http://{host}:{self._port}"

    @property
    def log_path(self) -> Path | None:
        """The server's combined stdout and stderr, once started."""
        return self._log_path

    @property
    def running(self) -> bool:
        """Whether the process was started and has not exited."""
        return self._process is not None and self._process.poll() is None

    def client(self) -> DynamoDBClient:
        """A boto3 low-level DynamoDB client for this server."""
        return make_client(self.endpoint_url)

    def streams_client(self) -> DynamoDBStreamsClient:
        """A boto3 DynamoDB Streams client for this server."""
        return make_streams_client(self.endpoint_url)

    def start(self) -> None:
        """Launch the server and wait until it answers ListTables."""
        if self._process is not None:
            raise DynamoDBLocalError("DynamoDB Local is already started")
        if not _port_is_free(self._port):
            raise DynamoDBLocalError(f"port {self._port} on {host} is already in use")
        jar_dir = ensure_installed()
        jar = jar_dir / jar_name
        try:
            launcher_dir = ensure_launcher(jar_dir, jar)
        except LauncherBuildError as error:
            raise DynamoDBLocalError(str(error)) from error
        self._loopback_only = launcher_dir is not None
        if self._data_dir is None:
            self._temp_dir = Path(tempfile.mkdtemp(prefix="dynamodb-local-"))
            work_dir = self._temp_dir
            storage = ["-inMemory"]
        else:
            self._data_dir.mkdir(parents=True, exist_ok=True)
            try:
                self._lock = lock_data_dir(self._data_dir / lock_name)
            except DataDirInUse as error:
                raise DynamoDBLocalError(str(error)) from error
            work_dir = self._data_dir
            storage = ["-dbPath", str(self._data_dir)]
        arguments = ["-port", str(self._port), *storage, "-sharedDb", "-disableTelemetry"]
        command = java_command(jar, jar_dir / native_lib_dir_name, launcher_dir, host, arguments)
        self._log_path = work_dir / log_name
        # A file, not a pipe: nobody drains a pipe, and a full one would block the server.
        with self._log_path.open("wb") as log:
            try:
                # A process group of its own: Ctrl-C in a terminal reaches only the parent,
                # which stops the server after whatever still uses it. Its input is a pipe
                # nobody writes to: it ends when we die, and the launcher exits then.
                self._process = subprocess.Popen(
                    command,
                    cwd=work_dir,
                    stdin=subprocess.PIPE,
                    stdout=log,
                    stderr=log,
                    process_group=0,
                    preexec_fn=parent_death_hook(),  # noqa: PLW1509
                    # The server holds the data dir's lock too: should it ever outlive
                    # us, the next start is refused instead of sharing its files.
                    pass_fds=() if self._lock is None else (self._lock.fileno(),),
                )
            except FileNotFoundError as error:
                self._release()
                raise DynamoDBLocalError(
                    "java is not on PATH; DynamoDB Local needs Java 17+"
                ) from error
        if self._lock is not None:
            self._lock.truncate(0)
            self._lock.write(f"{self._process.pid}\n".encode())
            self._lock.flush()
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Terminate the server and wait for it, killing it if it lingers; idempotent."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=stop_wait_s_max)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process is not None and process.stdin is not None:
            process.stdin.close()
        self._release()

    def _wait_until_ready(self) -> None:
        """Poll until the server answers, raising with the log tail if it dies or stalls."""
        assert self._process is not None
        probe = make_client(
            self.endpoint_url,
            connect_timeout_s=probe_timeout_s,
            read_timeout_s=probe_timeout_s,
            attempts_max=1,
        )
        deadline = time.monotonic() + startup_wait_s_max
        while True:
            exit_code = self._process.poll()
            if exit_code is not None:
                raise DynamoDBLocalError(
                    f"DynamoDB Local exited with code {exit_code} while starting:\n"
                    f"{self._log_tail()}"
                )
            if self._answers(probe):
                return
            if time.monotonic() >= deadline:
                raise DynamoDBLocalError(
                    f"DynamoDB Local did not answer on {self.endpoint_url} within "
                    f"{startup_wait_s_max} s:\n{self._log_tail()}"
                )
            time.sleep(startup_poll_interval_ms / 1000)

    def _answers(self, probe: DynamoDBClient) -> bool:
        """Whether the port accepts a connection and the server answers ListTables."""
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415

        try:
            # A bare connect fails fast and quietly while the JVM is still booting.
            with socket.create_connection((host, self._port), timeout=probe_timeout_s):
                pass
            probe.list_tables(Limit=1)
        except (OSError, BotoCoreError, ClientError):
            return False
        return True

    def _log_tail(self) -> str:
        """The end of the server log, for error messages."""
        assert self._log_path is not None
        with self._log_path.open("rb") as stream:
            stream.seek(0, os.SEEK_END)
            stream.seek(max(0, stream.tell() - log_tail_bytes_max))
            return stream.read().decode("utf-8", errors="replace")

    def _release(self) -> None:
        """Give up what a start took: the temp dir of the in-memory mode, the data dir's lock."""
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None
