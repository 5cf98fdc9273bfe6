"""External balance checks of a ledger: check one against the outside world, list them."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from ledger.api.external_bodies import ExternalBalanceBody, SourceName
from ledger.api.external_views import (
    ExternalCheckPage,
    ExternalCheckView,
    external_check_page_view,
)
from ledger.api.observability import count, logger
from ledger.api.routing import Cursor, IdempotencyKey, Limit, Router, answers, reply
from ledger.auth.api_keys import Role
from ledger.domain import limits
from ledger.domain.views import external_check_view

router = Router()


@router.post(
    "/v1/ledgers/<ledger_id>/external-balances",
    responses=answers(201, ExternalCheckView, "The check, as stored"),
    summary="Check a ledger against a balance held outside it",
    tags=["reconciliation"],
)
def check_external_balance(
    ledger_id: str, body: ExternalBalanceBody, idempotency_key: IdempotencyKey = None
) -> Response[ExternalCheckView]:
    """Compare what a source (a bank, a chain, a processor) reports with the sum of
    `posted` of the named accounts, or of every account of a type in the currency, now or
    as recorded at `as_of`. Every check is stored; one outside its tolerance emits
    `ledger.reconciliation.mismatch`."""
    router.require_write(Role.OPERATOR, ledger_ids=[ledger_id])
    check = router.runtime().ledger.check_external_balance(
        ledger_id,
        body.source,
        body.currency,
        body.amount,
        as_of=body.as_of,
        account_ids=body.account_ids,
        account_type=body.account_type,
        tolerance=body.tolerance,
        actor=router.caller().key_id,
        idempotency_key=idempotency_key,
    )
    if not check.within_tolerance and not check.replayed:
        logger.warning(
            "external balance outside tolerance",
            extra={"ledger_id": ledger_id, "source": check.source, "check_id": check.id},
        )
        count("ReconciliationMismatches")
    return reply(201, external_check_view(check), replayed=check.replayed)


@router.get(
    "/v1/ledgers/<ledger_id>/external-balances",
    responses=answers(200, ExternalCheckPage, "A page of the ledger's checks"),
    summary="List a ledger's external balance checks",
    tags=["reconciliation"],
)
def list_external_checks(
    ledger_id: str,
    source: Annotated[SourceName | None, Query(description="Only this source's checks.")] = None,
    limit: Limit = limits.page_size_default,
    cursor: Cursor = None,
) -> Response[ExternalCheckPage]:
    """The ledger's checks by source name, newest first within each source."""
    runtime = router.runtime()
    runtime.scope.read(router.caller(), ledger_id, "ledger", ledger_id)
    page = runtime.ledger.list_external_checks(
        ledger_id, source=source, limit=limit, cursor=cursor, caller=router.caller().key_id
    )
    return reply(200, external_check_page_view(page))
