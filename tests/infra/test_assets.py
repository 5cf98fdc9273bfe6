"""The functions' assets: built for Lambda and for this machine (the twin), without Docker."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.tags import Tag

from infra import assets
from ledger.local.dynamodb_local.install import default_cache_dir

# One worker builds both targets once; the wheels stay in the cache, so a rerun is offline.
pytestmark = pytest.mark.xdist_group("assets")

imports_timeout_s_max = 120
# What the stack gives every function; the handlers build their clients at import.
twin_environment = {"AWS_DEFAULT_REGION": "us-east-1", "LEDGER_TABLE_NAME": "ledger-test"}

# Run in the twin, one interpreter for every handler in turn: import each with only its
# asset and the runtime on sys.path, and report where every module loaded came from (an
# import that fails reports its traceback). Then forget the asset, and every module loaded
# from it, so the next handler imports its own copies.
import_probe = """
import importlib, json, os, sys, traceback
runtime, reports = sys.argv[1], {}
for asset_dir, module in zip(sys.argv[2::2], sys.argv[3::2]):
    sys.path[:0] = [asset_dir, runtime]
    try:
        handler = importlib.import_module(module).lambda_handler
        import ledger
        files = [getattr(m, "__file__", None) for m in list(sys.modules.values())]
        reports[module] = {
            "callable": callable(handler),
            "handler_file": sys.modules[module].__file__,
            "ledger_file": ledger.__file__,
            "files": sorted(f for f in files if f),
            "stdlib": sys.base_prefix,
            "click": "click" in sys.modules,
        }
    except Exception:
        reports[module] = {"error": traceback.format_exc()}
    del sys.path[:2]
    inside = asset_dir + os.sep
    for name, loaded in list(sys.modules.items()):
        places = [getattr(loaded, "__file__", None), *(getattr(loaded, "__path__", None) or ())]
        if name.partition(".")[0] in ("functions", "ledger") or any(
            str(place).startswith(inside) for place in places
        ):
            del sys.modules[name]
    importlib.invalidate_caches()
