"""The journal: raw entries, their two-phase resolution and reversals."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from ledger.api.bodies import AmountOptional, Id, NewEntry, Reference, ReversalBody
from ledger.api.routing import (
    Cursor,
    IdempotencyKey,
    Limit,
    Router,
    answers,
    entry_reply,
    reply,
)
from ledger.api.views import EntryPage, EntryView
from ledger.auth.api_keys import Role
from ledger.domain import limits
from ledger.domain.errors import ValidationError
from ledger.domain.ids import entry_ledger_id, ledger_token, parse_account_id
from ledger.domain.inputs import LineInput
from ledger.domain.views import entry_view

router = Router()


@router.post(
    "/v1/entries",
    responses=answers(201, EntryView, "The entry"),
    summary="Create a journal entry, posted or pending",
    tags=["journal"],
)
def create_entry(body: NewEntry, idempotency_key: IdempotencyKey = None) -> Response[EntryView]:
    """Post a balanced multi-line entry, or create it pending (two-phase)."""
    ledger_token(body.ledger_id)
    router.require_write(
        Role.OPERATOR,
        ledger_ids=[body.ledger_id],
        account_ids=[line.account_id for line in body.lines],
    )
    entry = router.runtime().ledger.create_entry(
        body.ledger_id,
        [LineInput(line.account_id, line.side, line.amount, line.currency) for line in body.lines],
        pending=body.pending is not None,
        expires_in=None if body.pending is None else body.pending.expires_in,
        idempotency_key=idempotency_key,
        actor=router.actor(),
        **body.options(),
    )
    return entry_reply(201, entry)


def _readable(entry_id: str) -> None:
    ledger_id = entry_ledger_id(entry_id)
    router.runtime().scope.read(router.caller(), ledger_id, "entry", entry_id)


@router.get(
    "/v1/entries/<entry_id>",
    responses=answers(200, EntryView, "The entry"),
    summary="Read an entry",
    tags=["journal"],
)
def get_entry(entry_id: str) -> Response[EntryView]:
    """An entry by id."""
    _readable(entry_id)
    return reply(200, entry_view(router.runtime().ledger.get_entry(entry_id)))


@router.get(
    "/v1/entries",
    responses=answers(200, EntryPage, "A page of entries"),
    summary="List entries of a ledger, a reference or an account",
    tags=["journal"],
)
def list_entries(
    *,
    ledger_id: Annotated[Id | None, Query()] = None,
    reference: Annotated[Reference | None, Query()] = None,
    account_id: Annotated[Id | None, Query()] = None,
    limit: Limit = limits.page_size_default,
    cursor: Cursor = None,
) -> Response[EntryPage]:
    """A ledger's entries, newest first; optionally one reference's or one account's."""
    runtime = router.runtime()
    if ledger_id is None:
        if account_id is None:
            raise ValidationError("ledger_id", "ledger_id (or account_id) is required")
        ledger_id = parse_account_id(account_id).ledger_id
    ledger_token(ledger_id)
    caller = router.caller()
    runtime.scope.read(caller, ledger_id, "ledger", ledger_id)
    page = runtime.ledger.list_entries(
        ledger_id,
        reference=reference,
        account_id=account_id,
        limit=limit,
        cursor=cursor,
        caller=caller.key_id,
    )
    return reply(
        200, {"items": [entry_view(item) for item in page.items], "next_cursor": page.next_cursor}
    )


@router.post(
    "/v1/entries/<entry_id>/post",
    responses=answers(200, EntryView, "The pending entry, now posted"),
    summary="Post a pending entry, fully or for less",
    tags=["journal"],
)
def post_entry(entry_id: str, body: AmountOptional | None = None) -> Response[EntryView]:
    """Post a pending entry, fully or (two lines) for less; the rest is released.

    Idempotent without a key: the posting's id derives from the pending entry's."""
    router.require_write(Role.OPERATOR, entry_ids=[entry_id])
    amount = None if body is None else body.amount
    return entry_reply(
        200, router.runtime().ledger.post_entry(entry_id, amount, actor=router.actor())
    )


@router.post(
    "/v1/entries/<entry_id>/void",
    responses=answers(200, EntryView, "The entry, now voided"),
    summary="Void a pending entry",
    tags=["journal"],
)
def void_entry(entry_id: str) -> Response[EntryView]:
    """Release a pending entry entirely."""
    router.require_write(Role.OPERATOR, entry_ids=[entry_id])
    return entry_reply(200, router.runtime().ledger.void_entry(entry_id))


@router.post(
    "/v1/entries/<entry_id>/reverse",
    responses=answers(201, EntryView, "The reversal entry"),
    summary="Reverse an entry",
    tags=["journal"],
)
def reverse_entry(entry_id: str, body: ReversalBody | None = None) -> Response[EntryView]:
    """Post the mirror of an entry, linked both ways (admin).

    Idempotent without a key: the reversal's id derives from the original's."""
    router.require_write(Role.ADMIN, entry_ids=[entry_id])
    description = None if body is None else body.description
    reversal = router.runtime().ledger.reverse_entry(
        entry_id, description=description, actor=router.actor()
    )
    return entry_reply(201, reversal)
