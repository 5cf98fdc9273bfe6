"""External balance checks: a balance the outside world reports against the sum of `posted`
of the ledger's accounts that mirror it, now or as recorded at a past moment; every check
is stored, and one outside its tolerance emits `ledger.reconciliation.mismatch` in the same
write (docs/reconciliation.md, ADR 0031)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from ledger.domain import events, limits, validate
from ledger.domain.errors import (
    CurrencyMismatch,
    ExternalChecksNotKept,
    IdempotencyKeyReused,
    LedgerMismatch,
    NotFound,
    ValidationError,
)
from ledger.domain.events import OutboxEvent
from ledger.domain.external import ExternalCheck, parse_signed_amount, parse_tolerance
from ledger.domain.ids import new_external_check_id, parse_account_id
from ledger.domain.model import Account, AccountType, Page
from ledger.domain.money import Currency
from ledger.domain.views import external_check_view
from ledger.planning.commands import listing_caller, page_size
from ledger.planning.hashing import request_hash
from ledger.planning.steps import Target
from ledger.service import history
from ledger.service.reports import Reports
from ledger.store.external import ExternalCheckTaken, KeepsExternalChecks, check_position


class ExternalBalances(Reports):
    """Checks of the ledger against balances held outside it."""

    def check_external_balance(
        self,
        ledger_id: str,
        source: str,
        currency: str,
        amount: str,
        *,
        as_of: datetime | None = None,
        account_ids: Sequence[str] | None = None,
        account_type: AccountType | str | None = None,
        tolerance: str = "0",
        actor: str | None = None,
        idempotency_key: str | None = None,
    ) -> ExternalCheck:
        """Compare `amount` (what `source` reports, signed) with the sum of `posted` of the
        named accounts, or of every account of `account_type` in `currency`, now (strongly
        consistent) or as recorded at `as_of`; store the check, and outside `tolerance`
        its `ledger.reconciliation.mismatch` event with it."""
        store = self._external_store()
        name = validate.source_name("source", source)
        resolved = self._report_currency(ledger_id, currency)
        external = parse_signed_amount(amount, resolved, "amount")
        allowed = parse_tolerance(tolerance, resolved)
        checked_by = validate.optional_text("actor", actor, limits.actor_id_length_max)
        key = validate.idempotency_key(idempotency_key)
        now = self._clock()
        moment = validate.moment("as_of", as_of)
        if moment is not None and moment > now:
            raise ValidationError("as_of", "as_of is in the future; a balance is known up to now")
        if moment is not None:
            history.require_history(self._store)
        named, kind = _selection(ledger_id, resolved, account_ids, account_type)
        accounts = (
            self._named_accounts(named)
            if named is not None
            else self._accounts_of_type(ledger_id, resolved, kind)
        )
        total = sum(self._posted(account, moment) for account in accounts)
        check = ExternalCheck(
            id=new_external_check_id(ledger_id, key),
            ledger_id=ledger_id,
            source=name,
            currency=resolved,
            external=external,
            ledger_total=total,
            tolerance=allowed,
            accounts_counted=len(accounts),
            as_of=now if moment is None else moment,
            checked_at=now,
            actor=checked_by,
            account_ids=named,
            account_type=kind,
            request_hash=request_hash(
                {
                    "ledger_id": ledger_id,
                    "source": name,
                    "currency": resolved.code,
                    "amount": external,
                    "tolerance": allowed,
                    "as_of": None if moment is None else moment.isoformat(),
                    "account_ids": named,
                    "account_type": kind,
                }
            ),
        )
        try:
            store.add_external_check(check, None if check.within_tolerance else mismatch(check))
        except ExternalCheckTaken as taken:
            existing = taken.existing
            if existing.request_hash != check.request_hash:
                raise IdempotencyKeyReused(
                    "this idempotency key was already used for a different request"
                ) from None
            # Without a key the id was random: only this call's own retry can have written it.
            return replace(existing, replayed=key is not None)
        return check

    def list_external_checks(
        self,
        ledger_id: str,
        *,
        source: str | None = None,
        limit: int = limits.page_size_default,
        cursor: str | None = None,
        caller: str | None = None,
    ) -> Page[ExternalCheck]:
        """The ledger's checks, by source name and newest first within each (of one source
        with `source`); `cursor` is good only for this ledger, source and caller."""
        store = self._external_store()
        name = None if source is None else validate.source_name("source", source)
        size = page_size(limit)
        binding = json.dumps(
            ["external_checks", ledger_id, name, listing_caller(caller)], separators=(",", ":")
        ).encode()
        self.get_ledger(ledger_id)
        after = None if cursor is None else self._store.unseal(binding, cursor).decode()
        found = store.external_checks(ledger_id, name, after, size + 1)
        items = found[:size]
        more = len(found) > size
        next_cursor = (
            self._store.seal(binding, check_position(items[-1]).encode()) if more else None
        )
        return Page(items, next_cursor)

    def _external_store(self) -> KeepsExternalChecks:
        store = self._store
        if not isinstance(store, KeepsExternalChecks):
            raise ExternalChecksNotKept("this store keeps no external balance checks")
        return store

    def _named_accounts(self, account_ids: tuple[str, ...]) -> list[Account]:
        """The named accounts as they stand, each summed with its shards."""
        accounts: list[Account] = []
        for account_id in account_ids:
            account = self._store.get(Target("account", account_id), Account)
            if account is None:
                raise NotFound("account", account_id)
            accounts.append(account)
        return accounts

    def _accounts_of_type(
        self, ledger_id: str, currency: Currency, kind: AccountType | None
    ) -> list[Account]:
        """Every account of the ledger of that type and currency, within the reports' bound."""
        return [
            account
            for account in self._accounts_of(ledger_id)
            if account.type is kind and account.currency == currency
        ]

    def _posted(self, account: Account, moment: datetime | None) -> int:
        """The account's `posted` now, or as recorded at `moment`, in its own orientation."""
        if moment is None:
            return account.balance().posted
        return history.past(self._store, account, at=moment, effective_at=None).posted


