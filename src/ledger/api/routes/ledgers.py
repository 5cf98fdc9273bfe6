"""Ledgers: create, read, list; their reports."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from ledger.api.bodies import NewLedger, OwnerId
from ledger.api.observability import count, logger
from ledger.api.report_views import (
    BalanceSheetView,
    ReconciliationView,
    TrialBalanceView,
    balance_sheet_view,
    trial_balance_view,
)
from ledger.api.routing import Cursor, IdempotencyKey, Limit, Router, answers, reply
from ledger.api.views import LedgerPage, LedgerView
from ledger.auth.api_keys import Role
from ledger.domain import limits
from ledger.domain.errors import Forbidden
from ledger.domain.views import ledger_view, reconciliation_view

router = Router()

Currency = Annotated[
    str, Query(min_length=1, max_length=limits.currency_code_length_max, description="e.g. USD")
]


@router.post(
    "/v1/ledgers",
    responses=answers(201, LedgerView, "The ledger"),
    summary="Create a ledger",
    tags=["ledgers"],
)
def create_ledger(body: NewLedger, idempotency_key: IdempotencyKey = None) -> Response[LedgerView]:
    """Create a ledger, a namespace of accounts and entries."""
    caller = router.caller()
    caller.require(Role.OPERATOR)
    if caller.ledger_ids:
        raise Forbidden("a key limited to named ledgers cannot create ledgers")
    owner_id = body.owner_id
    if caller.owner_id is not None:
        if owner_id not in (None, caller.owner_id):
            raise Forbidden(
                "the API key may only create ledgers of its own owner",
                {"owner_id": caller.owner_id},
            )
        owner_id = caller.owner_id
    record = router.runtime().ledger.create_ledger(
        body.name,
        owner_id=owner_id,
        metadata=body.metadata,
        idempotency_key=idempotency_key,
        world_shards=body.world_shards,
    )
    return reply(201, ledger_view(record), replayed=record.replayed)


@router.get(
    "/v1/ledgers/<ledger_id>",
    responses=answers(200, LedgerView, "The ledger"),
    summary="Read a ledger",
    tags=["ledgers"],
)
def get_ledger(ledger_id: str) -> Response[LedgerView]:
    """A ledger by id."""
    runtime = router.runtime()
    runtime.scope.read(router.caller(), ledger_id, "ledger", ledger_id)
    return reply(200, ledger_view(runtime.ledger.get_ledger(ledger_id)))


@router.get(
    "/v1/ledgers",
    responses=answers(200, LedgerPage, "A page of ledgers"),
    summary="List ledgers",
    tags=["ledgers"],
)
def list_ledgers(
    owner_id: Annotated[
        OwnerId | None, Query(description="Only this owner's ledgers (default: every one).")
    ] = None,
    limit: Limit = limits.page_size_default,
    cursor: Cursor = None,
) -> Response[LedgerPage]:
    """The ledgers in the caller's scope, oldest first; with `owner_id`, that owner's. A
    listing outside the scope is the empty listing, whether or not the owner exists."""
    caller = router.caller()
    named = caller.ledger_ids or None
    owner = owner_id or caller.owner_id
    if caller.owner_id is not None and owner != caller.owner_id:
        # Another owner's ledgers are all outside the key's scope: none of them is listed.
        named = frozenset()
    page = router.runtime().ledger.list_ledgers(
        owner, ledger_ids=named, limit=limit, cursor=cursor, caller=caller.key_id
    )
    items = [ledger_view(record) for record in page.items]
    return reply(200, {"items": items, "next_cursor": page.next_cursor})


@router.get(
    "/v1/ledgers/<ledger_id>/trial-balance",
    responses=answers(200, TrialBalanceView, "The trial balance"),
    summary="A ledger's trial balance in one currency",
    tags=["reports"],
)
def trial_balance(ledger_id: str, currency: Currency) -> Response[TrialBalanceView]:
    """Every account of one currency with its posted debit or credit balance, and the sums."""
    runtime = router.runtime()
    runtime.scope.read(router.caller(), ledger_id, "ledger", ledger_id)
    return reply(200, trial_balance_view(runtime.ledger.trial_balance(ledger_id, currency)))


@router.get(
    "/v1/ledgers/<ledger_id>/balance-sheet",
    responses=answers(200, BalanceSheetView, "The balance sheet"),
    summary="A ledger's balance sheet in one currency",
    tags=["reports"],
)
def balance_sheet(ledger_id: str, currency: Currency) -> Response[BalanceSheetView]:
    """The chart of accounts per type with rolled-up totals; `balanced` checks A = L + E."""
    runtime = router.runtime()
    runtime.scope.read(router.caller(), ledger_id, "ledger", ledger_id)
    return reply(200, balance_sheet_view(runtime.ledger.balance_sheet(ledger_id, currency)))


@router.post(
    "/v1/ledgers/<ledger_id>/reconciliations",
    responses=answers(200, ReconciliationView, "What the reconciliation found"),
    summary="Reconcile a ledger against its journal",
    tags=["reports"],
)
def reconcile(ledger_id: str) -> Response[ReconciliationView]:
    """Check conservation per currency and recompute every account from the journal;
    report every mismatch, fix nothing."""
    runtime = router.runtime()
    caller = router.caller()
    runtime.scope.read(caller, ledger_id, "ledger", ledger_id)
    caller.require(Role.OPERATOR)
    report = runtime.ledger.reconcile(ledger_id)
    if not report.ok:
        logger.warning("reconciliation found mismatches", extra={"ledger_id": ledger_id})
        count("ReconciliationMismatches", len(report.mismatches))
    return reply(200, reconciliation_view(report))
