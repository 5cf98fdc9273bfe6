"""The functions' Lambda assets, built without Docker: wheels for the target, unpacked.

Each asset is a directory: `functions/__init__.py`, `functions/<name>/`, the `ledger` package
copied from `src/`, and the runtime dependencies of the project as wheels for the target
platform, fetched by `pip download` into a cache and unpacked (a wheel is a zip; nothing runs).
Versions are those installed here, so an asset holds what the tests tested.

`python -m infra.assets build [--target lambda|twin|both]`
"""

from __future__ import annotations

import argparse
import importlib.metadata
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags, sys_tags
from packaging.utils import canonicalize_name, parse_wheel_filename
from packaging.version import Version

from ledger.local.dynamodb_local.install import default_cache_dir

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

repo_root = Path(__file__).resolve().parent.parent
functions_dir = repo_root / "functions"
ledger_dir = repo_root / "src" / "ledger"
lambda_output_dir = repo_root / "build" / "assets"
twin_output_dir = repo_root / "build" / "twin"
twin_runtime_name = "_runtime"

functions: tuple[str, ...] = tuple(
    sorted(path.parent.name for path in functions_dir.glob("*/handler.py"))
)

# What the Lambda Python runtime ships; an asset that bundled them would shadow the runtime's
# (snapshot-restore-py holds the SnapStart hooks the runtime itself calls).
runtime_provided: frozenset[str] = frozenset(
    {
        "boto3",
        "botocore",
        "s3transfer",
        "jmespath",
        "urllib3",
        "python-dateutil",
        "six",
        "snapshot-restore-py",
    }
)
# Only the command line imports click; no function does.
cli_only: frozenset[str] = frozenset({"click"})

lambda_unzipped_bytes_max = 250 * 1024 * 1024
pip_timeout_s_max = 600

_copy_ignored = shutil.ignore_patterns("__pycache__", "*.pyc")
_platform_tag = re.compile(r"^(?:manylinux_\d+_\d+|manylinux\d+|musllinux_\d+_\d+|linux)_(.+)$")
_wheel_data_libs = ("purelib", "platlib")


class AssetError(RuntimeError):
    """An asset could not be built: a dependency is missing here or has no wheel for the target."""


@dataclass(frozen=True)
class Platform:
    """The interpreter and platforms that wheels are fetched for."""

    pip_platforms: tuple[str, ...]
    python_version: str
    abi: str
    implementation: str

    @property
    def machine(self) -> str:
        """The machine of the first platform tag (`aarch64` for `manylinux_2_28_aarch64`)."""
        match = _platform_tag.match(self.pip_platforms[0])
        if match is None:
            raise AssetError(f"platform tag {self.pip_platforms[0]!r} names no Linux machine")
        return match.group(1)

    def tags(self) -> frozenset[Tag]:
        """The wheel tags this interpreter on these platforms can load."""
        major, minor = (int(part) for part in self.python_version.split("."))
        interpreter = f"{self.implementation}{major}{minor}"
        return frozenset(
            [
                *cpython_tags((major, minor), [self.abi], self.pip_platforms),
                *compatible_tags((major, minor), interpreter, self.pip_platforms),
            ]
        )

    def marker_environment(self, extra: str) -> dict[str, str]:
        """The values dependency markers are evaluated against on this platform."""
        environment = {key: str(value) for key, value in default_environment().items()}
        if environment["python_version"] != self.python_version:
            environment["python_version"] = self.python_version
            environment["python_full_version"] = f"{self.python_version}.0"
        environment.update(
            platform_machine=self.machine,
            sys_platform="linux",
            platform_system="Linux",
            os_name="posix",
            extra=extra,
        )
        return environment


lambda_platform = Platform(
    pip_platforms=("manylinux_2_28_aarch64", "manylinux_2_17_aarch64", "manylinux2014_aarch64"),
    python_version="3.14",
    abi="cp314",
    implementation="cp",
)


def twin_platform() -> Platform:
    """This machine's interpreter and the platforms it loads wheels for."""
    tags = list(sys_tags())
    return Platform(
        pip_platforms=tuple(dict.fromkeys(tag.platform for tag in tags if tag.platform != "any")),
        python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
        abi=tags[0].abi,
        implementation="cp",
    )


def project_dependencies(pyproject: Path = repo_root / "pyproject.toml") -> list[str]:
    """The `[project] dependencies` of the pyproject."""
    with pyproject.open("rb") as file:
        dependencies: list[str] = tomllib.load(file)["project"]["dependencies"]
    return dependencies


