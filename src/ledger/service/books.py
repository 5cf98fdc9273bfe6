"""Ledgers, currencies and accounts."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import replace
from datetime import datetime

from ledger.domain import limits, validate
from ledger.domain.errors import (
    NotFound,
    ValidationError,
)
from ledger.domain.ids import (
    ledger_token,
    new_account_id,
    new_ledger_id,
    parse_account_id,
)
from ledger.domain.inputs import Amount
from ledger.domain.model import (
    Account,
    AccountStatus,
    AccountType,
    Balance,
    LedgerRecord,
    OverdraftMode,
    Page,
)
from ledger.domain.money import Currency, builtin_currencies
from ledger.planning.accounts import (
    plan_account,
    plan_ledger,
    plan_overdraft_change,
    plan_sharded_close,
    plan_status_change,
)
from ledger.planning.commands import NewAccount, listing_caller, overdraft_policy, page_size
from ledger.planning.steps import RegisterCurrency, SetDetails, Target, WritePlan
from ledger.service import history
from ledger.service.base import LedgerBase
from ledger.store.listings import AccountsOf, LedgersOf


class Books(LedgerBase):
    """Ledgers, currencies and accounts, their balances and policies."""

    def create_ledger(
        self,
        name: str,
        *,
        owner_id: str | None = None,
        metadata: dict[str, str] | None = None,
        idempotency_key: str | None = None,
        world_shards: int = limits.world_shards_default,
    ) -> LedgerRecord:
        """Create a ledger: a namespace of accounts and entries. Its `world` accounts, which
        every deposit, withdrawal, spend and refund moves, spread over `world_shards` items."""
        owner = validate.optional_text("owner_id", owner_id, limits.owner_id_length_max)
        key = validate.idempotency_key(idempotency_key)
        record, plan = plan_ledger(
            ledger_id=new_ledger_id(owner, key, validate.shard_count("world_shards", world_shards)),
            name=validate.text("name", name, limits.name_length_max),
            owner_id=owner,
            metadata=validate.metadata(metadata),
            now=self._clock(),
            keyed=key is not None,
        )
        return self._write(record, plan, key)

    def list_ledgers(
        self,
        owner_id: str | None = None,
        *,
        ledger_ids: Collection[str] | None = None,
        limit: int = limits.page_size_default,
        cursor: str | None = None,
        caller: str | None = None,
    ) -> Page[LedgerRecord]:
        """Ledgers, oldest first: an owner's, or without `owner_id` every one; with
        `ledger_ids`, only those of them (a scope: nothing else is read). A cursor is good
        only for the listing, and the `caller`, it was given to."""
        owner = validate.optional_text("owner_id", owner_id, limits.owner_id_length_max)
        listing = LedgersOf(owner, _named_ledgers(ledger_ids), listing_caller(caller))
        return self._store.page(listing, page_size(limit), cursor, LedgerRecord)

    def list_currencies(self, ledger_id: str) -> list[tuple[Currency, bool]]:
        """Every currency a ledger knows, by code, each with whether it is built in."""
        registered = self.get_ledger(ledger_id).currencies
        known = [(currency, True) for currency in builtin_currencies.values()]
        known += [(Currency(code, scale), False) for code, scale in registered.items()]
        return sorted(known, key=lambda pair: pair[0].code)

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
        shards: int = 1,
    ) -> Account:
        """Open an account; its currency's `world` account comes into being with it. A hot
        account without a floor (overdraft `allow`: a platform's revenue or fee account) may
        spread its balances over `shards` items, so writes to it do not queue on one."""
        ledger_token(ledger_id)
        account_type = validate.choice("type", AccountType, type)
        resolved, registered = self._currency_of(ledger_id, currency)
        policy = overdraft_policy(resolved, overdraft, credit_limit)
        count = validate.shard_count("shards", shards)
        if count > 1 and policy.mode is not OverdraftMode.ALLOW:
            raise ValidationError(
                "shards",
                "only an account without a floor (overdraft mode allow) can have shards: "
                "a floor is guarded on one balance",
            )
        key = validate.idempotency_key(idempotency_key)
        command = NewAccount(
            account_id=new_account_id(ledger_id, resolved, account_type.normal_balance, key, count),
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
            shards=count,
        )
        account, plan = plan_account(command, self._clock())
        written = self._write(account, plan, key)
        if written.replayed and written.shards > 1:
            # A replay answers with the item that refused the put: read it with its shards.
            return replace(self.get_account(written.id), replayed=True)
        return written

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

    def get_balance(
        self,
        account_id: str,
        *,
        at: datetime | None = None,
        effective_at: datetime | None = None,
    ) -> Balance:
        """An account's balance now (one strongly consistent read), or as recorded at `at`
        and/or counting only what is effective at or before `effective_at`, from its
        history. A time before the account existed gives zero balances."""
        at = validate.moment("at", at)
        effective_at = validate.moment("effective_at", effective_at)
        account = self.get_account(account_id)
        if at is None and effective_at is None:
            return account.balance()
        return history.past(self._store, account, at=at, effective_at=effective_at)

    def list_accounts(
        self,
        ledger_id: str,
        *,
        type: AccountType | str | None = None,
        owner_id: str | None = None,
        parent_id: str | None = None,
        limit: int = limits.page_size_default,
        cursor: str | None = None,
        caller: str | None = None,
    ) -> Page[Account]:
        """A ledger's accounts, optionally of one type and one owner or one parent. A
        cursor is good only for the listing, and the `caller`, it was given to."""
        ledger_token(ledger_id)
        account_type = None if type is None else validate.choice("type", AccountType, type)
        listing = AccountsOf(
            ledger_id,
            account_type,
            validate.optional_text("owner_id", owner_id, limits.owner_id_length_max),
            validate.optional_text("parent_id", parent_id, limits.name_length_max),
        )
        listing = replace(listing, caller=listing_caller(caller))
        return self._store.page(listing, page_size(limit), cursor, Account)

    def update_account(
        self,
        account_id: str,
        *,
        name: str | None = None,
        status: AccountStatus | str | None = None,
        overdraft: OverdraftMode | str | None = None,
        credit_limit: Amount | None = None,
        metadata: dict[str, str] | None = None,
    ) -> Account:
        """Rename an account, replace its metadata, and suspend, reactivate or close it or
        change its overdraft policy (a `credit_limit` alone means mode `limit`).

        All or nothing: status and overdraft are guarded writes (closing needs zero
        balances, a limit below what is drawn is refused), so a call changes at most one of
        them and it goes first; name and metadata, checked beforehand, follow it. Balances
        and version stay as they are; a system account keeps its name and status."""
        policy_given = overdraft is not None or credit_limit is not None
        if status is not None and policy_given:
            raise ValidationError(
                "overdraft",
                "change status and overdraft in separate requests: each is its own guarded write",
            )
        if name is None and metadata is None and status is None and not policy_given:
            raise ValidationError("name", "give a name, status, overdraft or metadata to change")
        new_name = validate.optional_text("name", name, limits.name_length_max)
        new_metadata = None if metadata is None else validate.metadata(metadata)
        ref = parse_account_id(account_id)
        if ref.is_world and new_name is not None:
            raise ValidationError("name", "a system account cannot be renamed")
        if status is not None:
            target = validate.choice("status", AccountStatus, status)
            if ref.is_world:
                raise ValidationError("status", "a system account's status cannot change")
            if target is AccountStatus.CLOSED and ref.shards > 1:
                plan = plan_sharded_close(self.get_account(account_id), self._clock())
            else:
                plan = plan_status_change(ref, target, self._clock())
            self._store.execute(plan)
        if policy_given:
            account = self.get_account(account_id)
            mode = OverdraftMode.LIMIT if overdraft is None else overdraft
            policy = overdraft_policy(account.currency, mode, credit_limit)
            self._store.execute(plan_overdraft_change(account, policy, self._clock()))
        if new_name is not None or new_metadata is not None:
            change = SetDetails(account_id, new_name, new_metadata, self._clock())
            self._store.execute(WritePlan((change,)))
        return self.get_account(account_id)


def _named_ledgers(ledger_ids: Collection[str] | None) -> frozenset[str] | None:
    if ledger_ids is None:
        return None
    if isinstance(ledger_ids, str) or len(ledger_ids) > limits.api_key_ledger_ids_max:
        raise ValidationError(
            "ledger_ids", f"ledger_ids must be a list of at most {limits.api_key_ledger_ids_max}"
        )
    return frozenset(
        validate.text("ledger_ids", value, limits.name_length_max) for value in ledger_ids
    )
