"""Client routes for pending entries: posting, voiding, holds, escrows; and reversals."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from ledger.client.base import ClientBase, amount_text, moment_text, present
from ledger.client.transport import Call, path
from ledger.domain.inputs import Amount
from ledger.domain.model import Entry


class TwoPhaseClient(ClientBase):
    """Pending entries, holds and escrows and how they resolve; reversing a posted entry."""

    def post_entry(self, entry_id: str, amount: Amount | None = None) -> Entry:
        """Post a pending entry, fully or for less; returns it with `posting_entry_id`."""
        return self._resolve(entry_id, "entries", "post", amount=amount)

    def void_entry(self, entry_id: str) -> Entry:
        """Void a pending entry (not retried once sent: see the class docstring)."""
        return self._resolve(entry_id, "entries", "void", repeatable=False)

    def reverse_entry(
        self,
        entry_id: str,
        *,
        description: str | None = None,
        idempotency_key: str | None = None,
    ) -> Entry:
        """Post the mirror of an entry; an entry is reversed at most once."""
        body = present(description=description)
        return self._entry(self._create(body, idempotency_key, "entries", entry_id, "reverse"))

    def hold(
        self,
        account_id: str,
        amount: Amount,
        *,
        counterparty_account_id: str | None = None,
        expires_in: int | None = None,
        reference: str | None = None,
        description: str | None = None,
        effective_at: datetime | str | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Entry:
        """Reserve an amount of the account for the counterparty (default: world): a
        pending entry, expiring after `expires_in` seconds if given."""
        body = present(
            account_id=account_id,
            amount=amount_text(amount),
            counterparty_account_id=counterparty_account_id,
            expires_in=expires_in,
            reference=reference,
            description=description,
            effective_at=moment_text(effective_at),
            metadata=metadata,
        )
        return self._entry(self._create(body, idempotency_key, "holds"))

    def confirm_hold(self, hold_id: str, amount: Amount | None = None) -> Entry:
        """Settle a hold, fully or for less (the rest is released)."""
        return self._resolve(hold_id, "holds", "confirm", amount=amount)

    def release_hold(self, hold_id: str) -> Entry:
        """Give a held amount back (not retried once sent: see the class docstring)."""
        return self._resolve(hold_id, "holds", "release", repeatable=False)

    def escrow(
        self,
        buyer_account_id: str,
        seller_account_id: str,
        amount: Amount,
        *,
        expires_in: int | None = None,
        reference: str | None = None,
        description: str | None = None,
        effective_at: datetime | str | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Entry:
        """Set an amount of the buyer's aside for the seller: a pending entry."""
        body = present(
            buyer_account_id=buyer_account_id,
            seller_account_id=seller_account_id,
            amount=amount_text(amount),
            expires_in=expires_in,
            reference=reference,
            description=description,
            effective_at=moment_text(effective_at),
            metadata=metadata,
        )
        return self._entry(self._create(body, idempotency_key, "escrows"))

    def release_escrow(self, escrow_id: str) -> Entry:
        """Pay the escrowed amount to the seller."""
        return self._resolve(escrow_id, "escrows", "release")

    def refund_escrow(self, escrow_id: str) -> Entry:
        """Return the escrowed amount to the buyer (not retried once sent: see the class
        docstring)."""
        return self._resolve(escrow_id, "escrows", "refund", repeatable=False)

    def _resolve(
        self,
        entry_id: str,
        resource: str,
        action: str,
        *,
        amount: Amount | None = None,
        repeatable: bool = True,
    ) -> Entry:
        body = None if amount is None else {"amount": amount_text(amount)}
        call = Call("POST", path(resource, entry_id, action), body=body, repeatable=repeatable)
        return self._entry(self._send(call))
