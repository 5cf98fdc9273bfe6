"""moto's update expression checks, run once on the whole expression instead of once per
clause.

moto parses `SET a = :a, b = :b, ...` into nested `UpdateExpression` nodes, one level per
clause, and checks for overlapping paths and repeated clauses at every level, each check
walking the whole subtree below it: quadratic in the number of clauses. The ledger's
balance updates set many attributes, so these checks were a third of moto's time. The
root's check sees every action and every clause, so it refuses exactly what the checks at
every level refused.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.dynamodb.parsing.ast_nodes import UpdateExpression  # type: ignore[attr-defined]
from moto.dynamodb.parsing.validators import ActionCountValidator, OverlappingPathsValidator

Check = Callable[[Any, UpdateExpression], UpdateExpression]


def _at_the_root(check: Check) -> Callable[[Any, Any], Any]:
    """A traversal that applies `check` to the expression's root alone."""

    def traverse(self: Any, node: Any) -> Any:
        if isinstance(node, UpdateExpression):
            return check(self, node)
        return node

    traverse.checks_the_root_only = True  # type: ignore[attr-defined]
    return traverse


def install() -> None:
    """Check update expressions at their root only, in this process (idempotent)."""
    for validator, check in (
        (OverlappingPathsValidator, OverlappingPathsValidator.check_for_overlapping_paths),
        (ActionCountValidator, ActionCountValidator.verify_action_counts),
    ):
        if not getattr(validator.traverse, "checks_the_root_only", False):
            validator.traverse = _at_the_root(check)
