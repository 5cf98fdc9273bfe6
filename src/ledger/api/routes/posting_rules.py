"""Posting rules: put a new version (admin), read them (reader), dry-run an event (operator)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from ledger.api.routing import Cursor, Limit, Router, answers, reply
from ledger.api.rule_bodies import DryRunBody, RuleBody
from ledger.api.rule_views import (
    DryRunEntryView,
    PostingRulePage,
    PostingRuleView,
    dry_run_view,
    rule_view,
)
from ledger.api.views import page_view
from ledger.auth.api_keys import Role
from ledger.domain import limits
from ledger.domain.errors import ValidationError
from ledger.domain.ids import ledger_token
from ledger.domain.posting_rules import InboundEvent, parse_inbound_event

router = Router()

Version = Annotated[
    int | None,
    Query(
        ge=1,
        le=limits.rule_version_max,
        description="One version of the rule (default: the latest).",
    ),
]


@router.put(
    "/v1/ledgers/<ledger_id>/posting-rules/<event_type>",
    responses=answers(200, PostingRuleView, "The rule's new version"),
    summary="Put a new version of a posting rule",
    tags=["posting rules"],
)
def put_rule(ledger_id: str, event_type: str, body: RuleBody) -> Response[PostingRuleView]:
    """Turn inbound events of this type into entries; each PUT is the next version (admin)."""
    ledger_token(ledger_id)
    router.require_write(Role.ADMIN, ledger_ids=[ledger_id])
    rule = router.runtime().ledger.put_rule(
        ledger_id,
        event_type,
        body.rule_lines(),
        reference=body.reference,
        description=body.description,
    )
    return reply(200, rule_view(rule))


@router.get(
    "/v1/ledgers/<ledger_id>/posting-rules",
    responses=answers(200, PostingRulePage, "A page of posting rules"),
    summary="List a ledger's posting rules",
    tags=["posting rules"],
)
def list_rules(
    ledger_id: str, limit: Limit = limits.page_size_default, cursor: Cursor = None
) -> Response[PostingRulePage]:
    """The latest version of each of the ledger's rules, by event type."""
    runtime = router.runtime()
    caller = router.caller()
    runtime.scope.read(caller, ledger_id, "ledger", ledger_id)
    page = runtime.ledger.list_rules(ledger_id, limit=limit, cursor=cursor, caller=caller.key_id)
    return reply(200, page_view(page, rule_view))


@router.get(
    "/v1/ledgers/<ledger_id>/posting-rules/<event_type>",
    responses=answers(200, PostingRuleView, "The posting rule"),
    summary="Read a posting rule",
    tags=["posting rules"],
)
def get_rule(ledger_id: str, event_type: str, version: Version = None) -> Response[PostingRuleView]:
    """The latest version of the ledger's rule for an event type, or the version asked."""
    runtime = router.runtime()
    runtime.scope.read(router.caller(), ledger_id, "posting_rule", event_type)
    return reply(200, rule_view(runtime.ledger.get_rule(ledger_id, event_type, version)))


@router.post(
    "/v1/ledgers/<ledger_id>/posting-rules/<event_type>/dry-run",
    responses=answers(200, DryRunEntryView, "The entry the event would post"),
    summary="Dry-run an inbound event through its posting rule",
    tags=["posting rules"],
)
def dry_run(ledger_id: str, event_type: str, body: DryRunBody) -> Response[DryRunEntryView]:
    """The entry the event would post, refused as a real one would be; nothing is written
    (operator: it shows what the accounts can cover)."""
    ledger_token(ledger_id)
    router.require_write(Role.OPERATOR, ledger_ids=[ledger_id])
    event = _event(body.event, ledger_id, event_type)
    return reply(200, dry_run_view(router.runtime().ledger.dry_run_event(event)))


def _event(body: dict[str, object], ledger_id: str, event_type: str) -> InboundEvent:
    """The body's event, which must be of the path's ledger and type."""
    try:
        event = parse_inbound_event(body)
    except ValidationError as error:
        raise ValidationError(f"event.{error.field}", error.message) from None
    if event.ledger_id != ledger_id:
        raise ValidationError("event.ledger_id", "the event is of another ledger than the path's")
    if event.type != event_type:
        raise ValidationError("event.type", "the event is of another type than the path's")
    return event
