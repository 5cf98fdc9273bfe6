"""Posting rules: inbound events turned into entries, each through the guarded write path.

An event posts at most once: its entry's id derives from the ledger and the event's id,
so the entry item is the event's idempotency record. The entry's request hash is the
event's content (not the rule's), so a redelivery answers the entry first posted even
after the rule changed, and another event under a used id is refused.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from ledger.domain import limits, validate
from ledger.domain.errors import (
    Conflict,
    IdempotencyKeyReused,
    InternalError,
    NotFound,
    ValidationError,
)
from ledger.domain.ids import ledger_token, new_entry_id, parse_account_id
from ledger.domain.model import (
    Account,
    AccountShard,
    Actor,
    Entry,
    EntryKind,
    Page,
    RuleOrigin,
)
from ledger.domain.money import parse_amount
from ledger.domain.posting_rules import (
    InboundEvent,
    PostingRule,
    RenderedLine,
    RuleLine,
    checked_event,
    event_type,
    optional_template,
    render_lines,
    render_text,
    rule_lines,
)
from ledger.domain.timestamps import timestamp
from ledger.planning.commands import EntryOptions, LineDraft, entry_command, page_size
from ledger.planning.entries import plan_entry
from ledger.planning.hashing import request_hash
from ledger.planning.steps import ApplyDelta, Target, WritePlan
from ledger.service.base import LedgerBase
from ledger.store.rules import KeepsRules, RuleStore, RuleVersionTaken

# A PUT that loses the race for its version reads the new latest and tries once more.
rule_put_attempts_max = 2


def event_key(event_id: str) -> str:
    """The idempotency key of an inbound event's entry. The NUL cannot appear in an HTTP
    `Idempotency-Key`, so no request to the API can name an event's entry."""
    return f"event\0{event_id}"


def event_hash(event: InboundEvent) -> str:
    """What makes a redelivery the same event: everything the producer sent."""
    return request_hash(
        {
            "event_id": event.id,
            "type": event.type,
            "ledger_id": event.ledger_id,
            "occurred_at": timestamp(event.occurred_at),
            "data": event.data,
        }
    )


