"""Response bodies of the statement route, and their renderer from the domain."""

from __future__ import annotations

from typing import Any

from ledger.api.views import View
from ledger.domain.ids import parse_account_id
from ledger.domain.money import Currency, format_amount
from ledger.domain.results import Statement, StatementBalance, StatementLine
from ledger.domain.views import moment


class StatementBalanceView(View):
    """The two amounts a statement shows of a balance."""

    posted: str
    available: str


class StatementLineView(View):
    """One change of the account, with the balance after it."""

    entry_id: str
    version: int
    kind: str
    side: str
    amount: str
    description: str | None
    reference: str | None
    effective_at: str
    created_at: str
    balance_after: StatementBalanceView


class StatementView(View):
    """A page of an account's statement, oldest first."""

    opening: StatementBalanceView
    closing: StatementBalanceView
    items: list[StatementLineView]
    next_cursor: str | None


def statement_view(statement: Statement) -> dict[str, Any]:
    """A statement page, every amount with exactly the currency's scale."""
    currency = parse_account_id(statement.account_id).currency
    return {
        "opening": _balance(statement.opening, currency),
        "closing": _balance(statement.closing, currency),
        "items": [_line(line, currency) for line in statement.lines],
        "next_cursor": statement.next_cursor,
    }


def _balance(balance: StatementBalance, currency: Currency) -> dict[str, str]:
    return {
        "posted": format_amount(balance.posted, currency),
        "available": format_amount(balance.available, currency),
    }


def _line(line: StatementLine, currency: Currency) -> dict[str, Any]:
    return {
        "entry_id": line.entry_id,
        "version": line.version,
        "kind": line.kind,
        "side": line.side.value,
        "amount": format_amount(line.amount, currency),
        "description": line.description,
        "reference": line.reference,
        "effective_at": moment(line.effective_at),
        "created_at": moment(line.created_at),
        "balance_after": _balance(line.balance_after, currency),
    }
