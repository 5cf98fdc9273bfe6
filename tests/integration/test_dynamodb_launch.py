"""How DynamoDB Local is launched: on 127.0.0.1 only, compiled once, never outliving its parent."""

from __future__ import annotations

import ipaddress
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ledger.local.dynamodb_local import DynamoDBLocal, DynamoDBLocalError, ensure_installed
from ledger.local.dynamodb_local import process as dynamodb_local
from ledger.local.dynamodb_local.launch import (
    LauncherBuildError,
    ensure_launcher,
    java_command,
    launcher_class,
    launcher_dir_for,
    parent_death_hook,
)

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
orphan_wait_s_max = 20
child_start_s_max = 90


def _no_subprocess(*args: object, **kwargs: object) -> None:
    raise AssertionError("no process should run")


def _listening_addresses(port: int) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The local addresses of every socket listening on `port`, from /proc/net/tcp{,6}."""
    found: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = []
    for table in ("tcp", "tcp6"):
        for line in Path("/proc/net", table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, _, port_hex = local.partition(":")
            if state != "0A" or int(port_hex, 16) != port:
                continue
            # The kernel prints each 32-bit word of the address in host (little-endian) order.
            words = [bytes.fromhex(address[i : i + 8])[::-1] for i in range(0, len(address), 8)]
            packed = b"".join(words)
            found.append(
                ipaddress.IPv4Address(packed) if len(packed) == 4 else ipaddress.IPv6Address(packed)
            )
    return found


def _is_loopback(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    mapped = getattr(address, "ipv4_mapped", None)
    return address.is_loopback or (mapped is not None and mapped.is_loopback)


def _gone(pid: int) -> bool:
    """Whether the process has exited (a zombie nobody reaps yet counts as exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rpartition(")")[2].split()[0] in {"Z", "X"}


@linux_only
def test_dynamodb_local_listens_on_loopback_only(dynamodb_local: DynamoDBLocal) -> None:
    # GIVEN the session's DynamoDB Local, started with a JDK at hand
    # WHEN its listening sockets are looked up
    addresses = _listening_addresses(dynamodb_local.port)

    # THEN it listens, and only on a loopback address: not on every interface as the jar does
    assert dynamodb_local.loopback_only
    assert addresses
    assert all(_is_loopback(address) for address in addresses), addresses


def test_without_javac_the_jar_runs_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an install dir without a compiled launcher and no javac on the machine
    monkeypatch.setattr(shutil, "which", lambda name: None)
    install_dir = tmp_path / "dynamodb-local-x"
    jar, native = install_dir / "DynamoDBLocal.jar", install_dir / "DynamoDBLocal_lib"

    # WHEN the launcher is asked for and the command built
    launcher_dir = ensure_launcher(install_dir, jar)
    command = java_command(jar, native, launcher_dir, "127.0.0.1", ["-port", "1"])

    # THEN there is none, and the jar's own main runs (on every interface)
    assert launcher_dir is None
    assert command == ["java", f"-Djava.library.path={native}", "-jar", str(jar), "-port", "1"]


def test_the_launcher_is_compiled_once_and_then_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the real jar and an install dir of our own, so nothing is cached yet
    jar = ensure_installed() / "DynamoDBLocal.jar"
    install_dir = tmp_path / "dynamodb-local-x"

    # WHEN the launcher is asked for twice, the second time with no way to compile
    first = ensure_launcher(install_dir, jar)
    monkeypatch.setattr(subprocess, "run", _no_subprocess)
    second = ensure_launcher(install_dir, jar)

    # THEN it was compiled into its digest-named dir beside the install, then reused
    assert first == second == launcher_dir_for(install_dir)
    assert (first / f"{launcher_class}.class").is_file()
    assert [path.name for path in tmp_path.iterdir()] == [first.name]
    # AND the command runs the launcher, bound to the host given, with the jar on its path
    command = java_command(jar, Path("lib"), first, "127.0.0.1", ["-inMemory"])
    assert command[2:] == [
        "-Dledger.host=127.0.0.1",
        "-cp",
        f"{first}{os.pathsep}{jar}",
        launcher_class,
        "-inMemory",
    ]


def _fake_javac(directory: Path, script: str, monkeypatch: pytest.MonkeyPatch) -> None:
    directory.mkdir()
    javac = directory / "javac"
    javac.write_text(f"#!/bin/sh\n{script}\n")
    javac.chmod(0o755)
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ['PATH']}")