class Rules(LedgerBase):
    """Posting rules, their versions, and the entries inbound events post through them."""

    def _rules(self) -> RuleStore:
        store = self._store
        if not isinstance(store, KeepsRules):
            raise InternalError("this store keeps no posting rules")
        return store.rules

    def put_rule(
        self,
        ledger_id: str,
        event_type_name: str,
        lines: Sequence[RuleLine | Mapping[str, Any]],
        *,
        reference: str | None = None,
        description: str | None = None,
    ) -> PostingRule:
        """Store a new version of the ledger's rule for an event type (the first is 1)."""
        self.get_ledger(ledger_id)
        checked_type = event_type(event_type_name)
        checked_lines = rule_lines(lines)
        for index, line in enumerate(checked_lines):
            _check_static_account(ledger_id, index, line)
        checked_reference = optional_template("reference", reference, limits.template_length_max)
        checked_description = optional_template(
            "description", description, limits.template_length_max
        )
        rules = self._rules()
        for _ in range(rule_put_attempts_max):
            latest = rules.latest(ledger_id, checked_type)
            if latest is not None and latest.version >= limits.rule_version_max:
                raise ValidationError(
                    "event_type", f"the rule has {limits.rule_version_max} versions, the most kept"
                )
            rule = PostingRule(
                event_type=checked_type,
                ledger_id=ledger_id,
                version=1 if latest is None else latest.version + 1,
                lines=checked_lines,
                created_at=self._clock(),
                reference=checked_reference,
                description=checked_description,
            )
            try:
                rules.add(rule)
            except RuleVersionTaken:
                continue
            return rule
        raise Conflict(
            "another change of this posting rule was written at the same time; retry",
            {"outcome": "not_applied"},
        )

    def get_rule(
        self, ledger_id: str, event_type_name: str, version: int | None = None
    ) -> PostingRule:
        """The latest version of the ledger's rule for an event type, or one version."""
        ledger_token(ledger_id)
        checked_type = _known_type(event_type_name)
        rules = self._rules()
        if version is None:
            rule = rules.latest(ledger_id, checked_type)
        else:
            if (
                isinstance(version, bool)
                or not isinstance(version, int)
                or not 1 <= version <= limits.rule_version_max
            ):
                raise ValidationError(
                    "version", f"version must be a whole number from 1 to {limits.rule_version_max}"
                )
            rule = rules.version(ledger_id, checked_type, version)
        if rule is None:
            raise NotFound("posting_rule", checked_type)
        return rule

    def list_rules(
        self,
        ledger_id: str,
        *,
        limit: int = limits.page_size_default,
        cursor: str | None = None,
        caller: str | None = None,
    ) -> Page[PostingRule]:
        """The latest rule of every event type of the ledger, by event type."""
        ledger_token(ledger_id)
        checked_caller = validate.optional_text("caller", caller, limits.name_length_max)
        return self._rules().page(ledger_id, page_size(limit), cursor, checked_caller)

    def post_event(self, event: InboundEvent, actor: Actor | None = None) -> Entry:
        """Post the entry the latest rule for the event's type makes, once per event id: the
        same event again answers the entry it posted (`replayed`); another event under the
        same id is refused (`idempotency_key_reused`)."""
        entry, plan = self._event_plan(event, actor)
        return self._write(entry, plan, event_key(event.id), refusal=_reused(event.id))

    def dry_run_event(self, event: InboundEvent) -> Entry:
        """The entry `post_event` would answer, with its refusals, writing nothing: every
        guard of its write is checked against the accounts as they are now."""
        entry, plan = self._event_plan(event, None)
        existing = self._store.get(Target("entry", entry.id), Entry)
        if existing is not None:
            if existing.request_hash != entry.request_hash:
                raise _reused(event.id)
            return replace(existing, replayed=True)
        for step in plan.steps:
            if isinstance(step, ApplyDelta):
                violation = step.violation(self._item_of(step))
                if violation is not None:
                    raise violation
        return entry

    def _item_of(self, step: ApplyDelta) -> Account | AccountShard | None:
        for item in self._store.items(step.account_id, step.shards):
            index = item.index if isinstance(item, AccountShard) else 0
            if index == step.shard:
                return item
        return None

    def _event_plan(self, event: InboundEvent, actor: Actor | None) -> tuple[Entry, WritePlan]:
        if not isinstance(event, InboundEvent):
            raise ValidationError("event", "event must be an InboundEvent")
        event = checked_event(event)
        ledger_id = event.ledger_id
        rule = self._rules().latest(ledger_id, event.type)
        if rule is None:
            raise NotFound("posting_rule", event.type)
        drafts = [
            self._draft(ledger_id, index, line)
            for index, line in enumerate(render_lines(rule, event.data))
        ]
        options: EntryOptions = {
            "description": render_text("description", rule.description, event.data),
            "reference": render_text("reference", rule.reference, event.data),
            "effective_at": event.occurred_at,
            "metadata": {"event_id": event.id, "event_type": event.type},
            "actor": actor,
        }
        entry_id = new_entry_id(ledger_id, event_key(event.id))
        command = entry_command(entry_id, ledger_id, EntryKind.ENTRY, drafts, options, pending=None)
        command = replace(
            command,
            posting_rule=RuleOrigin(rule.event_type, rule.version, event.id),
            request_hash=event_hash(event),
        )
        return plan_entry(command, self._clock())

    def _draft(self, ledger_id: str, index: int, line: RenderedLine) -> LineDraft:
        field = f"lines[{index}]"
        if line.account_code is not None:
            account_id = self._account_of_code(
                ledger_id, f"{field}.account_code", line.account_code
            )
        else:
            account_id = validate.text(
                f"{field}.account_id", line.account_id, limits.name_length_max
            )
        account = parse_account_id(account_id)
        return LineDraft(
            account, line.side, parse_amount(line.amount, account.currency, f"{field}.amount")
        )

    def _account_of_code(self, ledger_id: str, field: str, code: str) -> str:
        checked = validate.text(field, code, limits.code_length_max)
        account_id = self._rules().account_of_code(ledger_id, checked)
        if account_id is None:
            raise NotFound("account_code", checked)
        return account_id


def _reused(event_id: str) -> IdempotencyKeyReused:
    return IdempotencyKeyReused(
        f"event {event_id} was already posted with other content",
        {"field": "id", "event_id": event_id},
    )


def _check_static_account(ledger_id: str, index: int, line: RuleLine) -> None:
    """A line's account id without placeholders must be one of the ledger's ids."""
    account_id = line.account_id
    if account_id is None or "{{" in account_id:
        return
    field = f"lines[{index}].account_id"
    try:
        account = parse_account_id(account_id)
    except NotFound:
        raise ValidationError(field, f"{account_id!r} is no account id") from None
    if account.ledger_id != ledger_id:
        raise ValidationError(field, f"account {account_id} is not of ledger {ledger_id}")


def _known_type(value: str) -> str:
    """An event type to look up: one no rule can have is simply not found."""
    try:
        return event_type(value)
    except ValidationError:
        raise NotFound("posting_rule", str(value)) from None
