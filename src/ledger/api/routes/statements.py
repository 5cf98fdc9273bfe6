"""An account's statement: its changes between two moments with running balances."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from ledger.api.routes.accounts import time_parameter
from ledger.api.routing import Cursor, Limit, Router, answers, reply
from ledger.api.statement_views import StatementView, statement_view
from ledger.domain import limits
from ledger.domain.ids import parse_account_id

router = Router()


@router.get(
    "/v1/accounts/<account_id>/statement",
    responses=answers(200, StatementView, "A page of the account's statement"),
    summary="Read an account's statement",
    tags=["accounts"],
)
def get_statement(
    account_id: str, limit: Limit = limits.page_size_default, cursor: Cursor = None
) -> Response[StatementView]:
    """The account's changes from `from` (inclusive) to `to` (exclusive, or now), oldest
    first, on the recorded (`created_at`) or effective (`effective_at`) basis, each with
    the balance after it, between the balances just before `from` and just before `to`."""
    query = router.current_event.query_string_parameters or {}
    start, end = (time_parameter(name, query.get(name)) for name in ("from", "to"))
    basis = query.get("basis", "recorded")
    ledger_id = parse_account_id(account_id).ledger_id
    router.runtime().scope.read(router.caller(), ledger_id, "account", account_id)
    statement = router.runtime().ledger.statement(
        account_id,
        start=start,
        end=end,
        basis=basis,
        limit=limit,
        cursor=cursor,
        caller=router.caller().key_id,
    )
    return reply(200, statement_view(statement))
