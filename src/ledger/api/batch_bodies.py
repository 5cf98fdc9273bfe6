"""A batch's body: its operations, one model per type, told apart by `type`."""

from __future__ import annotations

from dataclasses import fields
from typing import Annotated, Literal

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
from ledger.domain.inputs import LineInput
from ledger.planning.batch import BatchOperation, OperationType
from ledger.planning.batch.operations import operation_classes


class DepositOperation(OneAccountMove):
    """A deposit in a batch."""

    type: Literal["deposit"]


class WithdrawalOperation(OneAccountMove):
    """A withdrawal in a batch."""

    type: Literal["withdrawal"]


class SpendOperation(OneAccountMove):
    """A spend in a batch."""

    type: Literal["spend"]


class RefundOperation(OneAccountMove):
    """A refund in a batch."""

    type: Literal["refund"]


class TransferOperation(TransferBody):
    """A transfer in a batch."""

    type: Literal["transfer"]


class HoldOperation(HoldBody):
    """A hold in a batch."""

    type: Literal["hold"]


class EscrowOperation(EscrowBody):
    """An escrow in a batch."""

    type: Literal["escrow"]


class ConversionOperation(ConversionBody):
    """A conversion in a batch."""

    type: Literal["conversion"]


class EntryOperation(EntryOptionsBody):
    """A raw journal entry in a batch (posted at once)."""

    type: Literal["entry"]
    ledger_id: Id | None = None
    lines: Annotated[
        list[LineBody],
        Field(min_length=limits.lines_per_entry_min, max_length=limits.lines_per_entry_max),
    ]


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


def operation_command(operation: Operation) -> BatchOperation:
    """The planner's typed command for a validated operation: the fields of the same names."""
    kind = OperationType(operation.type)
    shape = operation_classes[kind]
    given = {each.name: getattr(operation, each.name) for each in fields(shape)}
    if "type" in given:
        given["type"] = kind
    if isinstance(operation, EntryOperation):
        given["lines"] = [
            LineInput(each.account_id, each.side, each.amount, each.currency)
            for each in operation.lines
        ]
    return shape(**given)