def test_a_launcher_that_does_not_compile_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a javac that fails with a message
    _fake_javac(tmp_path / "bin", "echo 'error: cannot find symbol' >&2; exit 2", monkeypatch)
    install_dir = tmp_path / "cache" / "dynamodb-local-x"
    install_dir.mkdir(parents=True)

    # WHEN the launcher is built / THEN the error carries javac's words, and nothing is left
    with pytest.raises(LauncherBuildError, match="cannot find symbol"):
        ensure_launcher(install_dir, tmp_path / "DynamoDBLocal.jar")
    assert [path.name for path in install_dir.parent.iterdir()] == [install_dir.name]


@pytest.mark.parametrize(
    ("other_file", "kept"), [(launcher_class + ".class", True), ("junk", False)]
)
def test_a_launcher_compiled_meanwhile_by_another_process_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, other_file: str, kept: bool
) -> None:
    # GIVEN a javac during whose run another process fills the launcher's final dir
    install_dir = tmp_path / "cache" / "dynamodb-local-x"
    install_dir.mkdir(parents=True)
    final = launcher_dir_for(install_dir)
    script = f"mkdir -p '{final}' && touch '{final}/{other_file}'"
    _fake_javac(tmp_path / "bin", script, monkeypatch)

    # WHEN the launcher is built
    # THEN the other process's launcher is used, or, if what it left is no launcher, refused
    if kept:
        assert ensure_launcher(install_dir, tmp_path / "DynamoDBLocal.jar") == final
    else:
        with pytest.raises(OSError, match="not empty"):
            ensure_launcher(install_dir, tmp_path / "DynamoDBLocal.jar")
    assert sorted(path.name for path in install_dir.parent.iterdir()) == sorted(
        [install_dir.name, final.name]
    )


def test_a_failing_launcher_build_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a launcher build that fails
    def fail(install_dir: Path, jar: Path) -> Path | None:
        raise LauncherBuildError("javac could not compile it")

    monkeypatch.setattr(dynamodb_local, "ensure_launcher", fail)
    server = DynamoDBLocal()

    # WHEN the server starts / THEN it reports the build failure and launched nothing
    with pytest.raises(DynamoDBLocalError, match="javac could not compile it"):
        server.start()
    assert server.pid is None


def test_the_parent_death_signal_is_armed_only_where_it_means_what_we_want() -> None:
    # GIVEN the platforms and threads a server may be started from
    # WHEN the hook is asked for
    # THEN only Linux's main thread gets one: elsewhere the kernel cannot, or would signal
    # the child when a short-lived thread ends
    assert parent_death_hook("darwin", in_main_thread=True) is None
    assert parent_death_hook("linux", in_main_thread=False) is None
    assert callable(parent_death_hook("linux", in_main_thread=True))
    assert (parent_death_hook() is None) is not sys.platform.startswith("linux")
    seen: list[object] = []
    thread = threading.Thread(target=lambda: seen.append(parent_death_hook()))
    thread.start()
    thread.join()
    assert seen == [None]


_parent_script = """
import sys, threading, time
from ledger.local.dynamodb_local import DynamoDBLocal

server = DynamoDBLocal()
starter = threading.Thread(target=server.start)
starter.start()
starter.join()
print(server.pid, server.port, flush=True)
time.sleep(600)
"""

_armed_parent_script = """
import subprocess, sys, time
from ledger.local.dynamodb_local.launch import parent_death_hook

child = subprocess.Popen(["sleep", "600"], preexec_fn=parent_death_hook())
print(child.pid, flush=True)
time.sleep(600)
"""


def _killed_parent_leaves(script: str) -> tuple[list[int], bool]:
    """Run `script`, read the child pid (and port) it prints, kill -9 it; is the child gone?"""
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        printed = [int(word) for word in parent.stdout.readline().split()]
        time.sleep(0.5)
        assert not _gone(printed[0])
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        deadline = time.monotonic() + orphan_wait_s_max
        while not _gone(printed[0]) and time.monotonic() < deadline:
            time.sleep(0.1)
        return printed, _gone(printed[0])
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


@linux_only
@pytest.mark.timeout(180)
def test_dynamodb_local_dies_with_a_killed_parent_by_the_end_of_its_input() -> None:
    # GIVEN a process that started DynamoDB Local from a thread that has ended since, so
    # that no parent-death signal was armed and only the launcher's watch of its input helps
    # WHEN the parent is killed outright
    (pid, port), gone = _killed_parent_leaves(_parent_script)

    # THEN DynamoDB Local exits within a bound and frees its port
    assert gone, pid
    assert dynamodb_local._port_is_free(port)


@linux_only
def test_a_child_armed_from_the_main_thread_gets_a_signal_when_its_parent_dies() -> None:
    # GIVEN a process whose child (a plain sleep) was started with the parent-death hook
    # WHEN the parent is killed outright
    (pid,), gone = _killed_parent_leaves(_armed_parent_script)

    # THEN the kernel ended the child too
    assert gone, pid
