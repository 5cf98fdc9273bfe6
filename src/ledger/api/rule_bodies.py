"""Request bodies of posting rules: templates bounded here, their placeholders checked by
the domain (`ledger.domain.posting_rules`), and the dry run's inbound event."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from ledger.api.bodies import Body, SideName, plain_rule
from ledger.domain import limits

Template = Annotated[str, Field(min_length=1, max_length=limits.template_length_max), plain_rule]


class RuleLineBody(Body):
    """One line of a rule: its account by id or by code, its side, and its amount, each a
    template that may hold `{{data.<field>}}` placeholders."""

    account_id: Template | None = None
    account_code: Template | None = None
    side: SideName
    amount: Template


class RuleBody(Body):
    """PUT /v1/ledgers/{id}/posting-rules/{event_type}."""

    lines: Annotated[
        list[RuleLineBody],
        Field(min_length=limits.lines_per_entry_min, max_length=limits.lines_per_entry_max),
    ]
    reference: Template | None = None
    description: Template | None = None

    def rule_lines(self) -> list[dict[str, Any]]:
        """The lines as the library takes them."""
        return [line.model_dump(exclude_none=True) for line in self.lines]


class DryRunBody(Body):
    """POST /v1/ledgers/{id}/posting-rules/{event_type}/dry-run: an inbound event as a
    producer sends it, `{id, type, ledger_id, occurred_at, data}`."""

    event: dict[str, Any]
