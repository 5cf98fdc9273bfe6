"""Entries: presets, raw journal entries, conversions and batches."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ledger.domain import limits, validate
from ledger.domain.errors import (
    IdempotencyKeyReused,
    LedgerError,
    NotFound,
    ValidationError,
)
from ledger.domain.ids import (
    ledger_token,
    parse_account_id,
)
from ledger.domain.inputs import Amount, LineInput
from ledger.domain.model import (
    Account,
    Actor,
    Entry,
    EntryKind,
    Page,
)
from ledger.domain.results import BatchResult
from ledger.planning.batch import BatchOperation, operation_of, plan_batch
from ledger.planning.commands import (
    EntryOptions,
    PendingTerms,
    conversion_drafts,
    line_drafts,
    listing_caller,
    page_size,
)
from ledger.planning.steps import Duplicate, Target, ledger_mismatch
from ledger.service.account_entries import account_entries
from ledger.service.base import LedgerBase
from ledger.service.history import require_history
from ledger.store.listings import EntriesOf

if TYPE_CHECKING:
    from typing_extensions import Unpack


class Movements(LedgerBase):
    """Entries that move money at once, alone or in an atomic batch."""

    def create_entry(
        self,
        ledger_id: str,
        lines: Sequence[LineInput],
        *,
        pending: bool = False,
        expires_in: int | None = None,
        **options: Unpack[EntryOptions],
    ) -> Entry:
        """Post a balanced multi-line journal entry, or create it pending (two-phase)."""
        ledger_token(ledger_id)
        drafts = line_drafts(lines)
        if not pending and expires_in is not None:
            raise ValidationError("expires_in", "expires_in goes only with a pending entry")
        terms = PendingTerms(expires_in) if pending else None
        return self._post(ledger_id, EntryKind.ENTRY, drafts, options, terms)

    def deposit(
        self,
        account_id: str,
        amount: Amount,
        *,
        counterparty_account_id: str | None = None,
        **options: Unpack[EntryOptions],
    ) -> Entry:
        """Money comes into the account from the counterparty (default: the ledger's world)."""
        return self._preset(
            EntryKind.DEPOSIT, account_id, counterparty_account_id, amount, options, inflow=True
        )

    def refund(
        self,
        account_id: str,
        amount: Amount,
        *,
        counterparty_account_id: str | None = None,
        **options: Unpack[EntryOptions],
    ) -> Entry:
        """Money goes back into the account from the counterparty (default: world)."""
        return self._preset(
            EntryKind.REFUND, account_id, counterparty_account_id, amount, options, inflow=True
        )

    def withdraw(
        self,
        account_id: str,
        amount: Amount,
        *,
        counterparty_account_id: str | None = None,
        **options: Unpack[EntryOptions],
    ) -> Entry:
        """Money leaves the account to the counterparty (default: world), within its floor."""
        return self._preset(
            EntryKind.WITHDRAWAL, account_id, counterparty_account_id, amount, options, inflow=False
        )

    def spend(
        self,
        account_id: str,
        amount: Amount,
        *,
        counterparty_account_id: str | None = None,
        **options: Unpack[EntryOptions],
    ) -> Entry:
        """The account pays the counterparty (default: world), within its floor."""
        return self._preset(
            EntryKind.SPEND, account_id, counterparty_account_id, amount, options, inflow=False
        )

    def transfer(
        self,
        from_account_id: str,
        to_account_id: str,
        amount: Amount,
        **options: Unpack[EntryOptions],
    ) -> Entry:
        """Move an amount from one account to another of the same ledger and currency."""
        return self._preset(
            EntryKind.TRANSFER, from_account_id, to_account_id, amount, options, inflow=False
        )

    def list_entries(
        self,
        ledger_id: str,
        *,
        reference: str | None = None,
        account_id: str | None = None,
        limit: int = limits.page_size_default,
        cursor: str | None = None,
        caller: str | None = None,
    ) -> Page[Entry]:
        """A ledger's entries, newest first, optionally only those with one reference or
        only those with a line on one account. A cursor is good only for the listing, and
        the `caller`, it was given to.

        One account's entries are read from its own history (`account_entries`): full
        pages, however busy the ledger, as the history consumer has recorded them (it
        follows writes by about a second); a store that keeps no history refuses them
        (`history_not_kept`). One reference's entries of one account are its reference's
        entries filtered by the account, a bounded number examined per page: such a page
        may hold fewer than `limit`, even none, with a `next_cursor` to go on."""
        ledger_token(ledger_id)
        checked_reference = validate.optional_text(
            "reference", reference, limits.reference_length_max
        )
        size = page_size(limit)
        checked_caller = listing_caller(caller)
        if account_id is not None:
            account = self._account_of(ledger_id, account_id)
            if checked_reference is None:
                require_history(self._store)
                return account_entries(self._store, account, size, cursor, checked_caller)
        listing = EntriesOf(ledger_id, checked_reference, account_id, checked_caller)
        return self._store.page(listing, size, cursor, Entry)

    def _account_of(self, ledger_id: str, account_id: str) -> Account:
        """The account, which exists in the ledger. Its id names its ledger, so another
        ledger's account is refused unread, as it is in an entry."""
        account = parse_account_id(validate.text("account_id", account_id, limits.name_length_max))
        if account.ledger_id != ledger_id:
            raise ledger_mismatch(account_id, account.ledger_id, ledger_id, "account_id")
        found = self._store.get(Target("account", account_id), Account)
        if found is None:
            raise NotFound("account", account_id)
        return found

    def convert(
        self,
        from_account_id: str,
        to_account_id: str,
        from_amount: Amount,
        to_amount: Amount,
        **options: Unpack[EntryOptions],
    ) -> Entry:
        """Exchange between accounts of two currencies at the rate the amounts imply."""
        lines = conversion_drafts(from_account_id, to_account_id, from_amount, to_amount)
        return self._post(lines[0].account.ledger_id, EntryKind.CONVERSION, lines, options)

    def batch(
        self,
        operations: Sequence[BatchOperation | Mapping[str, Any]],
        *,
        net: bool = False,
        idempotency_key: str | None = None,
        actor: Actor | None = None,
    ) -> BatchResult:
        """Many operations as one transaction, all or nothing; each a mapping shaped like an
        operation of the HTTP body, or a typed command of `ledger.planning.batch`. A refusal
        names its operation in `details.operation_index`. With `net`, transfers between the
        same two accounts are netted into one entry first. Every entry carries `actor`; a
        replay answers with the entries as first written, their actor included."""
        key = validate.idempotency_key(idempotency_key)
        planned = plan_batch(operations, key, net, self._clock(), validate.actor(actor))
        if not planned.entries:
            return BatchResult([], planned.items_saved)
        try:
            self._store.execute(planned.plan)
        except Duplicate as duplicate:
            hashes = {entry.id: entry.request_hash for entry in planned.entries}
            existing = duplicate.existing
            if not isinstance(existing, Entry) or hashes.get(existing.id) != existing.request_hash:
                raise IdempotencyKeyReused(
                    "this idempotency key was already used for a different batch"
                ) from None
            entries = [self.get_entry(entry.id) for entry in planned.entries]
            return BatchResult(entries, planned.items_saved, replayed=True)
        except LedgerError as error:
            raise operation_of(error, planned.owners) from None
        return BatchResult(planned.entries, planned.items_saved)
