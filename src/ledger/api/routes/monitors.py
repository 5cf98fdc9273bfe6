"""Monitors of an account's balance and of its large entries: create, list, delete."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from ledger.api.bodies import NewMonitor
from ledger.api.monitor_views import MonitorPage, MonitorView, monitor_page_view
from ledger.api.routing import Cursor, IdempotencyKey, Limit, Router, answers, reply
from ledger.auth.api_keys import Role
from ledger.domain import limits
from ledger.domain.ids import parse_account_id
from ledger.domain.views import monitor_view

router = Router()


@router.post(
    "/v1/accounts/<account_id>/monitors",
    responses=answers(201, MonitorView, "The monitor, evaluated at the balance now"),
    summary="Create a monitor of an account",
    tags=["monitors"],
)
def create_monitor(
    account_id: str, body: NewMonitor, idempotency_key: IdempotencyKey = None
) -> Response[MonitorView]:
    """A balance monitor (edge-triggered: one `ledger.monitor.triggered` per crossing, one
    `ledger.monitor.resolved` per crossing back) or an `entry_amount` monitor (one
    `ledger.monitor.triggered` per entry whose amount on the account satisfies it)."""
    router.require_write(Role.OPERATOR, account_ids=[account_id])
    monitor = router.runtime().ledger.create_monitor(
        account_id,
        body.field,
        body.operator,
        body.value,
        description=body.description,
        idempotency_key=idempotency_key,
    )
    return reply(201, monitor_view(monitor), replayed=monitor.replayed)


@router.get(
    "/v1/accounts/<account_id>/monitors",
    responses=answers(200, MonitorPage, "A page of the account's monitors"),
    summary="List an account's monitors",
    tags=["monitors"],
)
def list_monitors(
    account_id: str, limit: Limit = limits.page_size_default, cursor: Cursor = None
) -> Response[MonitorPage]:
    """The account's monitors, oldest first, each with its state."""
    _readable(account_id)
    page = router.runtime().ledger.list_monitors(
        account_id, limit=limit, cursor=cursor, caller=router.caller().key_id
    )
    return reply(200, monitor_page_view(page))


@router.delete(
    "/v1/accounts/<account_id>/monitors/<monitor_id>",
    responses=answers(200, MonitorView, "The monitor, removed"),
    summary="Delete a monitor",
    tags=["monitors"],
)
def delete_monitor(account_id: str, monitor_id: str) -> Response[MonitorView]:
    """Remove a monitor; it emits nothing from then on."""
    router.require_write(Role.OPERATOR, account_ids=[account_id])
    return reply(200, monitor_view(router.runtime().ledger.delete_monitor(account_id, monitor_id)))


def _readable(account_id: str) -> None:
    ledger_id = parse_account_id(account_id).ledger_id
    router.runtime().scope.read(router.caller(), ledger_id, "account", account_id)
