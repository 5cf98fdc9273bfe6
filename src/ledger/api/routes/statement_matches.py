"""Statement matching: the rows of an outside statement paired with an account's entries."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from ledger.api.match_bodies import NewStatementMatch
from ledger.api.match_views import StatementMatchView, statement_match_view
from ledger.api.routing import Router, answers, reply
from ledger.auth.api_keys import Role

router = Router()


@router.post(
    "/v1/ledgers/<ledger_id>/statement-matches",
    responses=answers(200, StatementMatchView, "The run's matches and what it left unmatched"),
    summary="Match a statement against an account's entries",
    tags=["reconciliation"],
)
def match_statement(ledger_id: str, body: NewStatementMatch) -> Response[StatementMatchView]:
    """Pair the rows with the account's entries that moved its posted balance, effective
    within the rows' dates widened by the date tolerance. Unless `dry_run`, the matches are
    recorded, so no row and no entry is matched twice across runs."""
    router.require_write(Role.OPERATOR, ledger_ids=[ledger_id], account_ids=[body.account_id])
    run = router.runtime().ledger.match_statement(
        ledger_id,
        body.account_id,
        body.source,
        [row.model_dump(exclude_none=True) for row in body.rows],
        rules=None if body.rules is None else body.rules.given(),
        dry_run=body.dry_run,
        actor=router.actor(),
    )
    return reply(200, statement_match_view(run))
