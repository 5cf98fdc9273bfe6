"""Invariants the ledger asserts of its own work: a plan moves money in balance, and an
entry's id names its ledger. Breaking one is the ledger's bug, never the caller's."""

from __future__ import annotations

from collections import defaultdict
from typing import TypeVar

from ledger.domain.errors import MisnamedEntry, UnbalancedPlan
from ledger.domain.ids import entry_names_ledger
from ledger.domain.model import Entry
from ledger.planning.steps import ApplyDelta, WritePlan

T = TypeVar("T")


def check_balanced(plan: WritePlan) -> None:
    """Per currency, the plan's debit deltas equal its credit deltas, posted and pending
    apart: a post moves pending to posted on both sides, a void takes pending out of both."""
    posted: dict[str, int] = defaultdict(int)
    pending: dict[str, int] = defaultdict(int)
    for step in plan.steps:
        if isinstance(step, ApplyDelta):
            totals = step.totals
            posted[step.currency] += totals.posted_debits - totals.posted_credits
            pending[step.currency] += totals.pending_debits - totals.pending_credits
    for currency in sorted(posted):
        if posted[currency] or pending[currency]:
            raise UnbalancedPlan(
                f"the ledger planned a write whose {currency} debits and credits do not "
                "balance; nothing was written",
                {"currency": currency},
            )


def check_entry(entry: Entry) -> Entry:
    """The entry, if its id names its ledger; MisnamedEntry otherwise."""
    if not entry_names_ledger(entry.id, entry.ledger_id):
        raise MisnamedEntry(
            f"entry {entry.id} does not belong to ledger {entry.ledger_id}",
            {"entry_id": entry.id},
        )
    return entry


def checked(record: T) -> T:
    """A record read from a store, with the invariants of its kind asserted."""
    if isinstance(record, Entry):
        check_entry(record)
    return record
