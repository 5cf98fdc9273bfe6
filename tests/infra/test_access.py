"""The ledger stack's synthesized policies hold the access matrix: who writes what, and no
deletion of financial items by anyone."""

from __future__ import annotations

from typing import Any

import pytest
from stack_synthesis import Synthesis

from infra.access import financial_prefixes, matrix

Statement = dict[str, Any]

# One pytest worker synthesizes the stack once, rather than each worker on its own.
pytestmark = pytest.mark.xdist_group("cdk")

functions = tuple(matrix)


@pytest.fixture(scope="module")
def policies(ledger_stack: Synthesis) -> dict[str, list[Statement]]:
    """Each function's statements on the table, read back from the synthesized ledger stack."""
    roles = {
        function["Properties"]["Role"]["Fn::GetAtt"][0]: function["Properties"]["Handler"].split(
            "."
        )[1]
        for function in ledger_stack.resources("AWS::Lambda::Function").values()
    }
    found: dict[str, list[Statement]] = {}
    for policy in ledger_stack.resources("AWS::IAM::Policy").values():
        (role,) = policy["Properties"]["Roles"]
        found[roles[role["Ref"]]] = [
            statement
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if all(action.startswith("dynamodb:") for action in _listed(statement["Action"]))
        ]
    return found


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else value


def _allowed(statements: list[Statement], action: str) -> list[Statement]:
    return [s for s in statements if s["Effect"] == "Allow" and action in _listed(s["Action"])]


def _allowed_prefixes(statements: list[Statement], action: str) -> set[str] | None:
    """The partition patterns an action is allowed on; None when allowed on every key."""
    patterns: set[str] = set()
    for statement in _allowed(statements, action):
        condition = statement.get("Condition", {}).get("ForAllValues:StringLike")
        if condition is None:
            return None
        patterns |= set(_listed(condition["dynamodb:LeadingKeys"]))
    return patterns


def _writers(policies: dict[str, list[Statement]], pattern: str) -> set[str]:
    """The functions allowed to put or update an item of the pattern (an open write counts)."""
    found: set[str] = set()
    for function, statements in policies.items():
        for action in ("dynamodb:PutItem", "dynamodb:UpdateItem"):
            allowed = _allowed_prefixes(statements, action)
            if allowed is None or pattern in allowed:
                found.add(function)
    return found


def test_every_function_has_one_policy(policies: dict[str, list[Statement]]) -> None:
    # GIVEN the synthesized roles THEN each function's statements are found
    assert set(policies) == set(functions)


def test_writes_are_allowed_only_on_the_function_s_prefixes(
    policies: dict[str, list[Statement]],
) -> None:
    # GIVEN each policy THEN every write action is bound to the matrix's prefixes, never open
    for function, statements in policies.items():
        expected = {f"{prefix}*" for prefix in matrix[function].writes}
        for action in ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:ConditionCheckItem"):
            allowed = _allowed_prefixes(statements, action)
            assert allowed == expected, (function, action)


def test_the_api_writes_no_history_effective_or_audit_item(
    policies: dict[str, list[Statement]],
) -> None:
    allowed = _allowed_prefixes(policies["api"], "dynamodb:PutItem")
    assert allowed is not None
    assert allowed.isdisjoint({"HISTORY#*", "EFFECTIVE#*", "AUDIT#*"})
    assert "ENTRY#*" in allowed


def test_only_audit_writes_audit_items_and_only_history_writes_history(
    policies: dict[str, list[Statement]],
) -> None:
    assert _writers(policies, "AUDIT#*") == {"audit"}
    assert _writers(policies, "HISTORY#*") == {"history"}
    assert _writers(policies, "EFFECTIVE#*") == {"history"}


def test_every_role_denies_deleting_financial_items(policies: dict[str, list[Statement]]) -> None:
    # GIVEN each policy THEN it holds an explicit deny of DeleteItem on every financial prefix
    expected = {f"{prefix}*" for prefix in financial_prefixes}
    for function, statements in policies.items():
        denials = [
            s for s in statements if s["Effect"] == "Deny" and s["Action"] == "dynamodb:DeleteItem"
        ]
        assert len(denials) == 1, function
        condition = denials[0]["Condition"]["ForAnyValue:StringLike"]
        assert set(condition["dynamodb:LeadingKeys"]) == expected, function


def test_only_the_api_deletes_and_only_monitors(policies: dict[str, list[Statement]]) -> None:
    deleters = {
        function: _allowed_prefixes(statements, "dynamodb:DeleteItem")
        for function, statements in policies.items()
        if _allowed(statements, "dynamodb:DeleteItem")
    }
    assert deleters == {"api": {"MONITOR#*"}}
    assert "MONITOR#" not in financial_prefixes


def test_the_authorizer_only_gets_key_items(policies: dict[str, list[Statement]]) -> None:
    (statement,) = [s for s in policies["authorizer"] if s["Effect"] == "Allow"]
    assert statement["Action"] == "dynamodb:GetItem"
    assert statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"] == ["KEY#*"]


def test_readers_read_the_table_and_its_indexes(policies: dict[str, list[Statement]]) -> None:
    for function, statements in policies.items():
        if function == "authorizer":
            continue
        (reads,) = _allowed(statements, "dynamodb:Query")
        assert "Condition" not in reads
        assert len(reads["Resource"]) == 2, function
        assert reads["Resource"][1]["Fn::Join"][1][-1] == "/index/*"
