"""A batch's body: its operations, one model per type, told apart by `type`."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

from pydantic import Field

from ledger.api.bodies import (
    Body,
    ConversionBody,
    EntryOptionsBody,
    EscrowBody,
    HoldBody,
    Id,
    LineBody,
    OneAccountMove,
    TransferBody,
)
from ledger.domain import limits
from ledger.planning import batch
from ledger.planning.commands import LineInput


class _OneAccountOperation(OneAccountMove):
    """A preset of one account and its counterparty in a batch."""

    command_type: ClassVar[type[batch.OneAccountOperation]]

    def command(self) -> batch.OneAccountOperation:
        """The planner's command for this operation."""
        return self.command_type(
            self.account_id,
            self.amount,
            self.counterparty_account_id,
            **self.options(),
        )


class DepositOperation(_OneAccountOperation):
    """A deposit in a batch."""

    type: Literal["deposit"]
    command_type = batch.Deposit


class WithdrawalOperation(_OneAccountOperation):
    """A withdrawal in a batch."""

    type: Literal["withdrawal"]
    command_type = batch.Withdrawal


class SpendOperation(_OneAccountOperation):
    """A spend in a batch."""

    type: Literal["spend"]
    command_type = batch.Spend


class RefundOperation(_OneAccountOperation):
    """A refund in a batch."""

    type: Literal["refund"]
    command_type = batch.Refund


class TransferOperation(TransferBody):
    """A transfer in a batch."""

    type: Literal["transfer"]

    def command(self) -> batch.Transfer:
        """The planner's command for this operation."""
        return batch.Transfer(
            self.from_account_id, self.to_account_id, self.amount, **self.options()
        )


class HoldOperation(HoldBody):
    """A hold in a batch."""

    type: Literal["hold"]

    def command(self) -> batch.Hold:
        """The planner's command for this operation."""
        return batch.Hold(
            self.account_id,
            self.amount,
            self.counterparty_account_id,
            self.expires_in,
            **self.options(),
        )


class EscrowOperation(EscrowBody):
    """An escrow in a batch."""

    type: Literal["escrow"]

    def command(self) -> batch.Escrow:
        """The planner's command for this operation."""
        return batch.Escrow(
            self.buyer_account_id,
            self.seller_account_id,
            self.amount,
            self.expires_in,
            **self.options(),
        )


class ConversionOperation(ConversionBody):
    """A conversion in a batch."""

    type: Literal["conversion"]

    def command(self) -> batch.Conversion:
        """The planner's command for this operation."""
        return batch.Conversion(
            self.from_account_id,
            self.to_account_id,
            self.from_amount,
            self.to_amount,
            **self.options(),
        )


class EntryOperation(EntryOptionsBody):
    """A raw journal entry in a batch (posted at once)."""

    type: Literal["entry"]
    ledger_id: Id | None = None
    lines: Annotated[
        list[LineBody],
        Field(min_length=limits.lines_per_entry_min, max_length=limits.lines_per_entry_max),
    ]

    def command(self) -> batch.RawEntry:
        """The planner's command for this operation."""
        return batch.RawEntry(
            [
                LineInput(line.account_id, line.side, line.amount, line.currency)
                for line in self.lines
            ],
            self.ledger_id,
            **self.options(),
        )


Operation = Annotated[
    DepositOperation
    | WithdrawalOperation
    | SpendOperation
    | RefundOperation
    | TransferOperation
    | HoldOperation
    | EscrowOperation
    | ConversionOperation
    | EntryOperation,
    Field(discriminator="type"),
]


class BatchBody(Body):
    """POST /v1/batches: all or nothing; `net` nets transfers between the same accounts."""

    operations: Annotated[
        list[Operation], Field(min_length=1, max_length=limits.batch_operations_max)
    ]
    net: bool = False

    def commands(self) -> list[batch.BatchOperation]:
        """The operations as the planner's typed commands."""
        return [operation.command() for operation in self.operations]
