"""A batch's operations as typed commands, one per operation type, each drafting its lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, cast

from ledger.domain.errors import LedgerMismatch, ValidationError
from ledger.domain.inputs import Amount, LineInput
from ledger.planning.commands import (
    EntryOptions,
    LineDraft,
    PendingTerms,
    conversion_drafts,
    line_drafts,
    two_line_drafts,
)


class OperationType(StrEnum):
    """What a batch operation does: a preset, a conversion or a raw entry."""

    DEPOSIT = "deposit"
    REFUND = "refund"
    WITHDRAWAL = "withdrawal"
    SPEND = "spend"
    TRANSFER = "transfer"
    HOLD = "hold"
    ESCROW = "escrow"
    CONVERSION = "conversion"
    ENTRY = "entry"


option_fields = ("description", "reference", "metadata", "effective_at")


@dataclass(frozen=True, kw_only=True)
class OperationOptions:
    """What every batch operation may add to its entry; None is the option left out."""

    description: str | None = None
    reference: str | None = None
    metadata: dict[str, str] | None = None
    effective_at: datetime | None = None
    # The fields that name accounts, in the order the operation names them.
    account_fields: ClassVar[tuple[str, ...]] = ()

    def account_ids(self) -> tuple[str | None, ...]:
        """The accounts the operation names."""
        return tuple(getattr(self, name) for name in self.account_fields)

    def options(self) -> EntryOptions:
        """The options that were given, as the entry command takes them."""
        given = {name: getattr(self, name) for name in option_fields}
        return cast(
            "EntryOptions", {name: value for name, value in given.items() if value is not None}
        )

    def pending(self) -> PendingTerms | None:
        """The terms of a pending entry; None for an operation posted at once."""
        return None


# The presets of one account besides holds; money comes in with the first two.
preset_types = (
    OperationType.DEPOSIT,
    OperationType.REFUND,
    OperationType.WITHDRAWAL,
    OperationType.SPEND,
)


@dataclass(frozen=True)
class OneAccountOperation(OperationOptions):
    """An account and the world (or a named counterparty)."""

    account_id: str
    amount: Amount
    counterparty_account_id: str | None = None
    account_fields = ("account_id", "counterparty_account_id")

    def drafts(self) -> list[LineDraft]:
        """The account's line, then its counterparty's."""
        return two_line_drafts(
            self.account_id, self.counterparty_account_id, self.amount, inflow=self.inflow()
        )

    def inflow(self) -> bool:
        """Whether money comes into the account."""
        return False


@dataclass(frozen=True)
class Preset(OneAccountOperation):
    """A deposit, refund, withdrawal or spend, as `type` says."""

    type: OperationType = field(kw_only=True)

    def __post_init__(self) -> None:
        if self.type not in preset_types:
            raise ValidationError("type", f"a preset is one of {', '.join(preset_types)}")

    def inflow(self) -> bool:
        """Deposits and refunds bring money in; withdrawals and spends take it out."""
        return self.type in preset_types[:2]


@dataclass(frozen=True)
class Hold(OneAccountOperation):
    """An amount of the account reserved for its counterparty, pending."""

    type: ClassVar[OperationType] = OperationType.HOLD
    expires_in: int | None = None

    def pending(self) -> PendingTerms:
        """Pending, expiring after `expires_in` seconds if given."""
        return PendingTerms(self.expires_in)


@dataclass(frozen=True)
class FromTo(OperationOptions):
    """An operation from one account to another: transfers and conversions."""

    from_account_id: str
    to_account_id: str
    account_fields = ("from_account_id", "to_account_id")


@dataclass(frozen=True)
class Transfer(FromTo):
    """An amount from one account to another of the same ledger and currency."""

    type: ClassVar[OperationType] = OperationType.TRANSFER
    amount: Amount

    def drafts(self) -> list[LineDraft]:
        """The payer's line, then the payee's."""
        return two_line_drafts(self.from_account_id, self.to_account_id, self.amount, inflow=False)


@dataclass(frozen=True)
class Escrow(OperationOptions):
    """An amount of the buyer's set aside for the seller, pending."""

    type: ClassVar[OperationType] = OperationType.ESCROW
    account_fields = ("buyer_account_id", "seller_account_id")
    buyer_account_id: str
    seller_account_id: str
    amount: Amount
    expires_in: int | None = None

    def drafts(self) -> list[LineDraft]:
        """The buyer's line, then the seller's."""
        return two_line_drafts(
            self.buyer_account_id, self.seller_account_id, self.amount, inflow=False
        )

    def pending(self) -> PendingTerms:
        """Pending, expiring after `expires_in` seconds if given."""
        return PendingTerms(self.expires_in)


@dataclass(frozen=True)
class Conversion(FromTo):
    """An exchange between accounts of two currencies at the rate the amounts imply."""

    type: ClassVar[OperationType] = OperationType.CONVERSION
    from_amount: Amount
    to_amount: Amount

    def drafts(self) -> list[LineDraft]:
        """Four lines through both currencies' world accounts."""
        return conversion_drafts(
            self.from_account_id, self.to_account_id, self.from_amount, self.to_amount
        )


@dataclass(frozen=True)
class RawEntry(OperationOptions):
    """A journal entry of the caller's lines, posted at once; `ledger_id`, if given, must be
    the lines' ledger."""

    type: ClassVar[OperationType] = OperationType.ENTRY
    lines: Sequence[LineInput]
    ledger_id: str | None = None

    def account_ids(self) -> tuple[str | None, ...]:
        """The accounts the operation names."""
        return tuple(line.account_id for line in self.lines)

    def drafts(self) -> list[LineDraft]:
        """The lines as given, each amount in its account's currency."""
        lines = line_drafts(self.lines)
        if self.ledger_id is not None and self.ledger_id != lines[0].account.ledger_id:
            raise LedgerMismatch(
                f"the entry's lines belong to ledger {lines[0].account.ledger_id}, "
                f"not {self.ledger_id}",
                {"field": "ledger_id"},
            )
        return lines


BatchOperation = Preset | Hold | Transfer | Escrow | Conversion | RawEntry
operation_classes: dict[OperationType, type[BatchOperation]] = {
    **dict.fromkeys(preset_types, Preset),
    OperationType.HOLD: Hold,
    OperationType.TRANSFER: Transfer,
    OperationType.ESCROW: Escrow,
    OperationType.CONVERSION: Conversion,
    OperationType.ENTRY: RawEntry,
}