def installed_version(name: str) -> str:
    """The version of `name` installed in this environment."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        raise AssetError(f"{name} is needed on the target but not installed here") from None


def requirement_closure(
    roots: Iterable[str], platform: Platform, *, excluded: Iterable[str] = ()
) -> dict[str, str]:
    """Every distribution `roots` need on `platform` (name -> installed version), minus `excluded`.

    The dependencies of what is excluded are not followed.
    """
    skipped = {canonicalize_name(name) for name in excluded}
    pins: dict[str, str] = {}
    seen: set[tuple[str, str]] = set()
    pending = [Requirement(root) for root in roots]
    while pending:
        requirement = pending.pop()
        name = canonicalize_name(requirement.name)
        if name in skipped:
            continue
        pins[name] = installed_version(name)
        for extra in ("", *sorted(requirement.extras)):
            if (name, extra) in seen:
                continue
            seen.add((name, extra))
            environment = platform.marker_environment(extra)
            for line in importlib.metadata.requires(name) or []:
                dependency = Requirement(line)
                if dependency.marker is None or dependency.marker.evaluate(environment):
                    pending.append(dependency)
    return dict(sorted(pins.items()))


def cached_wheel(wheel_dir: Path, name: str, version: str, platform: Platform) -> Path | None:
    """A wheel of `name==version` in `wheel_dir` that loads on `platform`, if there is one."""
    supported = platform.tags()
    wanted = (canonicalize_name(name), Version(version))
    for wheel in sorted(wheel_dir.glob("*.whl")):
        wheel_name, wheel_version, _, wheel_tags = parse_wheel_filename(wheel.name)
        if (wheel_name, wheel_version) == wanted and wheel_tags & supported:
            return wheel
    return None


def pip_download_command(pins: Mapping[str, str], platform: Platform, wheel_dir: Path) -> list[str]:
    """The `pip download` that fetches binary wheels of `pins` for `platform` into `wheel_dir`."""
    platform_options = [option for tag in platform.pip_platforms for option in ("--platform", tag)]
    return [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--quiet",
        "--disable-pip-version-check",
        "--only-binary=:all:",
        "--no-deps",
        *platform_options,
        "--python-version",
        platform.python_version,
        "--implementation",
        platform.implementation,
        "--abi",
        platform.abi,
        "--dest",
        str(wheel_dir),
        *(f"{name}=={version}" for name, version in pins.items()),
    ]


def fetch_wheels(pins: Mapping[str, str], platform: Platform, cache_dir: Path) -> list[Path]:
    """One wheel per pin, for `platform`; only those not yet in the cache are downloaded."""
    wheel_dir = cache_dir / "wheels"
    wheel_dir.mkdir(parents=True, exist_ok=True)
    missing = {
        name: version
        for name, version in pins.items()
        if cached_wheel(wheel_dir, name, version, platform) is None
    }
    if missing:
        subprocess.run(
            pip_download_command(missing, platform, wheel_dir),
            check=True,
            timeout=pip_timeout_s_max,
        )
    wheels = []
    for name, version in pins.items():
        wheel = cached_wheel(wheel_dir, name, version, platform)
        if wheel is None:
            raise AssetError(f"no wheel of {name}=={version} for {platform}")
        wheels.append(wheel)
    return wheels


def wheel_member_target(member: str) -> PurePosixPath | None:
    """Where a wheel's member goes in the asset; None for scripts, headers and data."""
    path = PurePosixPath(member)
    if path.is_absolute() or ".." in path.parts:
        raise AssetError(f"wheel member {member!r} points outside the asset")
    if path.parts and path.parts[0].endswith(".data"):
        if len(path.parts) > 2 and path.parts[1] in _wheel_data_libs:
            return PurePosixPath(*path.parts[2:])
        return None
    return path


def unpack_wheel(wheel: Path, target_dir: Path) -> None:
    """Install `wheel` into `target_dir` by unzipping it; nothing of it runs."""
    with zipfile.ZipFile(wheel) as archive:
        for info in archive.infolist():
            target = wheel_member_target(info.filename)
            if target is None or info.is_dir():
                continue
            destination = target_dir / target
            destination.parent.mkdir(parents=True, exist_ok=True)
            with archive.open(info) as source, destination.open("wb") as sink:
                shutil.copyfileobj(source, sink)


def build_assets(
    platform: Platform,
    output_dir: Path,
    *,
    cache_dir: Path,
    names: Sequence[str] = functions,
) -> dict[str, Path]:
    """One asset directory per function under `output_dir` (name -> directory)."""
    pins = requirement_closure(
        project_dependencies(), platform, excluded=runtime_provided | cli_only
    )
    wheels = fetch_wheels(pins, platform, cache_dir)
    assets: dict[str, Path] = {}
    for name in names:
        asset_dir = output_dir / name
        shutil.rmtree(asset_dir, ignore_errors=True)
        (asset_dir / "functions").mkdir(parents=True)
        shutil.copy2(functions_dir / "__init__.py", asset_dir / "functions" / "__init__.py")
        shutil.copytree(functions_dir / name, asset_dir / "functions" / name, ignore=_copy_ignored)
        shutil.copytree(ledger_dir, asset_dir / "ledger", ignore=_copy_ignored)
        for wheel in wheels:
            unpack_wheel(wheel, asset_dir)
        assets[name] = asset_dir
    return assets


