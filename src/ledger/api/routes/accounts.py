"""Accounts: open, read with balance, list, change, and the balance alone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from ledger.api.bodies import (
    AccountChanges,
    AccountTypeName,
    Id,
    NewAccount,
    OverdraftBody,
    plain_rule,
)
from ledger.api.routing import Cursor, IdempotencyKey, Limit, Router, answers, reply
from ledger.api.views import AccountPage, AccountView, BalanceView
from ledger.auth.api_keys import Role
from ledger.domain import limits
from ledger.domain.errors import ValidationError
from ledger.domain.ids import ledger_token, parse_account_id
from ledger.domain.model import OverdraftMode
from ledger.domain.views import account_view, balance_view

router = Router()


def _renamed(error: ValidationError) -> ValidationError:
    # The library names the credit limit as its own argument; the API nests it in the
    # policy. (The body's mode is checked by its model, so a library refusal on
    # `overdraft` is about the request as a whole and keeps its name.)
    field = {"credit_limit": "overdraft.limit"}.get(error.field)
    if field is None:
        return error
    return ValidationError(field, error.message)


@router.post(
    "/v1/accounts",
    responses=answers(201, AccountView, "The account"),
    summary="Open an account",
    tags=["accounts"],
)
def create_account(
    body: NewAccount, idempotency_key: IdempotencyKey = None
) -> Response[AccountView]:
    """Open an account; its currency's `world` account comes into being with it."""
    runtime = router.runtime()
    ledger_token(body.ledger_id)
    overdraft = body.overdraft or OverdraftBody(mode=OverdraftMode.FORBID)
    # A floor other than zero is a credit line: granting one is an admin's, as changing it is.
    role = Role.OPERATOR if overdraft.mode is OverdraftMode.FORBID else Role.ADMIN
    router.require_write(role, ledger_ids=[body.ledger_id])
    try:
        account = runtime.ledger.create_account(
            body.ledger_id,
            body.name,
            body.type,
            body.currency,
            code=body.code,
            parent_id=body.parent_id,
            owner_id=body.owner_id,
            metadata=body.metadata,
            idempotency_key=idempotency_key,
            overdraft=overdraft.mode,
            credit_limit=overdraft.limit,
            shards=body.shards,
        )
    except ValidationError as error:
        raise _renamed(error) from None
    return reply(201, account_view(account), replayed=account.replayed)


def _readable(account_id: str) -> None:
    ledger_id = parse_account_id(account_id).ledger_id
    router.runtime().scope.read(router.caller(), ledger_id, "account", account_id)


@router.get(
    "/v1/accounts/<account_id>",
    responses=answers(200, AccountView, "The account with its balance"),
    summary="Read an account with its balance",
    tags=["accounts"],
)
def get_account(account_id: str) -> Response[AccountView]:
    """An account with its current balance (a strongly consistent read)."""
    _readable(account_id)
    return reply(200, account_view(router.runtime().ledger.get_account(account_id)))


@router.get(
    "/v1/accounts/<account_id>/balance",
    responses=answers(200, BalanceView, "The balance now"),
    summary="Read an account's balance",
    tags=["accounts"],
)
def get_balance(account_id: str) -> Response[BalanceView]:
    """An account's balance now (one strongly consistent read), or as recorded at `at`
    and/or effective at `effective_at` (RFC 3339 times), from its history."""
    query = router.current_event.query_string_parameters or {}
    at, effective_at = (time_parameter(axis, query.get(axis)) for axis in ("at", "effective_at"))
    _readable(account_id)
    balance = router.runtime().ledger.get_balance(account_id, at=at, effective_at=effective_at)
    return reply(200, balance_view(balance))


def time_parameter(name: str, text: str | None) -> datetime | None:
    """A query parameter's RFC 3339 time with its offset, in UTC."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValidationError(name, f"{name} must be an RFC 3339 time") from None
    if moment.tzinfo is None:
        raise ValidationError(name, f"{name} must carry a time zone offset, as `Z`")
    return moment.astimezone(UTC)


@router.get(
    "/v1/accounts",
    responses=answers(200, AccountPage, "A page of accounts"),
    summary="List a ledger's accounts",
    tags=["accounts"],
)
def list_accounts(
    *,
    ledger_id: Annotated[str, Query(min_length=1, max_length=limits.name_length_max), plain_rule],
    type: Annotated[AccountTypeName | None, Query()] = None,
    owner_id: Annotated[Id | None, Query(max_length=limits.owner_id_length_max)] = None,
    parent_id: Annotated[Id | None, Query()] = None,
    limit: Limit = limits.page_size_default,
    cursor: Cursor = None,
) -> Response[AccountPage]:
    """A ledger's accounts, optionally of one type, one owner or one parent."""
    runtime = router.runtime()
    ledger_token(ledger_id)
    caller = router.caller()
    runtime.scope.read(caller, ledger_id, "ledger", ledger_id)
    page = runtime.ledger.list_accounts(
        ledger_id,
        type=type,
        owner_id=owner_id,
        parent_id=parent_id,
        limit=limit,
        cursor=cursor,
        caller=caller.key_id,
    )
    return reply(
        200,
        {"items": [account_view(item) for item in page.items], "next_cursor": page.next_cursor},
    )


@router.patch(
    "/v1/accounts/<account_id>",
    responses=answers(200, AccountView, "The account as changed"),
    summary="Change an account's name, metadata, status or overdraft",
    tags=["accounts"],
)
def change_account(account_id: str, body: AccountChanges) -> Response[AccountView]:
    """Rename, re-describe, and (admin) suspend, close or change the overdraft policy.

    All or nothing: status and overdraft are guarded writes, so a request carries at most
    one of them and it goes first; name and metadata, checked beforehand, follow it.
    """
    runtime = router.runtime()
    admin_only = body.status is not None or body.overdraft is not None
    router.require_write(Role.ADMIN if admin_only else Role.OPERATOR, account_ids=[account_id])
    if not (admin_only or body.name is not None or body.metadata is not None):
        raise ValidationError("body", "name, status, overdraft or metadata is required")
    overdraft = body.overdraft
    try:
        account = runtime.ledger.update_account(
            account_id,
            name=body.name,
            status=body.status,
            overdraft=None if overdraft is None else overdraft.mode,
            credit_limit=None if overdraft is None else overdraft.limit,
            metadata=body.metadata,
        )
    except ValidationError as error:
        raise _renamed(error) from None
    return reply(200, account_view(account))
