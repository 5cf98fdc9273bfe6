"""How DynamoDB Local's process is launched: on 127.0.0.1 only, and never outliving its parent.

The jar's own main listens on every interface and has no option to do otherwise. A small
launcher (LoopbackDynamoDBLocal.java, compiled once per source digest next to the jar)
runs the same server bound to 127.0.0.1, and exits when its standard input ends, which
is when the parent process dies. Without `javac` the jar's own main runs, on every
interface. On Linux the child also asks the kernel for SIGTERM when its parent dies.
"""

from __future__ import annotations

import ctypes
import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

launcher_source = Path(__file__).with_name("LoopbackDynamoDBLocal.java")
launcher_class = "LoopbackDynamoDBLocal"
launcher_host_property = "ledger.host"
java_release = "17"
compile_timeout_s_max = 300
compile_error_bytes_max = 4000
# <linux/prctl.h>: deliver a signal to this process when the thread that forked it ends.
_pr_set_pdeathsig = 1


class LauncherBuildError(RuntimeError):
    """`javac` is there but could not compile the loopback launcher."""


class DataDirInUse(RuntimeError):
    """Another DynamoDB Local holds the data dir: two servers must never share its files."""


def launcher_dir_for(install_dir: Path) -> Path:
    """Where the compiled launcher lives: next to the jar, named by the source's digest."""
    digest = hashlib.sha256(launcher_source.read_bytes()).hexdigest()[:16]
    return install_dir.parent / f"{install_dir.name}-loopback-{digest}"


def ensure_launcher(install_dir: Path, jar: Path) -> Path | None:
    """The directory holding the compiled launcher, compiling it once; None without javac."""
    launcher_dir = launcher_dir_for(install_dir)
    if (launcher_dir / f"{launcher_class}.class").is_file():
        return launcher_dir
    javac = shutil.which("javac")
    if javac is None:
        return None
    # Compiled aside and renamed into place, so a half-written class is never picked up.
    staging = Path(tempfile.mkdtemp(prefix=".staging-launcher-", dir=install_dir.parent))
    try:
        command = [javac, "--release", java_release, "-cp", str(jar), "-d", str(staging)]
        result = subprocess.run(
            [*command, str(launcher_source)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=compile_timeout_s_max,
            check=False,
        )
        if result.returncode != 0:
            raise LauncherBuildError(
                f"javac could not compile {launcher_source.name}:\n"
                f"{(result.stdout + result.stderr)[-compile_error_bytes_max:]}"
            )
        try:
            staging.rename(launcher_dir)
        except OSError:
            # Another process compiled it between our check and our rename.
            if not (launcher_dir / f"{launcher_class}.class").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return launcher_dir


def java_command(
    jar: Path, native_lib_dir: Path, launcher_dir: Path | None, host: str, arguments: list[str]
) -> list[str]:
    """The command that runs DynamoDB Local: the loopback launcher if built, else the jar."""
    library_path = f"-Djava.library.path={native_lib_dir}"
    if launcher_dir is None:
        return ["java", library_path, "-jar", str(jar), *arguments]
    class_path = f"{launcher_dir}{os.pathsep}{jar}"
    host_property = f"-D{launcher_host_property}={host}"
    return ["java", library_path, host_property, "-cp", class_path, launcher_class, *arguments]


def parent_death_hook(
    platform: str = sys.platform, in_main_thread: bool | None = None
) -> Callable[[], None] | None:
    """A pre-exec hook asking Linux for SIGTERM when this process dies; None where it cannot.

    The kernel sends it when the forking *thread* ends, so only the main thread, which
    lives as long as the process, may arm it; elsewhere the launcher's watch of its input
    is what ends the child.
    """
    if in_main_thread is None:
        in_main_thread = threading.current_thread() is threading.main_thread()
    if not platform.startswith("linux") or not in_main_thread:
        return None
    # Loaded before the fork: the child between fork and exec should do as little as it can.
    libc = ctypes.CDLL(None, use_errno=True)
    parent = os.getpid()

    def arm() -> None:  # pragma: no cover - runs in the child, between fork and exec
        libc.prctl(_pr_set_pdeathsig, signal.SIGTERM)
        # The parent may have died before the signal was armed; then nobody would send it.
        if os.getppid() != parent:
            os._exit(1)

    return arm


def lock_data_dir(lock_path: Path) -> IO[bytes]:
    """An exclusive lock on a data dir, which the kernel drops once every holder is dead.

    The caller passes it on to the server it starts and writes the server's pid into it,
    so a second start on the same data dir is refused and told which process holds it.
    """
    lock = lock_path.open("a+b")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.seek(0)
        holder = lock.read().decode("ascii", errors="replace").strip() or "unknown"
        lock.close()
        raise DataDirInUse(
            f"{lock_path.parent} is in use by another DynamoDB Local (pid {holder}); "
            "stop it, or use another data dir"
        ) from None
    return lock
