"""Report bodies: trial balance, balance sheet, reconciliation; amounts with their scale."""

from __future__ import annotations

from typing import Any

from ledger.api.views import View
from ledger.domain.money import Currency, format_amount
from ledger.domain.results import (
    BalanceSheet,
    BalanceSheetNode,
    TrialBalance,
)
from ledger.domain.views import moment


class TrialBalanceLineView(View):
    """One account's posted balance, in the column of the side it stands on."""

    account_id: str
    name: str
    code: str | None
    type: str
    system: bool
    debit: str
    credit: str


class TrialBalanceView(View):
    """Every account of one currency with its debit or credit balance, and the sums."""

    ledger_id: str
    currency: str
    lines: list[TrialBalanceLineView]
    total_debits: str
    total_credits: str
    balanced: bool
    as_of: str


class BalanceSheetNodeView(View):
    """An account in the chart: its own balance and the total with its descendants."""

    account_id: str
    name: str
    code: str | None
    type: str
    system: bool
    balance: str
    total: str
    children: list[BalanceSheetNodeView]


class BalanceSheetView(View):
    """The chart of accounts per type with rolled-up totals; equity includes net income."""

    ledger_id: str
    currency: str
    accounts: dict[str, list[BalanceSheetNodeView]]
    assets: str
    liabilities: str
    equity: str
    revenue: str
    expenses: str
    net_income: str
    balanced: bool
    as_of: str


class MismatchView(View):
    """A balance item attribute that differs from the journal's (`kind` journal) or a
    projection that differs from the item (`kind` history or audit)."""

    account_id: str
    field: str
    expected: str
    actual: str
    kind: str
    shard: int
    missing_versions: list[int]


class CurrencyTotalsView(View):
    """A currency's totals over all accounts; debits must equal credits."""

    posted_debits: str
    posted_credits: str
    pending_debits: str
    pending_credits: str
    balanced: bool
    escrowed: str
    available: str


class ReconciliationView(View):
    """Conservation per currency and every account recomputed from the journal."""

    ledger_id: str
    ok: bool
    accounts_checked: int
    entries_checked: int
    mismatches: list[MismatchView]
    totals: dict[str, CurrencyTotalsView]
    as_of: str
    checks: list[str]


def trial_balance_view(report: TrialBalance) -> dict[str, Any]:
    """A trial balance as the API shows it."""
    currency = report.currency
    return {
        "ledger_id": report.ledger_id,
        "currency": currency.code,
        "lines": [
            {
                "account_id": line.account_id,
                "name": line.name,
                "code": line.code,
                "type": line.type.value,
                "system": line.system,
                "debit": format_amount(line.debit, currency),
                "credit": format_amount(line.credit, currency),
            }
            for line in report.lines
        ],
        "total_debits": format_amount(report.total_debits, currency),
        "total_credits": format_amount(report.total_credits, currency),
        "balanced": report.balanced,
        "as_of": moment(report.as_of),
    }


def _node_view(node: BalanceSheetNode, currency: Currency) -> dict[str, Any]:
    return {
        "account_id": node.account_id,
        "name": node.name,
        "code": node.code,
        "type": node.type.value,
        "system": node.system,
        "balance": format_amount(node.balance, currency),
        "total": format_amount(node.total, currency),
        "children": [_node_view(child, currency) for child in node.children],
    }


def balance_sheet_view(report: BalanceSheet) -> dict[str, Any]:
    """A balance sheet as the API shows it."""
    currency = report.currency
    totals = ("assets", "liabilities", "equity", "revenue", "expenses", "net_income")
    return {
        "ledger_id": report.ledger_id,
        "currency": currency.code,
        "accounts": {
            account_type.value: [_node_view(node, currency) for node in nodes]
            for account_type, nodes in report.accounts.items()
        },
        **{name: format_amount(getattr(report, name), currency) for name in totals},
        "balanced": report.balanced,
        "as_of": moment(report.as_of),
    }
