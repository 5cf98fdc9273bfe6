"""Response bodies of posting rules, and their renderers from the domain."""

from __future__ import annotations

from typing import Any

from ledger.api.views import EntryView, View
from ledger.domain.model import Entry
from ledger.domain.posting_rules import PostingRule
from ledger.domain.views import entry_view, moment


class RuleLineView(View):
    """One line of a rule, as it was put: templates unrendered, the unused account field null."""

    account_id: str | None
    account_code: str | None
    side: str
    amount: str


class PostingRuleView(View):
    """One version of a ledger's posting rule for an event type."""

    event_type: str
    ledger_id: str
    version: int
    lines: list[RuleLineView]
    reference: str | None
    description: str | None
    created_at: str


class PostingRulePage(View):
    """A page of the latest rule of each event type."""

    items: list[PostingRuleView]
    next_cursor: str | None


class DryRunEntryView(EntryView):
    """The entry an event would post; nothing was written."""

    dry_run: bool


def rule_view(rule: PostingRule) -> dict[str, Any]:
    """A posting rule as the API shows it."""
    return {
        "event_type": rule.event_type,
        "ledger_id": rule.ledger_id,
        "version": rule.version,
        "lines": [
            {
                "account_id": line.account_id,
                "account_code": line.account_code,
                "side": line.side.value,
                "amount": line.amount,
            }
            for line in rule.lines
        ],
        "reference": rule.reference,
        "description": rule.description,
        "created_at": moment(rule.created_at),
    }


def dry_run_view(entry: Entry) -> dict[str, Any]:
    """The entry an event would post, marked as written by no one."""
    return {**entry_view(entry), "dry_run": True}
