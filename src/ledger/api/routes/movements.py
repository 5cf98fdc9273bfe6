"""Money movements, each creating one entry: presets, holds, escrows, conversions, batches."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.event_handler import Response

from ledger.api.batch_bodies import BatchBody, operation_command
from ledger.api.bodies import (
    AmountOptional,
    ConversionBody,
    EscrowBody,
    HoldBody,
    OneAccountMove,
    TransferBody,
)
from ledger.api.routing import IdempotencyKey, Router, answers, entry_reply, reply
from ledger.api.views import BatchView, EntryView
from ledger.auth.api_keys import Role
from ledger.domain.model import Entry
from ledger.domain.views import entry_view
from ledger.planning.batch import RawEntry

router = Router()


def _one_account_move(path: str, summary: str, method: str) -> None:
    """Register a deposit-like route: one account, an amount, an optional counterparty."""

    @router.post(
        path, responses=answers(201, EntryView, "The entry"), summary=summary, tags=["operations"]
    )
    def move(body: OneAccountMove, idempotency_key: IdempotencyKey = None) -> Response[EntryView]:
        router.require_write(
            Role.OPERATOR, account_ids=[body.account_id, body.counterparty_account_id]
        )
        action: Callable[..., Entry] = getattr(router.runtime().ledger, method)
        entry = action(
            body.account_id,
            body.amount,
            counterparty_account_id=body.counterparty_account_id,
            idempotency_key=idempotency_key,
            actor=router.actor(),
            **body.options(),
        )
        return entry_reply(201, entry)

    move.__doc__ = summary
    move.__name__ = path.rsplit("/", 1)[-1]


_one_account_move(
    "/v1/deposits", "Money comes into the account (default counterparty: world).", "deposit"
)
_one_account_move("/v1/withdrawals", "Money leaves the account, within its floor.", "withdraw")
_one_account_move("/v1/spends", "The account pays, within its floor.", "spend")
_one_account_move("/v1/refunds", "Money goes back into the account.", "refund")


@router.post(
    "/v1/transfers",
    responses=answers(201, EntryView, "The entry"),
    summary="Transfer between two accounts",
    tags=["operations"],
)
def transfer(body: TransferBody, idempotency_key: IdempotencyKey = None) -> Response[EntryView]:
    """Move an amount between two accounts of one ledger and currency."""
    router.require_write(Role.OPERATOR, account_ids=[body.from_account_id, body.to_account_id])
    entry = router.runtime().ledger.transfer(
        body.from_account_id,
        body.to_account_id,
        body.amount,
        idempotency_key=idempotency_key,
        actor=router.actor(),
        **body.options(),
    )
    return entry_reply(201, entry)


@router.post(
    "/v1/holds",
    responses=answers(201, EntryView, "The pending entry"),
    summary="Hold an amount of an account",
    tags=["holds"],
)
def hold(body: HoldBody, idempotency_key: IdempotencyKey = None) -> Response[EntryView]:
    """Reserve an amount of the account for the counterparty (default: world)."""
    router.require_write(Role.OPERATOR, account_ids=[body.account_id, body.counterparty_account_id])
    entry = router.runtime().ledger.hold(
        body.account_id,
        body.amount,
        counterparty_account_id=body.counterparty_account_id,
        expires_in=body.expires_in,
        idempotency_key=idempotency_key,
        actor=router.actor(),
        **body.options(),
    )
    return entry_reply(201, entry)


@router.post(
    "/v1/holds/<hold_id>/confirm",
    responses=answers(200, EntryView, "The hold, now posted"),
    summary="Confirm a hold, fully or for less",
    tags=["holds"],
)
def confirm_hold(hold_id: str, body: AmountOptional | None = None) -> Response[EntryView]:
    """Settle a hold, fully or for less (the rest is released); idempotent without a key."""
    router.require_write(Role.OPERATOR, entry_ids=[hold_id])
    amount = None if body is None else body.amount
    return entry_reply(
        200, router.runtime().ledger.confirm_hold(hold_id, amount, actor=router.actor())
    )


@router.post(
    "/v1/holds/<hold_id>/release",
    responses=answers(200, EntryView, "The hold, now voided"),
    summary="Release a hold",
    tags=["holds"],
)
def release_hold(hold_id: str) -> Response[EntryView]:
    """Give a held amount back to the account."""
    router.require_write(Role.OPERATOR, entry_ids=[hold_id])
    return entry_reply(200, router.runtime().ledger.release_hold(hold_id))


@router.post(
    "/v1/escrows",
    responses=answers(201, EntryView, "The pending entry"),
    summary="Escrow an amount from a buyer for a seller",
    tags=["escrows"],
)
def escrow(body: EscrowBody, idempotency_key: IdempotencyKey = None) -> Response[EntryView]:
    """Set an amount of the buyer's aside for the seller."""
    router.require_write(Role.OPERATOR, account_ids=[body.buyer_account_id, body.seller_account_id])
    entry = router.runtime().ledger.escrow(
        body.buyer_account_id,
        body.seller_account_id,
        body.amount,
        expires_in=body.expires_in,
        idempotency_key=idempotency_key,
        actor=router.actor(),
        **body.options(),
    )
    return entry_reply(201, entry)