print(json.dumps(reports))
"""


@dataclass(frozen=True)
class Built:
    lambda_assets: dict[str, Path]
    twin_assets: dict[str, Path]
    twin_runtime: Path


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("assets")
    cache_dir = default_cache_dir()
    lambda_assets = assets.build_assets(
        assets.lambda_platform, root / "assets", cache_dir=cache_dir
    )
    twin_assets = assets.build_twin(root / "twin", cache_dir=cache_dir)
    return Built(lambda_assets, twin_assets, root / "twin" / assets.twin_runtime_name)


def test_the_functions_are_the_packages_with_a_handler() -> None:
    assert assets.functions == (
        "api",
        "audit",
        "authorizer",
        "events",
        "expiry",
        "external_balances",
        "history",
        "inbound",
        "monitors",
        "reconciliation",
    )


@pytest.fixture(scope="module")
def twin_imports(built: Built) -> dict[str, Any]:
    """What the probe reported for each twin handler, by module name."""
    handlers = [
        part
        for name in assets.functions
        for part in (str(built.twin_assets[name]), f"functions.{name}.handler")
    ]
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", import_probe, str(built.twin_runtime), *handlers],
        capture_output=True,
        text=True,
        check=False,
        timeout=imports_timeout_s_max,
        env=twin_environment,
    )
    assert result.returncode == 0, result.stderr
    reports: dict[str, Any] = json.loads(result.stdout)
    return reports


@pytest.mark.parametrize("name", assets.functions)
def test_every_twin_handler_imports_from_the_twin_alone(
    built: Built, twin_imports: dict[str, Any], name: str
) -> None:
    asset_dir = built.twin_assets[name]
    probe = twin_imports[f"functions.{name}.handler"]
    assert "error" not in probe, probe["error"]
    assert probe["callable"] is True
    assert Path(probe["handler_file"]).is_relative_to(asset_dir / "functions" / name)
    assert Path(probe["ledger_file"]).is_relative_to(asset_dir / "ledger")
    assert probe["click"] is False
    assert any(
        Path(file).is_relative_to(built.twin_runtime / "botocore") for file in probe["files"]
    )
    outside = [
        file
        for file in probe["files"]
        if not any(
            Path(file).is_relative_to(root)
            for root in (asset_dir, built.twin_runtime, Path(probe["stdlib"]))
        )
        or "site-packages" in Path(file).parts
    ]
    assert outside == []


def test_the_lambda_asset_holds_the_twins_distributions_at_the_same_versions(
    built: Built,
) -> None:
    twin = assets.distributions(built.twin_assets["api"])
    deployed = assets.distributions(built.lambda_assets["api"])
    assert deployed == twin
    assert {"pydantic", "pydantic-core", "aws-lambda-powertools", "aws-xray-sdk"} <= set(deployed)
    assert deployed["pydantic"] == assets.installed_version("pydantic")


def test_the_lambda_asset_leaves_out_what_the_runtime_provides_and_click(built: Built) -> None:
    for asset_dir in built.lambda_assets.values():
        held = set(assets.distributions(asset_dir))
        assert held.isdisjoint(assets.runtime_provided | assets.cli_only)
        assert not (asset_dir / "boto3").exists()
        assert not (asset_dir / "click").exists()


def test_the_twin_runtime_holds_what_the_lambda_runtime_provides(built: Built) -> None:
    runtime = assets.distributions(built.twin_runtime)
    assert set(runtime) == assets.runtime_provided
    assert runtime["boto3"] == assets.installed_version("boto3")


def test_the_lambda_assets_compiled_modules_carry_the_targets_tags_only(built: Built) -> None:
    for asset_dir in built.lambda_assets.values():
        tags = assets.compiled_tags(asset_dir)
        assert "cpython-314-aarch64-linux-gnu" in tags
        assert all("cp314" in tag or "314" in tag for tag in tags)
        assert all("aarch64" in tag for tag in tags)
        assert not any("cp311" in tag or "311" in tag or "x86_64" in tag for tag in tags)


def test_the_twins_compiled_modules_carry_this_machines_tags(built: Built) -> None:
    tags = assets.compiled_tags(built.twin_assets["api"])
    version = f"{sys.version_info.major}{sys.version_info.minor}"
    assert f"cpython-{version}-x86_64-linux-gnu" in tags
    assert all(version in tag for tag in tags)


def test_each_asset_holds_its_own_function_and_the_package_init(built: Built) -> None:
    for name, asset_dir in built.lambda_assets.items():
        held = {path.name for path in (asset_dir / "functions").iterdir()}
        assert held == {"__init__.py", name}
        assert (asset_dir / "ledger" / "api" / "handler.py").is_file()
        assert not list(asset_dir.rglob("__pycache__"))


def test_sizes_are_reported_positive_and_under_lambdas_limit(built: Built) -> None:
    report = assets.asset_report(built.lambda_assets)
    assert set(report) == set(assets.functions)
    assert all(0 < size < assets.lambda_unzipped_bytes_max for size in report.values())
    lines = assets.format_report(report)
    assert len(lines) == 1 + len(report)
    assert lines[1].startswith("api ")


def test_the_report_warns_over_the_unzipped_limit() -> None:
    lines = assets.format_report({"big": assets.lambda_unzipped_bytes_max + 1, "small": 10})
    assert lines[-1].startswith("warning: big is ")
    assert sum(line.startswith("warning") for line in lines) == 1


def test_a_rebuild_downloads_nothing(built: Built, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_pip(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("pip ran on a warm cache")

    monkeypatch.setattr(subprocess, "run", no_pip)
    again = assets.build_assets(
        assets.lambda_platform,
        built.lambda_assets["api"].parent,
        cache_dir=default_cache_dir(),
        names=["api"],
    )
    assert assets.distributions(again["api"]) == assets.distributions(built.lambda_assets["api"])


def test_the_lambda_platform_loads_aarch64_cpython_314_wheels_only() -> None:
    tags = assets.lambda_platform.tags()
    assert Tag("cp314", "cp314", "manylinux_2_17_aarch64") in tags
    assert Tag("cp314", "abi3", "manylinux2014_aarch64") in tags
    assert Tag("py3", "none", "any") in tags
    assert Tag("cp311", "cp311", "manylinux_2_17_x86_64") not in tags
    assert Tag("cp314", "cp314", "manylinux_2_17_x86_64") not in tags
    assert assets.lambda_platform.machine == "aarch64"


def test_the_twin_platform_is_this_interpreter() -> None:
    platform = assets.twin_platform()
    assert platform.python_version == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert platform.abi == f"cp{sys.version_info.major}{sys.version_info.minor}"
    assert platform.machine == "x86_64"
    assert "any" not in platform.pip_platforms


def test_a_platform_tag_without_a_linux_machine_is_refused() -> None:
    platform = assets.Platform(("win_amd64",), "3.14", "cp314", "cp")
    with pytest.raises(assets.AssetError, match="win_amd64"):
        _ = platform.machine


def test_markers_are_evaluated_for_the_target() -> None:
    environment = assets.lambda_platform.marker_environment("tracer")
    assert environment["python_version"] == "3.14"
    assert environment["python_full_version"] == "3.14.0"
    assert environment["platform_machine"] == "aarch64"
    assert environment["extra"] == "tracer"
    twin = assets.twin_platform().marker_environment("")
    assert twin["python_full_version"] == ".".join(str(part) for part in sys.version_info[:3])


def test_the_closure_follows_extras_and_stops_at_the_excluded() -> None:
    pins = assets.requirement_closure(
        ["aws-lambda-powertools[tracer]"], assets.lambda_platform, excluded=["jmespath"]
    )
    assert set(pins) == {
        "aws-lambda-powertools",
        "aws-xray-sdk",
        "typing-extensions",
        "wrapt",
        "botocore",
        "python-dateutil",
        "six",
        "urllib3",
    }
    assert "jmespath" not in pins


def test_a_dependency_not_installed_here_is_refused() -> None:
    with pytest.raises(assets.AssetError, match="not-a-ledger-dependency"):
        assets.requirement_closure(["not-a-ledger-dependency"], assets.lambda_platform)


def test_the_pip_command_fetches_binaries_for_the_target_only(tmp_path: Path) -> None:
    command = assets.pip_download_command({"wrapt": "2.5.2"}, assets.lambda_platform, tmp_path)
    assert command[1:4] == ["-m", "pip", "download"]
    assert "--only-binary=:all:" in command
    assert "--no-deps" in command
    platforms = [command[i + 1] for i, arg in enumerate(command) if arg == "--platform"]
    assert platforms == list(assets.lambda_platform.pip_platforms)
    assert command[command.index("--abi") + 1] == "cp314"
    assert command[command.index("--python-version") + 1] == "3.14"
    assert command[-1] == "wrapt==2.5.2"


def test_a_cached_wheel_must_match_name_version_and_tags(tmp_path: Path) -> None:
    for name in (
        "wrapt-2.5.2-cp311-cp311-manylinux_2_17_x86_64.whl",
        "wrapt-2.5.1-cp314-cp314-manylinux_2_17_aarch64.whl",
        "wrapt-2.5.2-cp314-cp314-manylinux_2_17_aarch64.whl",
    ):
        (tmp_path / name).touch()
    found = assets.cached_wheel(tmp_path, "Wrapt", "2.5.2", assets.lambda_platform)
    assert found == tmp_path / "wrapt-2.5.2-cp314-cp314-manylinux_2_17_aarch64.whl"
    assert assets.cached_wheel(tmp_path, "wrapt", "2.6.0", assets.lambda_platform) is None


def test_a_missing_wheel_after_pip_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[list[str]] = []
    monkeypatch.setattr(subprocess, "run", lambda command, **_: ran.append(command))
    with pytest.raises(assets.AssetError, match=r"no wheel of wrapt==2\.5\.2"):
        assets.fetch_wheels({"wrapt": "2.5.2"}, assets.lambda_platform, tmp_path)
    assert ran[0][-1] == "wrapt==2.5.2"


@pytest.mark.parametrize(
    ("filename", "tag"),
    [
        ("_pydantic_core.cpython-314-aarch64-linux-gnu.so", "cpython-314-aarch64-linux-gnu"),
        ("_speedups.abi3.so", "abi3"),
        ("_plain.so", None),
        ("module.py", None),
        ("libfoo.so.1", None),
    ],
)
def test_so_tags_are_read_from_the_filename(filename: str, tag: str | None) -> None:
    assert assets.so_tag(filename) == tag


def test_wheel_tags_are_read_from_a_compiled_wheels_wheel_file() -> None:
    compiled = (
        "Wheel-Version: 1.0\nRoot-Is-Purelib: false\n"
        "Tag: cp314-cp314-manylinux_2_17_aarch64\nTag: cp314-cp314-manylinux2014_aarch64\n"
    )
    pure = "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    assert assets.wheel_tags(compiled) == [
        "cp314-cp314-manylinux_2_17_aarch64",
        "cp314-cp314-manylinux2014_aarch64",
    ]
    assert assets.wheel_tags(pure) == []


def test_compiled_tags_gather_so_names_and_wheel_files(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "_fast.cpython-314-aarch64-linux-gnu.so").touch()
    (tmp_path / "pkg-1.0.dist-info").mkdir()
    (tmp_path / "pkg-1.0.dist-info" / "WHEEL").write_text(
        "Root-Is-Purelib: false\nTag: cp314-cp314-manylinux_2_28_aarch64\n", encoding="utf-8"
    )
    assert assets.compiled_tags(tmp_path) == {
        "cpython-314-aarch64-linux-gnu",
        "cp314-cp314-manylinux_2_28_aarch64",
    }


def test_a_wheel_unpacks_its_libraries_and_skips_scripts(tmp_path: Path) -> None:
    wheel = tmp_path / "pkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("pkg/__init__.py", "x = 1\n")
        archive.writestr("pkg-1.0.data/purelib/extra.py", "y = 2\n")
        archive.writestr("pkg-1.0.data/scripts/tool", "#!/bin/sh\n")
        archive.writestr("pkg/sub/", "")
    target = tmp_path / "asset"
    assets.unpack_wheel(wheel, target)
    assert (target / "pkg" / "__init__.py").read_text(encoding="utf-8") == "x = 1\n"
    assert (target / "extra.py").read_text(encoding="utf-8") == "y = 2\n"
    assert not (target / "tool").exists()
    assert not (target / "pkg-1.0.data").exists()


@pytest.mark.parametrize("member", ["../evil.py", "/etc/evil.py"])
def test_a_wheel_member_outside_the_asset_is_refused(tmp_path: Path, member: str) -> None:
    wheel = tmp_path / "evil-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(member, "")
    with pytest.raises(assets.AssetError, match="outside the asset"):
        assets.unpack_wheel(wheel, tmp_path / "asset")
    assert not (tmp_path / "asset").exists()


def test_the_project_dependencies_come_from_the_pyproject(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[project]\ndependencies = ["pydantic>=2"]\n', encoding="utf-8")
    assert assets.project_dependencies(pyproject) == ["pydantic>=2"]
    assert any(line.startswith("click") for line in assets.project_dependencies())


def test_build_prints_each_targets_sizes(
    built: Built, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(assets, "lambda_output_dir", built.lambda_assets["api"].parent)
    monkeypatch.setattr(assets, "twin_output_dir", built.twin_runtime.parent)
    assert assets.main(["build", "--target", "both", "--function", "api"]) == 0
    out = capsys.readouterr().out
    assert f"{built.lambda_assets['api'].parent}:" in out
    assert f"{built.twin_runtime.parent}:" in out
    assert out.count("\napi ") == 2
    assert "\naudit " not in out


def test_build_builds_only_the_lambda_assets_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(assets, "lambda_output_dir", tmp_path / "assets")
    monkeypatch.setattr(assets, "twin_output_dir", tmp_path / "twin")
    assert assets.main(["build", "--function", "authorizer"]) == 0
    assert capsys.readouterr().out.count("\nauthorizer ") == 1
    assert [path.name for path in (tmp_path / "assets").iterdir()] == ["authorizer"]
    assert not (tmp_path / "twin").exists()
