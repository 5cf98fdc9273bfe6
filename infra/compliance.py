"""The rule packs every synthesis of the stack is checked against, and their findings.

cdk-nag's packs run as CDK policy validation plugins: `app.synth()` fails when a resource
breaks a rule that nobody acknowledged, and writes every finding to the cloud assembly's
`validation-report.json`. An acknowledgment names one rule on one construct (and its
children) and says why the rule does not apply there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from cdk_nag import AwsSolutionsChecks, PCIDSS321Checks, ServerlessChecks
from constructs import IConstruct

report_name = "validation-report.json"


def add_rule_packs(app: cdk.App) -> None:
    """Check everything the app synthesizes against AwsSolutions, Serverless and PCI DSS 3.2.1."""
    cdk.Validations.of(app).add_plugins(
        AwsSolutionsChecks(app), ServerlessChecks(app), PCIDSS321Checks(app)
    )


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Accept `rule` on `construct` and its children, for `reason`: why it does not apply."""
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule, reason=reason))


@dataclass(frozen=True)
class Finding:
    """One rule one construct breaks."""

    pack: str
    rule: str
    severity: str
    path: str
    description: str


def findings(assembly_dir: Path) -> list[Finding]:
    """The unacknowledged findings a synthesis reported, none when it wrote no report."""
    report = assembly_dir / report_name
    if not report.exists():
        return []
    found: list[Finding] = []
    for plugin in json.loads(report.read_text())["pluginReports"]:
        for violation in plugin["violations"]:
            found.extend(
                Finding(
                    plugin["pluginName"],
                    violation["ruleName"],
                    violation["severity"],
                    construct["constructPath"],
                    violation["description"],
                )
                for construct in violation["violatingConstructs"]
            )
    return found


def synthesize_checked(app: cdk.App) -> list[Finding]:
    """Synthesize `app` and return what its rule packs found (the synthesis fails on any)."""
    try:
        app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
    return findings(Path(app.outdir))