def build_runtime(platform: Platform, runtime_dir: Path, *, cache_dir: Path) -> Path:
    """What the Lambda runtime provides (boto3 and the rest), at the versions installed here."""
    pins = requirement_closure(sorted(runtime_provided), platform)
    wheels = fetch_wheels(pins, platform, cache_dir)
    shutil.rmtree(runtime_dir, ignore_errors=True)
    runtime_dir.mkdir(parents=True)
    for wheel in wheels:
        unpack_wheel(wheel, runtime_dir)
    return runtime_dir


def build_twin(
    output_dir: Path, *, cache_dir: Path, names: Sequence[str] = functions
) -> dict[str, Path]:
    """The assets for this machine, and `_runtime/` standing in for the Lambda runtime."""
    platform = twin_platform()
    assets = build_assets(platform, output_dir, cache_dir=cache_dir, names=names)
    build_runtime(platform, output_dir / twin_runtime_name, cache_dir=cache_dir)
    return assets


def directory_size(directory: Path) -> int:
    """The bytes of every file under `directory`."""
    return sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())


def asset_report(assets: Mapping[str, Path]) -> dict[str, int]:
    """Each asset's unpacked size in bytes."""
    return {name: directory_size(asset_dir) for name, asset_dir in assets.items()}


def format_report(report: Mapping[str, int]) -> list[str]:
    """A table of the sizes, then a warning for each asset over Lambda's unzipped limit."""
    width = max((len(name) for name in report), default=0)
    lines = [f"{'function'.ljust(width)}  {'MB':>8}  bytes"]
    lines += [f"{name.ljust(width)}  {size / 1e6:8.1f}  {size}" for name, size in report.items()]
    lines += [
        f"warning: {name} is {size} bytes, over Lambda's {lambda_unzipped_bytes_max} unzipped"
        for name, size in report.items()
        if size > lambda_unzipped_bytes_max
    ]
    return lines


def distributions(asset_dir: Path) -> dict[str, str]:
    """The distributions unpacked in `asset_dir` (name -> version), from their `*.dist-info`."""
    found: dict[str, str] = {}
    for info_dir in sorted(asset_dir.glob("*.dist-info")):
        distribution = importlib.metadata.PathDistribution(info_dir)
        found[canonicalize_name(distribution.metadata["Name"])] = distribution.version
    return found


def so_tag(filename: str) -> str | None:
    """The tag in an extension module's name: `cpython-314-aarch64-linux-gnu`, `abi3`."""
    parts = filename.split(".")
    if len(parts) < 3 or parts[-1] != "so":
        return None
    return parts[-2]


def wheel_tags(wheel_file: str) -> list[str]:
    """The `Tag:` lines of a WHEEL file of a wheel that is not pure Python."""
    lines = [line.partition(":") for line in wheel_file.splitlines()]
    fields = [(key.strip(), value.strip()) for key, _, value in lines]
    if ("Root-Is-Purelib", "true") in fields:
        return []
    return [value for key, value in fields if key == "Tag"]


def compiled_tags(asset_dir: Path) -> frozenset[str]:
    """The tags of every compiled module: `.so` name tags and the WHEEL `Tag:` lines."""
    tags = {tag for path in asset_dir.rglob("*.so") if (tag := so_tag(path.name)) is not None}
    for wheel_file in asset_dir.glob("*.dist-info/WHEEL"):
        tags.update(wheel_tags(wheel_file.read_text(encoding="utf-8")))
    return frozenset(tags)


def main(argv: Sequence[str] | None = None) -> int:
    """`build [--target lambda|twin|both]`: build the assets and print their sizes."""
    parser = argparse.ArgumentParser(prog="python -m infra.assets")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build the functions' assets")
    build.add_argument("--target", choices=("lambda", "twin", "both"), default="lambda")
    build.add_argument(
        "--function",
        dest="names",
        action="append",
        choices=functions,
        help="build only this function's asset (repeatable; default: every function)",
    )
    arguments = parser.parse_args(argv)
    names: Sequence[str] = arguments.names or functions
    cache_dir = default_cache_dir()
    if arguments.target in ("lambda", "both"):
        assets = build_assets(lambda_platform, lambda_output_dir, cache_dir=cache_dir, names=names)
        print(f"{lambda_output_dir}:")
        print("\n".join(format_report(asset_report(assets))))
    if arguments.target in ("twin", "both"):
        twin = build_twin(twin_output_dir, cache_dir=cache_dir, names=names)
        print(f"{twin_output_dir}:")
        print("\n".join(format_report(asset_report(twin))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
