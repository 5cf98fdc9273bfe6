"""One synthesis of the whole ledger stack, shared by the tests that read it (tests/conftest.py
makes `ledger_stack` a fixture of every test module)."""

from __future__ import annotations

import os

# The jsii node process that `import aws_cdk` starts inherits these; without them it prints a
# banner about the machine's Node 20 being past jsii's support window.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_

from infra.app import cdk_context
from infra.assets import functions_dir
from infra.compliance import Finding, add_rule_packs, synthesize_checked
from infra.stack import LedgerStack

stack_name = "LedgerTest"
# One external balance check, as `ledger:externalChecks` gives it.
bank_checks = {
    "sources": [
        {
            "name": "bank",
            "currency": "USD",
            "url": "https://bank.example/balance",
            "amount_pointer": "/available",
            "ledger_id": "ldg_1",
            "account_type": "asset",
        }
    ]
}
environment = cdk.Environment(account="123456789012", region="eu-west-1")


def source_code(name: str) -> lambda_.Code:
    """A function's own package as its code: what the stack says about it, without the
    13 MB of dependencies the real asset carries."""
    return lambda_.Code.from_asset(str(functions_dir / name))


@dataclass(frozen=True)
class Synthesis:
    """The synthesized stack: its template, where it was written, and what cdk-nag found."""

    template: dict[str, Any]
    template_path: Path
    findings: list[Finding]

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        """The template's resources of one CloudFormation type, by logical id."""
        return {
            logical_id: resource
            for logical_id, resource in self.template["Resources"].items()
            if resource["Type"] == kind
        }


def synthesize(outdir: Path, context: dict[str, Any] | None = None) -> Synthesis:
    """The ledger stack with cdk.json's feature flags and `context`, checked by the packs."""
    app = cdk.App(context={**cdk_context(), **(context or {})}, outdir=str(outdir))
    LedgerStack(app, stack_name, code=source_code, env=environment)
    add_rule_packs(app)
    found = synthesize_checked(app)
    path = outdir / f"{stack_name}.template.json"
    return Synthesis(json.loads(path.read_text()), path, found)
