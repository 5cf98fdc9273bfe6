"""Reports over a ledger's accounts and journal (pure): trial balance, balance sheet and
reconciliation. Amounts are integer minor units; callers render them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from ledger.model import Account, AccountType, Entry, EntryKind, EntryStatus, Side, Totals
from ledger.money import Currency

# Conventional order of a chart of accounts, which is not the enum's alphabetical one.
type_order = (
    AccountType.ASSET,
    AccountType.LIABILITY,
    AccountType.EQUITY,
    AccountType.REVENUE,
    AccountType.EXPENSE,
)
# The account item attributes reconciliation recomputes from the journal.
reconciled_fields = (
    "posted_debits",
    "posted_credits",
    "pending_debits",
    "pending_credits",
    "held",
    "escrowed",
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


@dataclass(frozen=True)
class TrialBalanceLine:
    """One account's posted balance, in the debit column or the credit column."""

    account_id: str
    name: str
    code: str | None
    type: AccountType
    system: bool
    debit: int
    credit: int


@dataclass(frozen=True)
class TrialBalance:
    """Every account of one currency with its posted balance; the columns must agree."""

    ledger_id: str
    currency: Currency
    lines: tuple[TrialBalanceLine, ...]
    total_debits: int
    total_credits: int
    balanced: bool
    as_of: datetime


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


@dataclass(frozen=True)
class BalanceSheetNode:
    """An account in the chart-of-accounts tree: its own posted balance (normal-side
    orientation) and `total`, that balance plus its descendants'."""

    account_id: str
    name: str
    code: str | None
    type: AccountType
    system: bool
    balance: int
    total: int
    children: tuple[BalanceSheetNode, ...]


@dataclass(frozen=True)
class BalanceSheet:
    """The accounts of one currency as trees per type, and the accounting equation.

    `equity` holds the equity accounts (the `world` accounts among them) plus
    `net_income` = `revenue` - `expenses`; `balanced` is assets == liabilities + equity.
    """

    ledger_id: str
    currency: Currency
    accounts: dict[AccountType, tuple[BalanceSheetNode, ...]]
    assets: int
    liabilities: int
    equity: int
    revenue: int
    expenses: int
    net_income: int
    balanced: bool
    as_of: datetime


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


@dataclass
class _Recomputed:
    """An account's totals as the journal has them so far."""

    posted_debits: int = 0
    posted_credits: int = 0
    pending_debits: int = 0
    pending_credits: int = 0
    held: int = 0
    escrowed: int = 0

    def totals(self) -> Totals:
        return Totals(
            posted_debits=self.posted_debits,
            posted_credits=self.posted_credits,
            pending_debits=self.pending_debits,
            pending_credits=self.pending_credits,
            held=self.held,
            escrowed=self.escrowed,
        )


class Journal:
    """Account totals recomputed from entries, folded in one at a time (any order), so a
    ledger's journal never has to be held in memory at once."""

    def __init__(self) -> None:
        self._accounts: dict[str, _Recomputed] = defaultdict(_Recomputed)
        self.entries = 0

    def add(self, entry: Entry) -> None:
        """Fold in one entry as its status stands.

        Posted entries move posted totals; that includes posting entries (kind `post`),
        which carry what a pending entry was posted for, a partial amount included. A
        pending entry moves pending totals, and its first line (the payer's) is also held
        or escrowed for holds and escrows. A pending entry that was posted since moves
        nothing itself (its posting entry does), nor does a voided or expired one.
        """
        self.entries += 1
        if entry.status is EntryStatus.PENDING:
            for line in entry.lines:
                account = self._accounts[line.account_id]
                if line.side is Side.DEBIT:
                    account.pending_debits += line.amount
                else:
                    account.pending_credits += line.amount
            payer = entry.lines[0]
            if entry.kind is EntryKind.HOLD:
                self._accounts[payer.account_id].held += payer.amount
            elif entry.kind is EntryKind.ESCROW:
                self._accounts[payer.account_id].escrowed += payer.amount
        elif not entry.was_pending:
            for line in entry.lines:
                account = self._accounts[line.account_id]
                if line.side is Side.DEBIT:
                    account.posted_debits += line.amount
                else:
                    account.posted_credits += line.amount

    def totals_of(self, account_id: str) -> Totals:
        """What the journal says the account's totals are."""
        recomputed = self._accounts.get(account_id)
        return Totals() if recomputed is None else recomputed.totals()

    def account_ids(self) -> set[str]:
        """Every account some entry line names."""
        return set(self._accounts)


@dataclass(frozen=True)
class Mismatch:
    """An account item attribute that differs from what the journal says it must be."""

    account_id: str
    field: str
    expected: int
    actual: int


@dataclass(frozen=True)
class CurrencyTotals:
    """One currency's four totals summed over every account item of the ledger."""

    currency: Currency
    posted_debits: int = 0
    posted_credits: int = 0
    pending_debits: int = 0
    pending_credits: int = 0

    @property
    def balanced(self) -> bool:
        """Conservation: debits equal credits, posted and pending alike."""
        return (
            self.posted_debits == self.posted_credits
            and self.pending_debits == self.pending_credits
        )


@dataclass(frozen=True)
class Reconciliation:
    """The outcome of checking a ledger's account items against its journal.

    `ok` when nothing mismatches and every currency in `totals` is balanced.
    """

    ledger_id: str
    ok: bool
    accounts_checked: int
    entries_checked: int
    mismatches: tuple[Mismatch, ...]
    totals: dict[str, CurrencyTotals]
    as_of: datetime


def reconciliation(
    ledger_id: str, accounts: Sequence[Account], journal: Journal, as_of: datetime
) -> Reconciliation:
    """Compare each account item with the journal, then sum the items per currency.

    Besides the six totals, `headroom` (the guard the write conditions compare) must be
    what the recomputed totals and the account's credit limit make it. A line naming an
    account the ledger does not hold reports what the journal puts on it against 0.
    """
    mismatches: list[Mismatch] = []
    sums: dict[str, CurrencyTotals] = {}
    for account in sorted(accounts, key=chart_order):
        expected = journal.totals_of(account.id)
        mismatches += _differences(account.id, expected, account.totals)
        expected_headroom = replace(account, totals=expected).balance().spendable
        if account.headroom != expected_headroom:
            mismatches.append(Mismatch(account.id, "headroom", expected_headroom, account.headroom))
        code = account.currency.code
        so_far = sums.get(code) or CurrencyTotals(account.currency)
        sums[code] = CurrencyTotals(
            currency=account.currency,
            posted_debits=so_far.posted_debits + account.totals.posted_debits,
            posted_credits=so_far.posted_credits + account.totals.posted_credits,
            pending_debits=so_far.pending_debits + account.totals.pending_debits,
            pending_credits=so_far.pending_credits + account.totals.pending_credits,
        )
    for missing in sorted(journal.account_ids() - {account.id for account in accounts}):
        mismatches += _differences(missing, journal.totals_of(missing), Totals())
    totals = {code: sums[code] for code in sorted(sums)}
    return Reconciliation(
        ledger_id=ledger_id,
        ok=not mismatches and all(each.balanced for each in totals.values()),
        accounts_checked=len(accounts),
        entries_checked=journal.entries,
        mismatches=tuple(mismatches),
        totals=totals,
        as_of=as_of,
    )


def _differences(account_id: str, expected: Totals, actual: Totals) -> list[Mismatch]:
    return [
        Mismatch(account_id, name, getattr(expected, name), getattr(actual, name))
        for name in reconciled_fields
        if getattr(expected, name) != getattr(actual, name)
    ]
