"""A batch's operations as typed commands, one per operation type, each drafting its lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, cast

from ledger.domain.errors import LedgerMismatch
from ledger.domain.model import EntryKind
from ledger.planning.commands import (
    Amount,
    EntryOptions,
    LineDraft,
    LineInput,
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

    type: ClassVar[OperationType]
    kind: ClassVar[EntryKind]

    description: str | None = None
    reference: str | None = None
    metadata: dict[str, str] | None = None
    effective_at: datetime | None = None

    def options(self) -> EntryOptions:
        """The options that were given, as the entry command takes them."""
        given = {name: getattr(self, name) for name in option_fields}
        return cast(
            "EntryOptions", {name: value for name, value in given.items() if value is not None}
        )

    def pending(self) -> PendingTerms | None:
        """The terms of a pending entry; None for an operation posted at once."""
        return None


@dataclass(frozen=True)
class OneAccountOperation(OperationOptions):
    """An account and the world (or a named counterparty): deposits, withdrawals, spends
    and refunds."""

    account_id: str
    amount: Amount
    counterparty_account_id: str | None = None
    inflow: ClassVar[bool]

    def account_ids(self) -> tuple[str | None, ...]:
        """The accounts the operation names."""
        return (self.account_id, self.counterparty_account_id)

    def drafts(self) -> list[LineDraft]:
        """The account's line, then its counterparty's."""
        return two_line_drafts(
            self.account_id, self.counterparty_account_id, self.amount, inflow=self.inflow
        )


@dataclass(frozen=True)
class Deposit(OneAccountOperation):
    """Money comes into the account."""

    type = OperationType.DEPOSIT
    kind = EntryKind.DEPOSIT
    inflow = True


@dataclass(frozen=True)
class Refund(OneAccountOperation):
    """Money goes back into the account."""

    type = OperationType.REFUND
    kind = EntryKind.REFUND
    inflow = True


@dataclass(frozen=True)
class Withdrawal(OneAccountOperation):
    """Money leaves the account."""

    type = OperationType.WITHDRAWAL
    kind = EntryKind.WITHDRAWAL
    inflow = False


@dataclass(frozen=True)
class Spend(OneAccountOperation):
    """The account pays."""

    type = OperationType.SPEND
    kind = EntryKind.SPEND
    inflow = False


@dataclass(frozen=True)
class Hold(OneAccountOperation):
    """An amount of the account reserved for its counterparty, pending."""

    type = OperationType.HOLD
    kind = EntryKind.HOLD
    inflow = False
    expires_in: int | None = None

    def pending(self) -> PendingTerms:
        """Pending, expiring after `expires_in` seconds if given."""
        return PendingTerms(self.expires_in)


@dataclass(frozen=True)
class Transfer(OperationOptions):
    """An amount from one account to another of the same ledger and currency."""

    type = OperationType.TRANSFER
    kind = EntryKind.TRANSFER
    from_account_id: str
    to_account_id: str
    amount: Amount

    def account_ids(self) -> tuple[str | None, ...]:
        """The accounts the operation names."""
        return (self.from_account_id, self.to_account_id)

    def drafts(self) -> list[LineDraft]:
        """The payer's line, then the payee's."""
        return two_line_drafts(self.from_account_id, self.to_account_id, self.amount, inflow=False)


@dataclass(frozen=True)
class Escrow(OperationOptions):
    """An amount of the buyer's set aside for the seller, pending."""

    type = OperationType.ESCROW
    kind = EntryKind.ESCROW
    buyer_account_id: str
    seller_account_id: str
    amount: Amount
    expires_in: int | None = None

    def account_ids(self) -> tuple[str | None, ...]:
        """The accounts the operation names."""
        return (self.buyer_account_id, self.seller_account_id)

    def drafts(self) -> list[LineDraft]:
        """The buyer's line, then the seller's."""
        return two_line_drafts(
            self.buyer_account_id, self.seller_account_id, self.amount, inflow=False
        )

    def pending(self) -> PendingTerms:
        """Pending, expiring after `expires_in` seconds if given."""
        return PendingTerms(self.expires_in)


@dataclass(frozen=True)
class Conversion(OperationOptions):
    """An exchange between accounts of two currencies at the rate the amounts imply."""

    type = OperationType.CONVERSION
    kind = EntryKind.CONVERSION
    from_account_id: str
    to_account_id: str
    from_amount: Amount
    to_amount: Amount

    def account_ids(self) -> tuple[str | None, ...]:
        """The accounts the operation names."""
        return (self.from_account_id, self.to_account_id)

    def drafts(self) -> list[LineDraft]:
        """Four lines through both currencies' world accounts."""
        return conversion_drafts(
            self.from_account_id, self.to_account_id, self.from_amount, self.to_amount
        )


@dataclass(frozen=True)
class RawEntry(OperationOptions):
    """A journal entry of the caller's lines, posted at once; `ledger_id`, if given, must be
    the lines' ledger."""

    type = OperationType.ENTRY
    kind = EntryKind.ENTRY
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


# Holds are one-account operations too, pending.
BatchOperation = OneAccountOperation | Transfer | Escrow | Conversion | RawEntry
operation_classes: dict[OperationType, type[BatchOperation]] = {
    shape.type: shape
    for shape in (Deposit, Refund, Withdrawal, Spend, Hold, Transfer, Escrow, Conversion, RawEntry)
}
