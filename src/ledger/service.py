"""The public library facade: validate, plan, hand the plan to a store, settle replays."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, TypedDict, TypeVar

from ledger import limits, validate
from ledger.errors import CurrencyMismatch, IdempotencyKeyReused, NotFound, ValidationError
from ledger.ids import (
    AccountRef,
    entry_ledger_id,
    ledger_token,
    new_account_id,
    new_entry_id,
    new_ledger_id,
    parse_account_id,
    world_account_id,
)
from ledger.model import (
    Account,
    AccountStatus,
    AccountType,
    Balance,
    Entry,
    EntryKind,
    LedgerRecord,
    Overdraft,
    OverdraftMode,
    Page,
    Side,
)
from ledger.money import Currency, builtin_currencies, parse_amount
from ledger.operations import Duplicate, RegisterCurrency, SetStatus, Target, WritePlan
from ledger.plan import (
    LineDraft,
    NewAccount,
    NewEntry,
    check_currency,
    plan_account,
    plan_entry,
    plan_ledger,
)
from ledger.store import Store
from ledger.store.keys import accounts_of, entries_of, ledgers_by_owner

if TYPE_CHECKING:
    from typing_extensions import Unpack

Amount = str | Decimal
R = TypeVar("R", LedgerRecord, Account, Entry)


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class LineInput:
    """One line of a journal entry as a caller gives it."""

    account_id: str
    side: Side | str
    amount: Amount
    currency: str | None = None


class EntryOptions(TypedDict, total=False):
    """What every entry-creating call takes besides its accounts and amounts."""

    description: str | None
    reference: str | None
    effective_at: datetime | None
    metadata: dict[str, str] | None
    idempotency_key: str | None


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
        return self._store.page(query, _page_size(limit), cursor, LedgerRecord)

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
        mode = validate.choice("overdraft", OverdraftMode, overdraft)
        if mode is OverdraftMode.LIMIT:
            if credit_limit is None:
                raise ValidationError("credit_limit", "overdraft limit needs a credit_limit")
            limit = parse_amount(credit_limit, resolved, "credit_limit")
        elif credit_limit is not None:
            raise ValidationError("credit_limit", "credit_limit goes only with overdraft limit")
        else:
            limit = 0
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
            overdraft=Overdraft(mode, limit),
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
        return self._store.page(query, _page_size(limit), cursor, Account)

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
        **options: Unpack[EntryOptions],
    ) -> Entry:
        """Post a balanced multi-line journal entry."""
        ledger_token(ledger_id)
        drafts = []
        for index, line in enumerate(lines):
            account = parse_account_id(line.account_id)
            check_currency(line.currency, account, f"lines[{index}].currency")
            drafts.append(
                LineDraft(
                    account,
                    validate.choice(f"lines[{index}].side", Side, line.side),
                    parse_amount(line.amount, account.currency, f"lines[{index}].amount"),
                )
            )
        return self._post(ledger_id, EntryKind.ENTRY, drafts, options)

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
        return self._store.page(query, _page_size(limit), cursor, Entry)

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
    ) -> Entry:
        """A two-line entry: the account gains (inflow) or gives (outflow) on its own side."""
        account = parse_account_id(account_id)
        counterparty = (
            parse_account_id(world_account_id(account.ledger_id, account.currency))
            if counterparty_id is None
            else parse_account_id(counterparty_id)
        )
        _check_same_currency(account, counterparty)
        minor = parse_amount(amount, account.currency)
        side = account.normal_balance if inflow else account.normal_balance.opposite
        lines = [LineDraft(account, side, minor), LineDraft(counterparty, side.opposite, minor)]
        return self._post(account.ledger_id, kind, lines, options)

    def _post(
        self, ledger_id: str, kind: EntryKind, lines: Sequence[LineDraft], options: EntryOptions
    ) -> Entry:
        key = validate.idempotency_key(options.get("idempotency_key"))
        command = NewEntry(
            entry_id=new_entry_id(ledger_id, key),
            ledger_id=ledger_id,
            kind=kind,
            lines=lines,
            description=validate.optional_text(
                "description", options.get("description"), limits.description_length_max
            ),
            reference=validate.optional_text(
                "reference", options.get("reference"), limits.reference_length_max
            ),
            metadata=validate.metadata(options.get("metadata")),
            effective_at=validate.moment("effective_at", options.get("effective_at")),
        )
        entry, plan = plan_entry(command, self._clock())
        return self._write(entry, plan, key)

    def _write(self, record: R, plan: WritePlan, idempotency_key: str | None) -> R:
        """Execute the plan; if its record exists already, replay it or refuse the reused key."""
        try:
            self._store.execute(plan)
        except Duplicate as duplicate:
            existing = duplicate.existing
            if type(existing) is not type(record) or existing.request_hash != record.request_hash:
                raise IdempotencyKeyReused(
                    "this idempotency key was already used for a different request"
                ) from None
            # Without a key the id was random: only this call's own retry can have written it.
            return replace(existing, replayed=idempotency_key is not None)
        return record


def _check_same_currency(account: AccountRef, counterparty: AccountRef) -> None:
    if account.currency != counterparty.currency:
        raise CurrencyMismatch(
            f"account {account.id} holds {account.currency.code} but "
            f"{counterparty.id} holds {counterparty.currency.code}",
            {"account_id": counterparty.id},
        )


def _page_size(limit: int) -> int:
    if (
        isinstance(limit, bool)
        or not isinstance(limit, int)
        or not 1 <= limit <= limits.page_size_max
    ):
        raise ValidationError(
            "limit", f"limit must be a whole number from 1 to {limits.page_size_max}"
        )
    return limit
