"""Pending entries, holds, escrows, the expiry sweep and reversals."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from ledger.domain import validate
from ledger.domain.errors import (
    AlreadyResolved,
    AlreadyReversed,
    Conflict,
    NotFound,
)
from ledger.domain.ids import (
    derived_entry_id,
    parse_account_id,
)
from ledger.domain.inputs import Amount
from ledger.domain.model import (
    Actor,
    Entry,
    EntryKind,
    EntryStatus,
)
from ledger.domain.money import parse_amount
from ledger.planning.commands import EntryOptions, PendingTerms
from ledger.planning.entries import plan_reversal
from ledger.planning.hashing import posting_request_hash, reversal_request_hash
from ledger.planning.pending import plan_post, plan_void
from ledger.planning.steps import Target
from ledger.service.base import LedgerBase

if TYPE_CHECKING:
    from typing_extensions import Unpack


class TwoPhase(LedgerBase):
    """Entries that resolve later, exactly once, and corrections of posted ones."""

    def hold(
        self,
        account_id: str,
        amount: Amount,
        *,
        counterparty_account_id: str | None = None,
        expires_in: int | None = None,
        **options: Unpack[EntryOptions],
    ) -> Entry:
        """Reserve an amount of the account for the counterparty (default: world), pending."""
        return self._preset(
            EntryKind.HOLD,
            account_id,
            counterparty_account_id,
            amount,
            options,
            inflow=False,
            pending=PendingTerms(expires_in),
        )

    def confirm_hold(
        self, hold_id: str, amount: Amount | None = None, *, actor: Actor | None = None
    ) -> Entry:
        """Settle a hold, fully or for less (the rest is released); the posting entry
        carries `actor`."""
        return self._post_pending(self._pending_of(hold_id, EntryKind.HOLD), amount, actor)

    def release_hold(self, hold_id: str) -> Entry:
        """Give a held amount back to the account."""
        return self._void_pending(self._pending_of(hold_id, EntryKind.HOLD))

    def escrow(
        self,
        buyer_account_id: str,
        seller_account_id: str,
        amount: Amount,
        *,
        expires_in: int | None = None,
        **options: Unpack[EntryOptions],
    ) -> Entry:
        """Set an amount of the buyer's aside for the seller, pending."""
        return self._preset(
            EntryKind.ESCROW,
            buyer_account_id,
            seller_account_id,
            amount,
            options,
            inflow=False,
            pending=PendingTerms(expires_in),
        )

    def release_escrow(self, escrow_id: str, *, actor: Actor | None = None) -> Entry:
        """Pay the escrowed amount to the seller; the posting entry carries `actor`."""
        return self._post_pending(self._pending_of(escrow_id, EntryKind.ESCROW), None, actor)

    def refund_escrow(self, escrow_id: str) -> Entry:
        """Return the escrowed amount to the buyer."""
        return self._void_pending(self._pending_of(escrow_id, EntryKind.ESCROW))

    def post_entry(
        self, entry_id: str, amount: Amount | None = None, *, actor: Actor | None = None
    ) -> Entry:
        """Post a pending entry: one consistent read, then one guarded write. Returns the
        pending entry, now posted, with `posting_entry_id`; the posting entry carries
        `actor`, the pending entry keeps the actor that created it."""
        return self._post_pending(self.get_entry(entry_id), amount, actor)

    def void_entry(self, entry_id: str) -> Entry:
        """Release a pending entry: one consistent read, then one write. Returns it voided.
        A void creates no entry, so it takes no actor: the voided entry keeps its own."""
        return self._void_pending(self.get_entry(entry_id))

    def _post_pending(self, pending: Entry, amount: Amount | None, actor: Actor | None) -> Entry:
        checked_actor = validate.actor(actor)
        currency = parse_account_id(pending.lines[0].account_id).currency
        minor = None if amount is None else parse_amount(amount, currency)
        posting_id = derived_entry_id(pending.id, "posting")
        if pending.posting_entry_id == posting_id and self._is_replay(
            posting_id, posting_request_hash(pending.id, minor)
        ):
            return replace(pending, replayed=True)
        posting, resolved, plan = plan_post(
            pending, posting_id, minor, self._clock(), checked_actor
        )
        refusal = AlreadyResolved(
            f"entry {pending.id} is resolved already", {"entry_id": pending.id}
        )
        written = self._write(posting, plan, posting_id, refusal)
        return replace(resolved, replayed=written.replayed)

    def _void_pending(self, pending: Entry) -> Entry:
        voided, plan = plan_void(pending, self._clock())
        self._store.execute(plan)
        return voided

    def expire_pending(self) -> int:
        """Void every pending entry past its expiry, in bounded pages; returns how many."""
        now = self._clock()
        return sum(self._expire(entry, now) for entry in self._pending_expiring_by(now))

    def _expire(self, entry: Entry, now: datetime) -> int:
        """1 if this call expired the entry; 0 if another resolution won or it was contended."""
        try:
            _, plan = plan_void(entry, now, EntryStatus.EXPIRED)
            self._store.execute(plan)
        except (AlreadyResolved, Conflict):
            # Resolved by a post or void first, or contended: a later sweep retries it.
            return 0
        return 1

    def _pending_of(self, entry_id: str, kind: EntryKind) -> Entry:
        """The pending entry of a hold or escrow; any other entry is not one."""
        entry = self.get_entry(entry_id)
        if entry.kind is not kind:
            raise NotFound(kind.value, entry_id)
        return entry

    def _is_replay(self, derived_id: str, expected_hash: str) -> bool:
        derived = self._store.get(Target("entry", derived_id), Entry)
        return derived is not None and derived.request_hash == expected_hash

    def reverse_entry(
        self, entry_id: str, *, description: str | None = None, actor: Actor | None = None
    ) -> Entry:
        """Post the mirror of an entry, linked both ways; an entry is reversed at most once.
        The reversal carries `actor`."""
        text = validate.description(description)
        checked_actor = validate.actor(actor)
        original = self.get_entry(entry_id)
        reversal_id = derived_entry_id(original.id, "reversal")
        if original.reversed_by == reversal_id and self._is_replay(
            reversal_id, reversal_request_hash(original.id, text)
        ):
            return replace(self.get_entry(reversal_id), replayed=True)
        reversal, plan = plan_reversal(original, reversal_id, text, self._clock(), checked_actor)
        refusal = AlreadyReversed(
            f"entry {original.id} is reversed already", {"entry_id": original.id}
        )
        return self._write(reversal, plan, reversal_id, refusal)
