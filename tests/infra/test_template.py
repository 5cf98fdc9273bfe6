"""cfn-lint finds nothing in the synthesized template: no error and no warning."""

from __future__ import annotations

import pytest
from cfnlint.api import ManualArgs, lint_file
from stack_synthesis import Synthesis, environment

pytestmark = pytest.mark.xdist_group("cdk")


def test_cfn_lint_finds_no_error_and_no_warning(ledger_stack: Synthesis) -> None:
    matches = lint_file(
        ledger_stack.template_path, config=ManualArgs(regions=[str(environment.region)])
    )
    assert [f"{match.rule.id} {match.path} {match.message}" for match in matches] == []


def test_every_function_depends_on_its_role_policy(ledger_stack: Synthesis) -> None:
    policies = ledger_stack.resources("AWS::IAM::Policy")
    for logical_id, function in ledger_stack.resources("AWS::Lambda::Function").items():
        role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
        (policy_id,) = function["DependsOn"]
        assert policies[policy_id]["Properties"]["Roles"] == [{"Ref": role_id}], logical_id
