"""Client routes that post entries: journal entries, operations, conversions and batches."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ledger.client import decode
from ledger.client.base import (
    ClientBase,
    amount_text,
    follow,
    moment_text,
    present,
)
from ledger.client.transport import Call, path
from ledger.client.types import OneAccount
from ledger.domain import limits
from ledger.domain.inputs import Amount, LineInput
from ledger.domain.model import Entry, Page
from ledger.domain.results import BatchResult

if TYPE_CHECKING:
    from typing_extensions import Unpack

_amount_fields = ("amount", "from_amount", "to_amount")


class MovementsClient(ClientBase):
    """Journal entries and the operations that each create one, alone or in a batch."""

    def create_entry(
        self,
        ledger_id: str,
        lines: Sequence[LineInput | Mapping[str, Any]],
        *,
        pending: bool = False,
        expires_in: int | None = None,
        description: str | None = None,
        reference: str | None = None,
        effective_at: datetime | str | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Entry:
        """Post a balanced journal entry, or create it pending (expiring after `expires_in`
        seconds if given)."""
        if expires_in is not None and not pending:
            raise ValueError("expires_in goes only with pending=True")
        body = present(
            ledger_id=ledger_id,
            lines=[_line(line, f"lines[{index}]") for index, line in enumerate(lines)],
            description=description,
            reference=reference,
            effective_at=moment_text(effective_at),
            metadata=metadata,
            pending=present(expires_in=expires_in) if pending else None,
        )
        return self._entry(self._create(body, idempotency_key, "entries"))

    def get_entry(self, entry_id: str) -> Entry:
        """An entry by id."""
        return decode.entry(self._send(Call("GET", path("entries", entry_id))))

    def list_entries(
        self,
        ledger_id: str | None = None,
        *,
        reference: str | None = None,
        account_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[Entry]:
        """One page of entries of a ledger, with one reference, or touching one account."""
        query = {
            "ledger_id": ledger_id,
            "reference": reference,
            "account_id": account_id,
            "limit": limit,
            "cursor": cursor,
        }
        return decode.page(self._send(Call("GET", path("entries"), query)), decode.entry)

    def iter_entries(
        self,
        ledger_id: str | None = None,
        *,
        reference: str | None = None,
        account_id: str | None = None,
        page_size: int = limits.page_size_max,
        pages_max: int | None = None,
    ) -> Iterator[Entry]:
        """Entries as `list_entries` selects them, following cursors to the end; past
        `pages_max` pages, if given, PagesMaxReached."""
        return follow(
            lambda cursor: self.list_entries(
                ledger_id,
                reference=reference,
                account_id=account_id,
                limit=page_size,
                cursor=cursor,
            ),
            pages_max,
        )

    # Operations: each creates one entry

    def deposit(self, account_id: str, amount: Amount, **options: Unpack[OneAccount]) -> Entry:
        """Money comes into the account from the counterparty (default: the ledger's world)."""
        return self._one_account("deposits", account_id, amount, options)

    def withdraw(self, account_id: str, amount: Amount, **options: Unpack[OneAccount]) -> Entry:
        """Money leaves the account to the counterparty (default: world), within its floor."""
        return self._one_account("withdrawals", account_id, amount, options)

    def spend(self, account_id: str, amount: Amount, **options: Unpack[OneAccount]) -> Entry:
        """The account pays the counterparty (default: world), within its floor."""
        return self._one_account("spends", account_id, amount, options)

    def refund(self, account_id: str, amount: Amount, **options: Unpack[OneAccount]) -> Entry:
        """Money goes back into the account from the counterparty (default: world)."""
        return self._one_account("refunds", account_id, amount, options)

    def _one_account(
        self, resource: str, account_id: str, amount: Amount, options: OneAccount
    ) -> Entry:
        """The four one-account presets differ only in their route, as their routes do."""
        body = present(
            account_id=account_id,
            amount=amount_text(amount),
            counterparty_account_id=options.get("counterparty_account_id"),
            reference=options.get("reference"),
            description=options.get("description"),
            effective_at=moment_text(options.get("effective_at")),
            metadata=options.get("metadata"),
        )
        return self._entry(self._create(body, options.get("idempotency_key"), resource))

    def transfer(
        self,
        from_account_id: str,
        to_account_id: str,
        amount: Amount,
        *,
        reference: str | None = None,
        description: str | None = None,
        effective_at: datetime | str | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Entry:
        """Move an amount between two accounts of the same ledger and currency."""
        body = present(
            from_account_id=from_account_id,
            to_account_id=to_account_id,
            amount=amount_text(amount),
            reference=reference,
            description=description,
            effective_at=moment_text(effective_at),
            metadata=metadata,
        )
        return self._entry(self._create(body, idempotency_key, "transfers"))

    def convert(
        self,
        from_account_id: str,
        to_account_id: str,
        from_amount: Amount,
        to_amount: Amount,
        *,
        reference: str | None = None,
        description: str | None = None,
        effective_at: datetime | str | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Entry:
        """Exchange between accounts of two currencies at the rate the amounts imply."""
        body = present(
            from_account_id=from_account_id,
            to_account_id=to_account_id,
            from_amount=amount_text(from_amount, "from_amount"),
            to_amount=amount_text(to_amount, "to_amount"),
            reference=reference,
            description=description,
            effective_at=moment_text(effective_at),
            metadata=metadata,
        )
        return self._entry(self._create(body, idempotency_key, "conversions"))

    def batch(
        self,
        operations: Sequence[Mapping[str, Any]],
        *,
        net: bool = False,
        idempotency_key: str | None = None,
    ) -> BatchResult:
        """Many operations (`{"type": "transfer", ...body}`) as one transaction, all or
        nothing; a refusal names its operation in `details.operation_index`. With `net`,
        transfers between the same two accounts are netted into one entry first."""
        body: dict[str, Any] = {
            "operations": [
                _operation(operation, f"operations[{index}]")
                for index, operation in enumerate(operations)
            ]
        }
        if net:
            body["net"] = True
        result = self._create(body, idempotency_key, "batches")
        return decode.batch_result(result, self._replayed())


def _line(line: LineInput | Mapping[str, Any], name: str) -> dict[str, Any]:
    """A line as the API takes it, from the library's `LineInput` or a mapping."""
    if isinstance(line, LineInput):
        fields = present(account_id=line.account_id, side=str(line.side), currency=line.currency)
        return {**fields, "amount": amount_text(line.amount, f"{name}.amount")}
    return {**line, "amount": amount_text(line.get("amount"), f"{name}.amount")}


def _operation(operation: Mapping[str, Any], name: str) -> dict[str, Any]:
    body = dict(operation)
    for field in _amount_fields:
        if field in body:
            body[field] = amount_text(body[field], f"{name}.{field}")
    if "lines" in body:
        body["lines"] = [
            _line(line, f"{name}.lines[{index}]") for index, line in enumerate(body["lines"])
        ]
    return body
