"""Statements of a ledger's accounts (pure): trial balance and balance sheet. Amounts are
integer minor units; callers render them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from ledger.domain.model import Account, AccountType
from ledger.domain.money import Currency
from ledger.domain.results import BalanceSheet, BalanceSheetNode, TrialBalance, TrialBalanceLine

# Conventional order of a chart of accounts, which is not the enum's alphabetical one.
type_order = (
    AccountType.ASSET,
    AccountType.LIABILITY,
    AccountType.EQUITY,
    AccountType.REVENUE,
    AccountType.EXPENSE,
)


def chart_order(account: Account) -> tuple[int, bool, str, datetime, str]:
    """Sort key: by type, then accounts with a code by code, then the rest by age."""
    return (
        type_order.index(account.type),
        account.code is None,
        account.code or "",
        account.created_at,
        account.id,
    )


def _in_currency(accounts: Iterable[Account], currency: Currency) -> list[Account]:
    return sorted(
        (account for account in accounts if account.currency.code == currency.code),
        key=chart_order,
    )


def trial_balance(
    ledger_id: str, currency: Currency, accounts: Iterable[Account], as_of: datetime
) -> TrialBalance:
    """The trial balance of the accounts in `currency`: each posted balance goes in the
    column of the side it stands on, whatever the account's normal side."""
    lines = []
    for account in _in_currency(accounts, currency):
        net_debit = account.totals.posted_debits - account.totals.posted_credits
        lines.append(
            TrialBalanceLine(
                account_id=account.id,
                name=account.name,
                code=account.code,
                type=account.type,
                system=account.system,
                debit=max(0, net_debit),
                credit=max(0, -net_debit),
            )
        )
    total_debits = sum(line.debit for line in lines)
    total_credits = sum(line.credit for line in lines)
    return TrialBalance(
        ledger_id=ledger_id,
        currency=currency,
        lines=tuple(lines),
        total_debits=total_debits,
        total_credits=total_credits,
        balanced=total_debits == total_credits,
        as_of=as_of,
    )


def balance_sheet(
    ledger_id: str, currency: Currency, accounts: Iterable[Account], as_of: datetime
) -> BalanceSheet:
    """The balance sheet of the accounts in `currency`. Pending amounts are not posted and
    count nowhere. An account whose parent holds another currency is a root here."""
    selected = _in_currency(accounts, currency)
    sums = dict.fromkeys(AccountType, 0)
    for account in selected:
        sums[account.type] += account.balance().posted
    net_income = sums[AccountType.REVENUE] - sums[AccountType.EXPENSE]
    equity = sums[AccountType.EQUITY] + net_income
    return BalanceSheet(
        ledger_id=ledger_id,
        currency=currency,
        accounts=chart_trees(selected),
        assets=sums[AccountType.ASSET],
        liabilities=sums[AccountType.LIABILITY],
        equity=equity,
        revenue=sums[AccountType.REVENUE],
        expenses=sums[AccountType.EXPENSE],
        net_income=net_income,
        balanced=sums[AccountType.ASSET] == sums[AccountType.LIABILITY] + equity,
        as_of=as_of,
    )


def chart_trees(accounts: Sequence[Account]) -> dict[AccountType, tuple[BalanceSheetNode, ...]]:
    """The accounts nested under their parents, per type, siblings in chart order.

    Built bottom-up without recursion: a chain of parents may be as deep as there are
    accounts. An account whose parent is not among `accounts` is a root.
    """
    ordered = sorted(accounts, key=chart_order)
    known = {account.id for account in ordered}
    children: dict[str | None, list[Account]] = defaultdict(list)
    for account in ordered:
        parent = account.parent_id if account.parent_id in known else None
        children[parent].append(account)
    # Parents come before their children in `visit`, so its reverse finishes children first.
    visit: list[Account] = []
    stack = list(reversed(children[None]))
    while stack:
        account = stack.pop()
        visit.append(account)
        stack.extend(reversed(children[account.id]))
    nodes: dict[str, BalanceSheetNode] = {}
    for account in reversed(visit):
        below = tuple(nodes[child.id] for child in children[account.id])
        balance = account.balance().posted
        nodes[account.id] = BalanceSheetNode(
            account_id=account.id,
            name=account.name,
            code=account.code,
            type=account.type,
            system=account.system,
            balance=balance,
            total=balance + sum(node.total for node in below),
            children=below,
        )
    return {
        account_type: tuple(nodes[root.id] for root in children[None] if root.type is account_type)
        for account_type in type_order
    }