def _selection(
    ledger_id: str,
    currency: Currency,
    account_ids: Sequence[str] | None,
    account_type: AccountType | str | None,
) -> tuple[tuple[str, ...] | None, AccountType | None]:
    """Which accounts a check counts: exactly one of ids (of this ledger and currency,
    unique, at most `limits.external_check_accounts_max`) or a type."""
    if (account_ids is None) == (account_type is None):
        field = "account_ids" if account_ids is None else "account_type"
        raise ValidationError(field, "give exactly one of account_ids and account_type")
    if account_type is not None:
        return None, validate.choice("account_type", AccountType, account_type)
    if isinstance(account_ids, str) or not isinstance(account_ids, Sequence):
        raise ValidationError("account_ids", "account_ids must be a list of account ids")
    bound = limits.external_check_accounts_max
    if not 1 <= len(account_ids) <= bound:
        raise ValidationError("account_ids", f"account_ids must name 1 to {bound} accounts")
    if len(set(account_ids)) != len(account_ids):
        raise ValidationError("account_ids", "account_ids must not name an account twice")
    for account_id in account_ids:
        if not isinstance(account_id, str):
            raise ValidationError("account_ids", "account_ids must be a list of account ids")
        ref = parse_account_id(account_id)
        if ref.ledger_id != ledger_id:
            raise LedgerMismatch(
                f"account {account_id} belongs to ledger {ref.ledger_id}, not {ledger_id}",
                {"account_id": account_id},
            )
        if ref.currency != currency:
            raise CurrencyMismatch(
                f"account {account_id} holds {ref.currency.code}, not {currency.code}",
                {"account_id": account_id},
            )
    return tuple(account_ids), None


def mismatch(check: ExternalCheck) -> OutboxEvent:
    """The `ledger.reconciliation.mismatch` event of a check outside its tolerance: the
    check as the API shows it, with its ledger; one event id per check."""
    return OutboxEvent(
        event_id=events.event_id(check.ledger_id, events.reconciliation_mismatch, check.id),
        detail_type=events.reconciliation_mismatch,
        ledger_id=check.ledger_id,
        time=check.checked_at,
        detail={**external_check_view(check), "ledger_id": check.ledger_id},
    )
