"""Client routes for ledgers and accounts, their balances and policies."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from ledger.client import decode
from ledger.client.base import ClientBase, amount_text, follow, present
from ledger.client.transport import Call, path
from ledger.domain import limits
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
from ledger.domain.money import Currency


class BooksClient(ClientBase):
    """Ledgers and accounts: create, read, list, update; an account's balance."""

    def create_ledger(
        self,
        name: str,
        *,
        owner_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        world_shards: int | None = None,
    ) -> LedgerRecord:
        """Create a ledger: a namespace of accounts and entries; its `world` accounts have
        `world_shards` shards (the server's default, 8, when not given)."""
        body = present(name=name, owner_id=owner_id, metadata=metadata, world_shards=world_shards)
        return decode.ledger_record(
            self._create(body, idempotency_key, "ledgers"), self._replayed()
        )

    def get_ledger(self, ledger_id: str) -> LedgerRecord:
        """A ledger by id."""
        return decode.ledger_record(self._send(Call("GET", path("ledgers", ledger_id))))

    def list_ledgers(
        self, *, owner_id: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> Page[LedgerRecord]:
        """One page of the ledgers in the key's scope; with `owner_id`, that owner's."""
        query = {"owner_id": owner_id, "limit": limit, "cursor": cursor}
        return decode.page(self._send(Call("GET", path("ledgers"), query)), decode.ledger_record)

    def iter_ledgers(
        self,
        *,
        owner_id: str | None = None,
        page_size: int = limits.page_size_max,
        pages_max: int | None = None,
    ) -> Iterator[LedgerRecord]:
        """The ledgers in the key's scope (with `owner_id`, that owner's), following cursors
        to the end; past `pages_max` pages, if given, PagesMaxReached."""
        return follow(
            lambda cursor: self.list_ledgers(owner_id=owner_id, limit=page_size, cursor=cursor),
            pages_max,
        )

    def register_currency(self, ledger_id: str, code: str, scale: int) -> Currency:
        """Register a currency with its scale in a ledger (admin); the same again is a no-op."""
        call = Call(
            "POST", path("ledgers", ledger_id, "currencies"), body={"code": code, "scale": scale}
        )
        registered = self._send(call)
        return Currency(registered["code"], registered["scale"])

    def list_currencies(self, ledger_id: str) -> list[tuple[Currency, bool]]:
        """Every currency a ledger knows, by code, each with whether it is built in."""
        call = Call("GET", path("ledgers", ledger_id, "currencies"))
        return decode.currencies(self._send(call))

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
        overdraft: OverdraftMode | str | None = None,
        credit_limit: Amount | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        shards: int | None = None,
    ) -> Account:
        """Open an account; `overdraft` is forbid (default), limit (with `credit_limit`)
        or allow; an account that allows may have `shards` (1 to 64)."""
        body = present(
            ledger_id=ledger_id,
            name=name,
            type=type,
            currency=currency,
            code=code,
            parent_id=parent_id,
            owner_id=owner_id,
            overdraft=_overdraft(overdraft, credit_limit),
            shards=shards,
            metadata=metadata,
        )
        return decode.account(self._create(body, idempotency_key, "accounts"), self._replayed())

    def get_account(self, account_id: str) -> Account:
        """An account with its balance."""
        return decode.account(self._send(Call("GET", path("accounts", account_id))))

    def list_accounts(
        self,
        ledger_id: str,
        *,
        type: AccountType | str | None = None,
        owner_id: str | None = None,
        parent_id: str | None = None,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> Page[Account]:
        """One page of a ledger's accounts, optionally of one type, owner or parent."""
        query = {
            "ledger_id": ledger_id,
            "type": type,
            "owner_id": owner_id,
            "parent_id": parent_id,
            "limit": limit,
            "cursor": cursor,
        }
        return decode.page(self._send(Call("GET", path("accounts"), query)), decode.account)

    def iter_accounts(
        self,
        ledger_id: str,
        *,
        type: AccountType | str | None = None,
        owner_id: str | None = None,
        parent_id: str | None = None,
        page_size: int = limits.page_size_max,
        pages_max: int | None = None,
    ) -> Iterator[Account]:
        """A ledger's accounts, following cursors to the end; past `pages_max` pages, if
        given, PagesMaxReached."""
        return follow(
            lambda cursor: self.list_accounts(
                ledger_id,
                type=type,
                owner_id=owner_id,
                parent_id=parent_id,
                limit=page_size,
                cursor=cursor,
            ),
            pages_max,
        )

    def update_account(
        self,
        account_id: str,
        *,
        name: str | None = None,
        status: AccountStatus | str | None = None,
        overdraft: OverdraftMode | str | None = None,
        credit_limit: Amount | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Account:
        """Rename an account, change its status or overdraft policy, or replace its metadata
        (status and overdraft need an admin key)."""
        body = present(
            name=name,
            status=status,
            overdraft=_overdraft(overdraft, credit_limit),
            metadata=metadata,
        )
        call = Call("PATCH", path("accounts", account_id), body=body)
        return decode.account(self._send(call))

    def get_balance(self, account_id: str) -> Balance:
        """An account's balance now (strongly consistent)."""
        return decode.balance(self._send(Call("GET", path("accounts", account_id, "balance"))))


def _overdraft(
    mode: OverdraftMode | str | None, credit_limit: Amount | None
) -> dict[str, str] | None:
    if mode is None and credit_limit is None:
        return None
    policy = {"mode": "limit" if mode is None else str(mode)}
    if credit_limit is not None:
        policy["limit"] = amount_text(credit_limit, "credit_limit")
    return policy
