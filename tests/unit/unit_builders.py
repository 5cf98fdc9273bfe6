"""Synthetic stored records for the pure unit tests, built from the model dataclasses.

Ids are random (made by `ledger.domain.ids`), so no two tests share one by accident.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import replace
from datetime import UTC, datetime

from ledger.domain.ids import new_account_id, new_entry_id, new_ledger_id
from ledger.domain.model import (
    Account,
    AccountStatus,
    AccountType,
    Entry,
    EntryKind,
    EntryStatus,
    LedgerRecord,
    Line,
    Metadata,
    Overdraft,
    OverdraftMode,
    Side,
    Totals,
)
from ledger.domain.money import Currency, builtin_currencies

USD = builtin_currencies["USD"]
EUR = builtin_currencies["EUR"]
JPY = builtin_currencies["JPY"]
ETH = builtin_currencies["ETH"]

created = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
later = datetime(2026, 2, 3, 4, 5, 6, 789012, tzinfo=UTC)

_placeholder = re.compile(r"[#:][A-Za-z0-9_]+")


def a_ledger_id() -> str:
    """A fresh random ledger id."""
    return new_ledger_id(None, None)


def an_account_id(
    ledger_id: str | None = None, currency: Currency = USD, side: Side = Side.DEBIT
) -> str:
    """A fresh random account id, in a fresh ledger unless one is given."""
    return new_account_id(ledger_id or a_ledger_id(), currency, side, None)


def an_entry_id(ledger_id: str | None = None) -> str:
    """A fresh random entry id."""
    return new_entry_id(ledger_id or a_ledger_id(), None)


def a_ledger(
    *,
    ledger_id: str | None = None,
    owner_id: str | None = None,
    currencies: dict[str, int] | None = None,
    metadata: Metadata | None = None,
) -> LedgerRecord:
    """A stored ledger."""
    return LedgerRecord(
        id=ledger_id or a_ledger_id(),
        name=f"ledger {secrets.token_hex(3)}",
        owner_id=owner_id,
        metadata=metadata or {},
        currencies=currencies or {},
        created_at=created,
        request_hash=secrets.token_hex(32),
    )


def an_account(
    *,
    ledger_id: str | None = None,
    account_type: AccountType = AccountType.ASSET,
    currency: Currency = USD,
    status: AccountStatus = AccountStatus.ACTIVE,
    overdraft: Overdraft | None = None,
    totals: Totals | None = None,
    headroom: int = 0,
    code: str | None = None,
    parent_id: str | None = None,
    owner_id: str | None = None,
    metadata: Metadata | None = None,
    last_entry_id: str | None = None,
    version: int = 0,
) -> Account:
    """A stored account, active and empty unless told otherwise."""
    ledger = ledger_id or a_ledger_id()
    return Account(
        id=an_account_id(ledger, currency, account_type.normal_balance),
        ledger_id=ledger,
        name=f"account {secrets.token_hex(3)}",
        type=account_type,
        currency=currency,
        status=status,
        overdraft=overdraft or Overdraft(),
        created_at=created,
        updated_at=later,
        request_hash=secrets.token_hex(32),
        code=code,
        parent_id=parent_id,
        owner_id=owner_id,
        metadata=metadata or {},
        totals=totals or Totals(),
        headroom=headroom,
        version=version,
        last_entry_id=last_entry_id,
    )


def a_world_account(ledger_id: str, totals: Totals) -> Account:
    """A stored `world` account: a system equity account whose overdraft is `allow`."""
    account = an_account(ledger_id=ledger_id, account_type=AccountType.EQUITY, totals=totals)
    return replace(account, system=True, overdraft=Overdraft(OverdraftMode.ALLOW))


def posted_totals(debits: int = 0, credits: int = 0) -> Totals:
    """Lifetime totals with posted amounts only."""
    return Totals(posted_debits=debits, posted_credits=credits)


def an_entry(
    *,
    ledger_id: str | None = None,
    amount: int = 1050,
    currency: Currency = USD,
    description: str | None = None,
    reference: str | None = None,
    metadata: Metadata | None = None,
) -> Entry:
    """A stored two-line posted entry between two fresh accounts of one ledger."""
    ledger = ledger_id or a_ledger_id()
    return Entry(
        id=an_entry_id(ledger),
        ledger_id=ledger,
        kind=EntryKind.TRANSFER,
        status=EntryStatus.POSTED,
        lines=(
            Line(an_account_id(ledger, currency), Side.DEBIT, amount, currency.code),
            Line(an_account_id(ledger, currency), Side.CREDIT, amount, currency.code),
        ),
        effective_at=later,
        created_at=created,
        request_hash=secrets.token_hex(32),
        description=description,
        reference=reference,
        metadata=metadata or {},
    )


def placeholders(*expressions: str) -> set[str]:
    """Every `#name` and `:value` placeholder the expressions use."""
    found: set[str] = set()
    for expression in expressions:
        found.update(_placeholder.findall(expression))
    return found
