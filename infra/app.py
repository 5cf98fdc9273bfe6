"""The CDK app: `cdk synth` runs it, and so does `python -m infra.app` for an offline synth."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import aws_cdk as cdk

from infra.stack import LedgerStack

project_dir = Path(__file__).resolve().parent.parent
cdk_json = project_dir / "cdk.json"
stack_name = "Ledger"


def cdk_context() -> dict[str, Any]:
    """The feature flags of cdk.json, so a synth without the CDK CLI matches one with it."""
    # Under the CLI, which passes cdk.json itself, the CLI's copy takes precedence.
    context: dict[str, Any] = json.loads(cdk_json.read_text())["context"]
    return context


def output_dir() -> str:
    """Where the CDK CLI asks for the cloud assembly, else the project's cdk.out/."""
    # Without the CLI, the CDK would write to a fresh temporary directory nobody looks at.
    return os.environ.get("CDK_OUTDIR", str(project_dir / "cdk.out"))


def main() -> None:
    """Synthesize the ledger stack into the cloud assembly directory."""
    app = cdk.App(context=cdk_context(), outdir=output_dir())
    LedgerStack(app, stack_name)
    app.synth()


if __name__ == "__main__":
    main()
