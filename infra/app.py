"""The CDK app: `cdk synth` runs it, and so does `python -m infra.app` for an offline synth.

Every synthesis is checked against the rule packs of `infra.compliance`: a finding nobody
acknowledged fails it. The functions' code is the assets `make assets` builds.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

from infra.assets import lambda_output_dir
from infra.compliance import add_rule_packs
from infra.stack import LedgerStack

project_dir = Path(__file__).resolve().parent.parent
cdk_json = project_dir / "cdk.json"
stack_name = "Ledger"


class AssetsMissing(RuntimeError):
    """The stack was synthesized before its functions' assets were built."""


def cdk_context() -> dict[str, Any]:
    """The feature flags of cdk.json, so a synth without the CDK CLI matches one with it."""
    # Under the CLI, which passes cdk.json itself, the CLI's copy takes precedence.
    context: dict[str, Any] = json.loads(cdk_json.read_text())["context"]
    return context


def output_dir() -> str:
    """Where the CDK CLI asks for the cloud assembly, else the project's cdk.out/."""
    # Without the CLI, the CDK would write to a fresh temporary directory nobody looks at.
    return os.environ.get("CDK_OUTDIR", str(project_dir / "cdk.out"))


def built_asset(name: str) -> lambda_.Code:
    """A function's code: its directory under build/assets/, which `make assets` builds."""
    directory = lambda_output_dir / name
    if not (directory / "functions" / name / "handler.py").exists():
        raise AssetsMissing(f"{directory} is not built: run `make assets` (or `make synth`)")
    return lambda_.Code.from_asset(str(directory))


def main() -> None:
    """Synthesize the ledger stack into the cloud assembly directory."""
    app = cdk.App(context=cdk_context(), outdir=output_dir())
    LedgerStack(app, stack_name, code=built_asset)
    add_rule_packs(app)
    app.synth()


if __name__ == "__main__":
    main()
