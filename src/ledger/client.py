"""A Python client for the ledger's HTTP API (API.md), on the standard library alone."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar, cast

from ledger import limits
from ledger.client_transport import Call, Response, ServiceUnreachable, Transport, path
from ledger.client_types import (
    Account,
    Amount,
    ApiKey,
    Balance,
    BatchResult,
    CreatedApiKey,
    Entry,
    Health,
    Ledger,
    LineInput,
    Page,
)

__all__ = ["LedgerClient", "Response", "ServiceUnreachable"]

T = TypeVar("T")

pages_max_default = 100
_amount_fields = ("amount", "from_amount", "to_amount")


class LedgerClient:
    """Typed methods for every route of the HTTP API; amounts go in as `Decimal` or decimal
    strings (a float or int raises TypeError before any request) and come back as strings.

    `timeout_s` bounds each connect and each read of one attempt. A non-2xx answer raises
    the library's exception for its `error.code` (InternalError for an unknown code), with
    the response's `X-Request-Id` as `request_id`. After a success, `last_response` holds
    its status, headers, `request_id` and `replayed` flag; it belongs to the client, so
    threads sharing one client should not rely on it.

    Retries, at most `attempts_max` attempts with jittered exponential backoff, on 429
    (honouring Retry-After), 502/503/504, timeouts and connection errors:
    - reads, PATCH and DELETE are retried: they are idempotent;
    - every POST that creates something carries an `Idempotency-Key` (the caller's
      `idempotency_key`, or a fresh uuid4) and every retry sends the same key, so the
      service answers a retry with the first result instead of writing twice;
    - posting a pending entry (`post_entry`, `confirm_hold`, `release_escrow`) is retried:
      the service derives the posting's id from the pending entry, so a second post replays
      the first; `reconcile` only reads;
    - `void_entry`, `release_hold` and `refund_escrow` carry no key and are NOT retried once
      the request may have reached the service (timeout, 5xx): had the first attempt voided
      the entry, the retry would fail with `already_resolved`. They are retried only when
      the request surely never arrived (connection refused) or was turned away with 429.
    When no attempt gets an answer, ServiceUnreachable carries the `idempotency_key` to send
    the same write again with.
    """

    def __init__(
        self,
        base_url: str,
        api_key: str | None = None,
        *,
        timeout_s: float = 10.0,
        attempts_max: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._transport = Transport(
            base_url, api_key, timeout_s=timeout_s, attempts_max=attempts_max, sleep=sleep
        )
        self.last_response: Response | None = None

    @classmethod
    def from_env(cls, *, timeout_s: float = 10.0, attempts_max: int = 4) -> LedgerClient:
        """A client for `LEDGER_URL` with the key in `LEDGER_API_KEY` (optional)."""
        base_url = os.environ.get("LEDGER_URL")
        if not base_url:
            raise ValueError("LEDGER_URL is not set: export the ledger API's URL")
        api_key = os.environ.get("LEDGER_API_KEY") or None
        return cls(base_url, api_key, timeout_s=timeout_s, attempts_max=attempts_max)

    # Service

    def health(self) -> Health:
        """`{"status": "ok"}` while the service is up; needs no key."""
        return cast("Health", self._send(Call("GET", path("health"))))

    def openapi(self) -> dict[str, Any]:
        """The OpenAPI document of the service."""
        return cast("dict[str, Any]", self._send(Call("GET", path("openapi.json"))))

    # Ledgers

    def create_ledger(
        self,
        name: str,
        *,
        owner_id: str | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Ledger:
        """Create a ledger: a namespace of accounts and entries."""
        body = _present(name=name, owner_id=owner_id, metadata=metadata)
        return cast("Ledger", self._create(body, idempotency_key, "ledgers"))

    def get_ledger(self, ledger_id: str) -> Ledger:
        """A ledger by id."""
        return cast("Ledger", self._send(Call("GET", path("ledgers", ledger_id))))

    def list_ledgers(
        self, *, owner_id: str | None = None, limit: int | None = None, cursor: str | None = None
    ) -> Page[Ledger]:
        """One page of an owner's ledgers."""
        query = {"owner_id": owner_id, "limit": limit, "cursor": cursor}
        return cast("Page[Ledger]", self._send(Call("GET", path("ledgers"), query)))

    def iter_ledgers(
        self,
        *,
        owner_id: str | None = None,
        page_size: int = limits.page_size_max,
        pages_max: int = pages_max_default,
    ) -> Iterator[Ledger]:
        """An owner's ledgers, following cursors for at most `pages_max` pages."""
        return _follow(
            lambda cursor: self.list_ledgers(owner_id=owner_id, limit=page_size, cursor=cursor),
            pages_max,
        )

    # Accounts

    def create_account(
        self,
        ledger_id: str,
        name: str,
        type: str,
        currency: str,
        *,
        code: str | None = None,
        parent_id: str | None = None,
        owner_id: str | None = None,
        overdraft: str | None = None,
        credit_limit: Amount | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Account:
        """Open an account; `overdraft` is forbid (default), limit (with `credit_limit`)
        or allow."""
        body = _present(
            ledger_id=ledger_id,
            name=name,
            type=type,
            currency=currency,
            code=code,
            parent_id=parent_id,
            owner_id=owner_id,
            overdraft=_overdraft(overdraft, credit_limit),
            metadata=metadata,
        )
        return cast("Account", self._create(body, idempotency_key, "accounts"))

    def get_account(self, account_id: str) -> Account:
        """An account with its balance."""
        return cast("Account", self._send(Call("GET", path("accounts", account_id))))

    def list_accounts(
        self,
        ledger_id: str,
        *,
        type: str | None = None,
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
        return cast("Page[Account]", self._send(Call("GET", path("accounts"), query)))

    def iter_accounts(
        self,
        ledger_id: str,
        *,
        type: str | None = None,
        owner_id: str | None = None,
        parent_id: str | None = None,
        page_size: int = limits.page_size_max,
        pages_max: int = pages_max_default,
    ) -> Iterator[Account]:
        """A ledger's accounts, following cursors for at most `pages_max` pages."""
        return _follow(
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
        status: str | None = None,
        overdraft: str | None = None,
        credit_limit: Amount | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> Account:
        """Rename an account, change its status or overdraft policy, or replace its metadata
        (status and overdraft need an admin key)."""
        body = _present(
            name=name,
            status=status,
            overdraft=_overdraft(overdraft, credit_limit),
            metadata=metadata,
        )
        return cast("Account", self._send(Call("PATCH", path("accounts", account_id), body=body)))

    def get_balance(self, account_id: str) -> Balance:
        """An account's balance now (strongly consistent)."""
        return cast("Balance", self._send(Call("GET", path("accounts", account_id, "balance"))))

    # Journal

    def create_entry(
        self,
        ledger_id: str,
        lines: Sequence[LineInput],
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
        body = _present(
            ledger_id=ledger_id,
            lines=[_line(line, f"lines[{index}]") for index, line in enumerate(lines)],
            description=description,
            reference=reference,
            effective_at=_time(effective_at),
            metadata=metadata,
            pending=_present(expires_in=expires_in) if pending else None,
        )
        return cast("Entry", self._create(body, idempotency_key, "entries"))

    def get_entry(self, entry_id: str) -> Entry:
        """An entry by id."""
        return cast("Entry", self._send(Call("GET", path("entries", entry_id))))

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
        return cast("Page[Entry]", self._send(Call("GET", path("entries"), query)))

    def iter_entries(
        self,
        ledger_id: str | None = None,
        *,
        reference: str | None = None,
        account_id: str | None = None,
        page_size: int = limits.page_size_max,
        pages_max: int = pages_max_default,
    ) -> Iterator[Entry]:
        """Entries as `list_entries` selects them, following cursors for at most
        `pages_max` pages."""
        return _follow(
            lambda cursor: self.list_entries(
                ledger_id,
                reference=reference,
                account_id=account_id,
                limit=page_size,
                cursor=cursor,
            ),
            pages_max,
        )

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
        body = _present(description=description)
        return cast("Entry", self._create(body, idempotency_key, "entries", entry_id, "reverse"))

    # Operations: each creates one entry

    def deposit(
        self,
        account_id: str,
        amount: Amount,
        *,
        counterparty_account_id: str | None = None,
        reference: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Entry:
        """Money comes into the account from the counterparty (default: the ledger's world)."""
        body = _present(
            account_id=account_id,
            amount=_amount(amount),
            counterparty_account_id=counterparty_account_id,
            reference=reference,
            description=description,
            metadata=metadata,
        )
        return cast("Entry", self._create(body, idempotency_key, "deposits"))

    def withdraw(
        self,
        account_id: str,
        amount: Amount,
        *,
        counterparty_account_id: str | None = None,
        reference: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Entry:
        """Money leaves the account to the counterparty (default: world), within its floor."""
        body = _present(
            account_id=account_id,
            amount=_amount(amount),
            counterparty_account_id=counterparty_account_id,
            reference=reference,
            description=description,
            metadata=metadata,
        )
        return cast("Entry", self._create(body, idempotency_key, "withdrawals"))

    def spend(
        self,
        account_id: str,
        amount: Amount,
        *,
        counterparty_account_id: str | None = None,
        reference: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Entry:
        """The account pays the counterparty (default: world), within its floor."""
        body = _present(
            account_id=account_id,
            amount=_amount(amount),
            counterparty_account_id=counterparty_account_id,
            reference=reference,
            description=description,
            metadata=metadata,
        )
        return cast("Entry", self._create(body, idempotency_key, "spends"))

    def refund(
        self,
        account_id: str,
        amount: Amount,
        *,
        counterparty_account_id: str | None = None,
        reference: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Entry:
        """Money goes back into the account from the counterparty (default: world)."""
        body = _present(
            account_id=account_id,
            amount=_amount(amount),
            counterparty_account_id=counterparty_account_id,
            reference=reference,
            description=description,
            metadata=metadata,
        )
        return cast("Entry", self._create(body, idempotency_key, "refunds"))

    def transfer(
        self,
        from_account_id: str,
        to_account_id: str,
        amount: Amount,
        *,
        reference: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Entry:
        """Move an amount between two accounts of the same ledger and currency."""
        body = _present(
            from_account_id=from_account_id,
            to_account_id=to_account_id,
            amount=_amount(amount),
            reference=reference,
            description=description,
            metadata=metadata,
        )
        return cast("Entry", self._create(body, idempotency_key, "transfers"))

    def hold(
        self,
        account_id: str,
        amount: Amount,
        *,
        counterparty_account_id: str | None = None,
        expires_in: int | None = None,
        reference: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Entry:
        """Reserve an amount of the account for the counterparty (default: world): a
        pending entry, expiring after `expires_in` seconds if given."""
        body = _present(
            account_id=account_id,
            amount=_amount(amount),
            counterparty_account_id=counterparty_account_id,
            expires_in=expires_in,
            reference=reference,
            description=description,
            metadata=metadata,
        )
        return cast("Entry", self._create(body, idempotency_key, "holds"))

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
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Entry:
        """Set an amount of the buyer's aside for the seller: a pending entry."""
        body = _present(
            buyer_account_id=buyer_account_id,
            seller_account_id=seller_account_id,
            amount=_amount(amount),
            expires_in=expires_in,
            reference=reference,
            description=description,
            metadata=metadata,
        )
        return cast("Entry", self._create(body, idempotency_key, "escrows"))

    def release_escrow(self, escrow_id: str) -> Entry:
        """Pay the escrowed amount to the seller."""
        return self._resolve(escrow_id, "escrows", "release")

    def refund_escrow(self, escrow_id: str) -> Entry:
        """Return the escrowed amount to the buyer (not retried once sent: see the class
        docstring)."""
        return self._resolve(escrow_id, "escrows", "refund", repeatable=False)

    def convert(
        self,
        from_account_id: str,
        to_account_id: str,
        from_amount: Amount,
        to_amount: Amount,
        *,
        reference: str | None = None,
        description: str | None = None,
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
    ) -> Entry:
        """Exchange between accounts of two currencies at the rate the amounts imply."""
        body = _present(
            from_account_id=from_account_id,
            to_account_id=to_account_id,
            from_amount=_amount(from_amount, "from_amount"),
            to_amount=_amount(to_amount, "to_amount"),
            reference=reference,
            description=description,
            metadata=metadata,
        )
        return cast("Entry", self._create(body, idempotency_key, "conversions"))

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
        return cast("BatchResult", self._create(body, idempotency_key, "batches"))

    # Reports and integrity

    def balance_sheet(self, ledger_id: str, currency: str) -> dict[str, Any]:
        """The ledger's balance sheet in one currency."""
        call = Call("GET", path("ledgers", ledger_id, "balance-sheet"), {"currency": currency})
        return cast("dict[str, Any]", self._send(call))

    def trial_balance(self, ledger_id: str, currency: str) -> dict[str, Any]:
        """The ledger's trial balance in one currency."""
        call = Call("GET", path("ledgers", ledger_id, "trial-balance"), {"currency": currency})
        return cast("dict[str, Any]", self._send(call))

    def reconcile(self, ledger_id: str) -> dict[str, Any]:
        """Check the ledger's conservation and every account against its journal."""
        call = Call("POST", path("ledgers", ledger_id, "reconciliations"))
        return cast("dict[str, Any]", self._send(call))

    # API keys (admin)

    def create_api_key(
        self,
        role: str,
        *,
        ledger_ids: Sequence[str] | None = None,
        owner_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> CreatedApiKey:
        """A new API key; its secret (`key`) is in this answer only.

        The service refuses a repeated key with `idempotency_key_reused` instead of replaying
        it (a replay would need the secret, which is not kept): after a retry, that error means
        an earlier attempt created a key whose secret is lost. Revoke it and create another.
        """
        body = _present(
            role=role,
            ledger_ids=None if ledger_ids is None else list(ledger_ids),
            owner_id=owner_id,
        )
        return cast("CreatedApiKey", self._create(body, idempotency_key, "api-keys"))

    def revoke_api_key(self, key_id: str) -> ApiKey:
        """Revoke a key for good; returns its record, now revoked."""
        return cast("ApiKey", self._send(Call("DELETE", path("api-keys", key_id))))

    # Plumbing

    def _send(self, call: Call) -> Any:
        response = self._transport.send(call)
        self.last_response = response
        return response.body

    def _create(self, body: dict[str, Any], idempotency_key: str | None, *segments: str) -> Any:
        key = str(uuid.uuid4()) if idempotency_key is None else idempotency_key
        return self._send(Call("POST", path(*segments), body=body, idempotency_key=key))

    def _resolve(
        self,
        entry_id: str,
        resource: str,
        action: str,
        *,
        amount: Amount | None = None,
        repeatable: bool = True,
    ) -> Entry:
        body = None if amount is None else {"amount": _amount(amount)}
        call = Call("POST", path(resource, entry_id, action), body=body, repeatable=repeatable)
        return cast("Entry", self._send(call))


def _amount(value: object, name: str = "amount") -> str:
    """A decimal string; floats lose cents and a bare int says nothing about units."""
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, str):
        return value
    raise TypeError(
        f'{name} must be a Decimal or a decimal string such as "10.50", not {type(value).__name__}'
    )


def _present(**fields: Any) -> dict[str, Any]:
    """The fields that were given: an absent optional field is left out, not sent as null."""
    return {name: value for name, value in fields.items() if value is not None}


def _overdraft(mode: str | None, credit_limit: Amount | None) -> dict[str, str] | None:
    if mode is None and credit_limit is None:
        return None
    policy = {"mode": "limit" if mode is None else mode}
    if credit_limit is not None:
        policy["limit"] = _amount(credit_limit, "credit_limit")
    return policy


def _line(line: Mapping[str, Any], name: str) -> dict[str, Any]:
    return {**line, "amount": _amount(line.get("amount"), f"{name}.amount")}


def _operation(operation: Mapping[str, Any], name: str) -> dict[str, Any]:
    body = dict(operation)
    for field in _amount_fields:
        if field in body:
            body[field] = _amount(body[field], f"{name}.{field}")
    if "lines" in body:
        body["lines"] = [
            _line(line, f"{name}.lines[{index}]") for index, line in enumerate(body["lines"])
        ]
    return body


def _time(value: datetime | str | None) -> str | None:
    if not isinstance(value, datetime):
        return value
    if value.tzinfo is None:
        raise ValueError("effective_at must be timezone-aware")
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _follow(fetch: Callable[[str | None], Page[T]], pages_max: int) -> Iterator[T]:
    cursor: str | None = None
    for _ in range(pages_max):
        page = fetch(cursor)
        yield from page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            return
