"""The round-trip targets of DESIGN.md §5, checked as counts (never as times)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bench.counting import OperationResult

mutations = (
    "create_account",
    "deposit",
    "spend",
    "transfer",
    "entry_4_lines",
    "hold",
    "escrow",
    "batch_10_transfers",
)
# Each reads the entry it resolves or reverses (consistently), then writes once.
resolutions = ("confirm", "release", "reverse")
one_write_call = {"TransactWriteItems": 1}
one_item_read = {"GetItem": 1}
one_read_one_write = {"GetItem": 1, "TransactWriteItems": 1}
transfer_items_written = 3


@dataclass(frozen=True)
class Check:
    """One target and whether the measured counts meet it."""

    name: str
    passed: bool
    actual: str

    def line(self) -> str:
        """`PASS name` or `FAIL name (got ...)`."""
        if self.passed:
            return f"PASS {self.name}"
        return f"FAIL {self.name} (got {self.actual})"


def _calls_are(
    results: Mapping[str, OperationResult], operation: str, expected: dict[str, int], name: str
) -> Check:
    result = results.get(operation)
    if result is None:
        return Check(name, passed=False, actual="not measured")
    return Check(name, passed=result.calls == expected, actual=_describe(result.calls))


def _read_then_write(results: Mapping[str, OperationResult], operation: str) -> Check:
    """Exactly one strongly consistent GetItem, then one write call."""
    name = f"{operation}: 1 consistent GetItem + 1 TransactWriteItems"
    result = results.get(operation)
    if result is None:
        return Check(name, passed=False, actual="not measured")
    passed = result.calls == one_read_one_write and result.consistent_reads == 1
    actual = f"{_describe(result.calls)}; {result.consistent_reads} consistent"
    return Check(name, passed=passed, actual=actual)


def _describe(calls: Mapping[str, int]) -> str:
    return ", ".join(f"{count} {name}" for name, count in sorted(calls.items())) or "no calls"


def check_targets(results: Mapping[str, OperationResult]) -> list[Check]:
    """Every target, in a stable order."""
    checks = [
        _calls_are(
            results, operation, one_write_call, f"{operation}: 1 TransactWriteItems and 0 reads"
        )
        for operation in mutations
    ]
    transfer = results.get("transfer")
    checks.append(
        Check(
            f"transfer: writes {transfer_items_written} items",
            passed=transfer is not None and transfer.items_written == transfer_items_written,
            actual="not measured" if transfer is None else f"{transfer.items_written} items",
        )
    )
    checks.append(_calls_are(results, "balance", one_item_read, "balance: 1 GetItem"))
    checks.append(
        _calls_are(results, "replay", one_write_call, "replay: 1 TransactWriteItems and 0 reads")
    )
    checks += [_read_then_write(results, operation) for operation in resolutions]
    return checks
