"""The public library facade: validate, plan, hand the plan to a store, settle replays."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from ledger import limits, validate
from ledger.batch import BatchResult, operation_of, plan_batch
from ledger.errors import (
    AlreadyResolved,
    AlreadyReversed,
    IdempotencyKeyReused,
    LedgerError,
    NotFound,
    ValidationError,
)
from ledger.ids import (
    derived_entry_id,
    entry_ledger_id,
    ledger_token,
    new_account_id,
    new_entry_id,
    new_ledger_id,
    parse_account_id,
)
from ledger.model import (
    Account,
    AccountStatus,
    AccountType,
    Balance,
    Entry,
    EntryKind,
    EntryStatus,
    LedgerRecord,
    OverdraftMode,
    Page,
)
from ledger.money import Currency, builtin_currencies, parse_amount
from ledger.operations import Duplicate, RegisterCurrency, SetStatus, Target, WritePlan
from ledger.plan import (
    LineDraft,
    NewAccount,
    plan_account,
    plan_entry,
    plan_ledger,
    plan_overdraft_change,
    plan_post,
    plan_reversal,
    plan_void,
    posting_request_hash,
    reversal_request_hash,
)
from ledger.requests import (
    Amount,
    EntryOptions,
    LineInput,
    PendingTerms,
    conversion_drafts,
    entry_command,
    line_drafts,
    overdraft_policy,
    page_size,
    two_line_drafts,
)
from ledger.store import Store
from ledger.store.keys import accounts_of, entries_of, expired_by, ledgers_by_owner

if TYPE_CHECKING:
    from typing_extensions import Unpack

R = TypeVar("R", LedgerRecord, Account, Entry)


__all__ = ["Ledger", "LineInput", "utc_now"]


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class Ledger:
    """Double-entry bookkeeping over a store: every mutation is one atomic, guarded write."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = utc_now) -> None:
        self._store = store
        self._clock = clock

    # Ledgers

    def create_ledger(
        self,
        name: str,
        *,
        owner_id: str | None = None,
        metadata: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> LedgerRecord:
        """Create a ledger: a namespace of accounts and entries."""
        owner = validate.optional_text("owner_id", owner_id, limits.owner_id_length_max)
        key = validate.idempotency_key(idempotency_key)
        record, plan = plan_ledger(
            ledger_id=new_ledger_id(owner, key),
            name=validate.text("name", name, limits.name_length_max),
            owner_id=owner,
            metadata=validate.metadata(metadata),
            now=self._clock(),
        )
        return self._write(record, plan, key)

    def get_ledger(self, ledger_id: str) -> LedgerRecord:
        """A ledger by id."""
        ledger_token(ledger_id)
        record = self._store.get(Target("ledger", ledger_id), LedgerRecord)
        if record is None:
            raise NotFound("ledger", ledger_id)
        return record

    def list_ledgers(
        self, owner_id: str, *, limit: int = limits.page_size_default, cursor: str | None = None
    ) -> Page[LedgerRecord]:
        """An owner's ledgers, oldest first."""
        owner = validate.text("owner_id", owner_id, limits.owner_id_length_max)
        query = ledgers_by_owner(owner)
        return self._store.page(query, page_size(limit), cursor, LedgerRecord)

    def register_currency(self, ledger_id: str, code: str, scale: int) -> Currency:
        """Add a currency with its scale to a ledger; the same scale again is a no-op."""
        ledger_token(ledger_id)
        if isinstance(scale, bool) or not isinstance(scale, int):
            raise ValidationError("scale", "scale must be a whole number")
        currency = Currency(validate.text("currency", code, 12), scale)
        if currency.code in builtin_currencies:
            raise ValidationError(
                "currency", f"{currency.code} is built in and cannot be redefined"
            )
        self._store.execute(WritePlan((RegisterCurrency(ledger_id, currency),)))
        return currency

    # Accounts

    def create_account(
        self,
        ledger_id: str,
        name: str,
        type: AccountType | str,
        currency: str,
        *,
        code: str | None = None,
        parent_id: str | None = None,
        owner_id: str | None = None,
        overdraft: OverdraftMode | str = OverdraftMode.FORBID,
        credit_limit: Amount | None = None,
        metadata: dict[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Account:
        """Open an account; its currency's `world` account comes into being with it."""
        ledger_token(ledger_id)
        account_type = validate.choice("type", AccountType, type)
        resolved, registered = self._currency_of(ledger_id, currency)
        policy = overdraft_policy(resolved, overdraft, credit_limit)
        key = validate.idempotency_key(idempotency_key)
        command = NewAccount(
            account_id=new_account_id(ledger_id, resolved, account_type.normal_balance, key),
            ledger_id=ledger_id,
            name=validate.text("name", name, limits.name_length_max),
            type=account_type,
            currency=resolved,
            registered_currency=registered,
            code=validate.code(code),
            parent=None if parent_id is None else parse_account_id(parent_id),
            owner_id=validate.optional_text("owner_id", owner_id, limits.owner_id_length_max),
            overdraft=policy,
            metadata=validate.metadata(metadata),
            key_digest=None if key is None else hashlib.sha256(key.encode()).hexdigest(),
        )
        account, plan = plan_account(command, self._clock())
        return self._write(account, plan, key)

    def _currency_of(self, ledger_id: str, code: str) -> tuple[Currency, bool]:
        """A built-in currency, or one the ledger registered (which costs one read)."""
        if not isinstance(code, str):
            raise ValidationError("currency", 'currency must be a currency code such as "USD"')
        if code in builtin_currencies:
            return builtin_currencies[code], False
        scale = self.get_ledger(ledger_id).currencies.get(code)
        if scale is None:
            raise ValidationError("currency", f"currency {code!r} is not known to this ledger")
        return Currency(code, scale), True

    def get_account(self, account_id: str) -> Account:
        """An account with its current balances."""
        parse_account_id(account_id)
        account = self._store.get(Target("account", account_id), Account)
        if account is None:
            raise NotFound("account", account_id)
        return account

    def get_balance(self, account_id: str) -> Balance:
        """An account's balance now: one strongly consistent read."""
        return self.get_account(account_id).balance()

    def list_accounts(
        self,
        ledger_id: str,
        *,
        type: AccountType | str | None = None,
        owner_id: str | None = None,
        parent_id: str | None = None,
        limit: int = limits.page_size_default,
        cursor: str | None = None,
    ) -> Page[Account]:
        """A ledger's accounts, optionally of one type and one owner or one parent."""
        ledger_token(ledger_id)
        account_type = None if type is None else validate.choice("type", AccountType, type)
        query = accounts_of(
            ledger_id,
            account_type,
            validate.optional_text("owner_id", owner_id, limits.owner_id_length_max),
            validate.optional_text("parent_id", parent_id, limits.name_length_max),
        )
        return self._store.page(query, page_size(limit), cursor, Account)

    def set_account_status(self, account_id: str, status: AccountStatus | str) -> Account:
        """Suspend, reactivate or close an account; closing needs zero balances."""
        target = validate.choice("status", AccountStatus, status)
        if parse_account_id(account_id).is_world:
            raise ValidationError("status", "a system account's status cannot change")
        self._store.execute(WritePlan((SetStatus(account_id, target, self._clock()),)))
        return self.get_account(account_id)

    # Entries

    def post_entry(
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

    def get_entry(self, entry_id: str) -> Entry:
        """An entry by id."""
        entry_ledger_id(entry_id)
        entry = self._store.get(Target("entry", entry_id), Entry)
        if entry is None:
            raise NotFound("entry", entry_id)
        return entry

    def list_entries(
        self,
        ledger_id: str,
        *,
        reference: str | None = None,
        limit: int = limits.page_size_default,
        cursor: str | None = None,
    ) -> Page[Entry]:
        """A ledger's entries, newest first, optionally only those with one reference."""
        ledger_token(ledger_id)
        query = entries_of(
            ledger_id, validate.optional_text("reference", reference, limits.reference_length_max)
        )
        return self._store.page(query, page_size(limit), cursor, Entry)

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
        operations: Sequence[Mapping[str, Any]],
        *,
        net: bool = False,
        idempotency_key: str | None = None,
    ) -> BatchResult:
        """Many operations as one transaction, all or nothing; a refusal names its operation
        in `details.operation_index`. With `net`, transfers between the same two accounts are
        netted into one entry first."""
        key = validate.idempotency_key(idempotency_key)
        planned = plan_batch(operations, key, net, self._clock())
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

    # Two-phase entries, holds and escrows

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

    def confirm_hold(self, hold_id: str, amount: Amount | None = None) -> Entry:
        """Settle a hold, fully or for less (the rest is released)."""
        return self._post_pending(self._pending_of(hold_id, EntryKind.HOLD), amount)

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

    def release_escrow(self, escrow_id: str) -> Entry:
        """Pay the escrowed amount to the seller."""
        return self._post_pending(self._pending_of(escrow_id, EntryKind.ESCROW), None)

    def refund_escrow(self, escrow_id: str) -> Entry:
        """Return the escrowed amount to the buyer."""
        return self._void_pending(self._pending_of(escrow_id, EntryKind.ESCROW))

    def post_pending(self, entry_id: str, amount: Amount | None = None) -> Entry:
        """Post a pending entry: one consistent read, then one guarded write. Returns the
        pending entry, now posted, with `posting_entry_id`."""
        return self._post_pending(self.get_entry(entry_id), amount)

    def void_pending(self, entry_id: str) -> Entry:
        """Release a pending entry: one consistent read, then one write. Returns it voided."""
        return self._void_pending(self.get_entry(entry_id))

    def _post_pending(self, pending: Entry, amount: Amount | None) -> Entry:
        currency = parse_account_id(pending.lines[0].account_id).currency
        minor = None if amount is None else parse_amount(amount, currency)
        posting_id = derived_entry_id(pending.id, "posting")
        if pending.posting_entry_id == posting_id and self._is_replay(
            posting_id, posting_request_hash(pending.id, minor)
        ):
            return replace(pending, replayed=True)
        posting, resolved, plan = plan_post(pending, posting_id, minor, self._clock())
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
        expired = 0
        for shard in range(limits.expiry_shards):
            cursor: str | None = None
            for _ in range(limits.expiry_sweep_pages_max):
                page = self._store.page(
                    expired_by(shard, now), limits.expiry_sweep_page_size, cursor, Entry
                )
                for entry in page.items:
                    expired += self._expire(entry, now)
                cursor = page.next_cursor
                if cursor is None:
                    break
        return expired

    def _expire(self, entry: Entry, now: datetime) -> int:
        """1 if this call expired the entry; 0 if a post or void resolved it first."""
        try:
            _, plan = plan_void(entry, now, EntryStatus.EXPIRED)
            self._store.execute(plan)
        except AlreadyResolved:
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

    # Corrections and credit

    def reverse(self, entry_id: str, *, description: str | None = None) -> Entry:
        """Post the mirror of an entry, linked both ways; an entry is reversed at most once."""
        text = validate.optional_text("description", description, limits.description_length_max)
        original = self.get_entry(entry_id)
        reversal_id = derived_entry_id(original.id, "reversal")
        if original.reversed_by == reversal_id and self._is_replay(
            reversal_id, reversal_request_hash(original.id, text)
        ):
            return replace(self.get_entry(reversal_id), replayed=True)
        reversal, plan = plan_reversal(original, reversal_id, text, self._clock())
        refusal = AlreadyReversed(
            f"entry {original.id} is reversed already", {"entry_id": original.id}
        )
        return self._write(reversal, plan, reversal_id, refusal)

    def set_overdraft(
        self,
        account_id: str,
        overdraft: OverdraftMode | str,
        credit_limit: Amount | None = None,
    ) -> Account:
        """Change an account's overdraft policy or credit limit; a limit below what is drawn
        is refused."""
        account = self.get_account(account_id)
        policy = overdraft_policy(account.currency, overdraft, credit_limit)
        self._store.execute(plan_overdraft_change(account, policy, self._clock()))
        return self.get_account(account_id)

    # Internals

    def _preset(
        self,
        kind: EntryKind,
        account_id: str,
        counterparty_id: str | None,
        amount: Amount,
        options: EntryOptions,
        *,
        inflow: bool,
        pending: PendingTerms | None = None,
    ) -> Entry:
        """A two-line entry: the account gains (inflow) or gives (outflow) on its own side."""
        lines = two_line_drafts(account_id, counterparty_id, amount, inflow=inflow)
        return self._post(lines[0].account.ledger_id, kind, lines, options, pending)

    def _post(
        self,
        ledger_id: str,
        kind: EntryKind,
        lines: Sequence[LineDraft],
        options: EntryOptions,
        pending: PendingTerms | None = None,
    ) -> Entry:
        key = validate.idempotency_key(options.get("idempotency_key"))
        entry_id = new_entry_id(ledger_id, key)
        command = entry_command(entry_id, ledger_id, kind, lines, options, pending=pending)
        entry, plan = plan_entry(command, self._clock())
        return self._write(entry, plan, key)

    def _write(
        self,
        record: R,
        plan: WritePlan,
        idempotency_key: str | None,
        refusal: LedgerError | None = None,
    ) -> R:
        """Execute the plan; if its record exists already, replay it or refuse the reused key
        (or raise `refusal`, for records whose id derives from another entry)."""
        try:
            self._store.execute(plan)
        except Duplicate as duplicate:
            existing = duplicate.existing
            if type(existing) is not type(record) or existing.request_hash != record.request_hash:
                raise refusal or IdempotencyKeyReused(
                    "this idempotency key was already used for a different request"
                ) from None
            # Without a key the id was random: only this call's own retry can have written it.
            return replace(existing, replayed=idempotency_key is not None)
        return record