@router.post(
    "/v1/escrows/<escrow_id>/release",
    responses=answers(200, EntryView, "The escrow, now posted to the seller"),
    summary="Release an escrow to the seller",
    tags=["escrows"],
)
def release_escrow(escrow_id: str) -> Response[EntryView]:
    """Pay the escrowed amount to the seller."""
    router.require_write(Role.OPERATOR, entry_ids=[escrow_id])
    return entry_reply(200, router.runtime().ledger.release_escrow(escrow_id, actor=router.actor()))


@router.post(
    "/v1/escrows/<escrow_id>/refund",
    responses=answers(200, EntryView, "The escrow, now voided"),
    summary="Refund an escrow to the buyer",
    tags=["escrows"],
)
def refund_escrow(escrow_id: str) -> Response[EntryView]:
    """Return the escrowed amount to the buyer."""
    router.require_write(Role.OPERATOR, entry_ids=[escrow_id])
    return entry_reply(200, router.runtime().ledger.refund_escrow(escrow_id))


@router.post(
    "/v1/conversions",
    responses=answers(201, EntryView, "The entry"),
    summary="Convert between two currencies",
    tags=["operations"],
)
def convert(body: ConversionBody, idempotency_key: IdempotencyKey = None) -> Response[EntryView]:
    """Exchange between accounts of two currencies at the rate the amounts imply."""
    router.require_write(Role.OPERATOR, account_ids=[body.from_account_id, body.to_account_id])
    entry = router.runtime().ledger.convert(
        body.from_account_id,
        body.to_account_id,
        body.from_amount,
        body.to_amount,
        idempotency_key=idempotency_key,
        actor=router.actor(),
        **body.options(),
    )
    return entry_reply(201, entry)


@router.post(
    "/v1/batches",
    responses=answers(201, BatchView, "The entries"),
    summary="Run a batch of operations, all or nothing",
    tags=["operations"],
)
def batch(body: BatchBody, idempotency_key: IdempotencyKey = None) -> Response[BatchView]:
    """Many operations as one transaction, all or nothing."""
    commands = [operation_command(operation) for operation in body.operations]
    router.require_write(
        Role.OPERATOR,
        ledger_ids=[
            command.ledger_id
            for command in commands
            if isinstance(command, RawEntry) and command.ledger_id is not None
        ],
        account_ids=[account_id for command in commands for account_id in command.account_ids()],
    )
    result = router.runtime().ledger.batch(
        commands, net=body.net, idempotency_key=idempotency_key, actor=router.actor()
    )
    view = {
        "entries": [entry_view(entry) for entry in result.entries],
        "items_saved": result.items_saved,
    }
    return reply(201, view, replayed=result.replayed)
