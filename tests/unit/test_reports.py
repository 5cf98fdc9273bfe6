"""Statements as pure computations: trial balance columns, balance-sheet trees and
equation, and the chart order both follow."""

from __future__ import annotations

from dataclasses import replace

from unit_builders import (
    EUR,
    USD,
    a_ledger_id,
    a_world_account,
    an_account,
    later,
    posted_totals,
)

from ledger.domain.model import Account, AccountType, Totals
from ledger.domain.results import BalanceSheetNode
from ledger.reporting.statements import balance_sheet, chart_order, trial_balance


def _ids(nodes: tuple[BalanceSheetNode, ...]) -> list[str]:
    return [node.account_id for node in nodes]


def test_trial_balance_puts_each_balance_in_the_column_of_its_side() -> None:
    # GIVEN a USD bank (asset, 150 debit), a wallet holding 120, a wallet 30 overdrawn
    # (a liability on the debit side), world (equity) and an account in EUR
    ledger_id = a_ledger_id()
    bank = an_account(
        ledger_id=ledger_id, totals=posted_totals(debits=200, credits=50), code="1000"
    )
    wallet = an_account(
        ledger_id=ledger_id,
        account_type=AccountType.LIABILITY,
        totals=posted_totals(10, 130),
        code="2000",
    )
    overdrawn = an_account(
        ledger_id=ledger_id,
        account_type=AccountType.LIABILITY,
        totals=posted_totals(40, 10),
        code="2100",
    )
    world = a_world_account(ledger_id, posted_totals(debits=120, credits=180))
    euro = an_account(ledger_id=ledger_id, currency=EUR, totals=posted_totals(debits=999))
    # WHEN the USD trial balance is drawn
    report = trial_balance(ledger_id, USD, [world, euro, overdrawn, wallet, bank], later)
    # THEN every USD account is a line in chart order, its balance in one column only
    columns = {line.account_id: (line.debit, line.credit) for line in report.lines}
    assert [line.account_id for line in report.lines] == [
        bank.id,
        wallet.id,
        overdrawn.id,
        world.id,
    ]
    assert columns == {
        bank.id: (150, 0),
        wallet.id: (0, 120),
        overdrawn.id: (30, 0),
        world.id: (0, 60),
    }
    assert [line.system for line in report.lines] == [False, False, False, True]
    # AND the columns sum to the same amount, so the ledger balances
    assert (report.total_debits, report.total_credits, report.balanced) == (180, 180, True)
    assert (report.ledger_id, report.currency, report.as_of) == (ledger_id, USD, later)


def test_trial_balance_with_columns_apart_is_not_balanced() -> None:
    # GIVEN an asset with 100 on the debit side and nothing on any credit side
    ledger_id = a_ledger_id()
    bank = an_account(ledger_id=ledger_id, totals=posted_totals(debits=100))
    # WHEN the trial balance is drawn
    report = trial_balance(ledger_id, USD, [bank], later)
    # THEN the columns differ and it says so
    assert (report.total_debits, report.total_credits, report.balanced) == (100, 0, False)


def test_trial_balance_of_no_account_is_empty_and_balanced() -> None:
    # GIVEN no account in the currency
    # WHEN the trial balance is drawn
    report = trial_balance(a_ledger_id(), USD, [], later)
    # THEN it has no line and nothing is out of balance
    assert (report.lines, report.total_debits, report.total_credits) == ((), 0, 0)
    assert report.balanced


def test_balance_sheet_rolls_children_up_into_their_parents() -> None:
    # GIVEN assets: cash (10) with banks A (100, with a sub-account 5) and B (20), and a
    # receivable (7) on its own
    ledger_id = a_ledger_id()

    def asset(debits: int, parent: Account | None = None, code: str | None = None) -> Account:
        return an_account(
            ledger_id=ledger_id,
            totals=posted_totals(debits=debits),
            parent_id=None if parent is None else parent.id,
            code=code,
        )

    cash = asset(10, code="1000")
    bank_b = asset(20, cash, code="1020")
    bank_a = asset(100, cash, code="1010")
    sub_account = asset(5, bank_a)
    receivable = asset(7, code="1200")
    # WHEN the balance sheet is drawn
    sheet = balance_sheet(ledger_id, USD, [sub_account, bank_b, receivable, bank_a, cash], later)
    # THEN the roots are cash and the receivable, children nested in code order
    roots = sheet.accounts[AccountType.ASSET]
    assert _ids(roots) == [cash.id, receivable.id]
    assert _ids(roots[0].children) == [bank_a.id, bank_b.id]
    assert _ids(roots[0].children[0].children) == [sub_account.id]
    # AND each node has its own balance and a total including its descendants
    assert (roots[0].balance, roots[0].total) == (10, 135)
    assert (roots[0].children[0].balance, roots[0].children[0].total) == (100, 105)
    assert (roots[0].children[1].balance, roots[0].children[1].total) == (20, 20)
    assert (roots[1].balance, roots[1].total) == (7, 7)
    # AND assets count each account once
    assert sheet.assets == 142
    assert all(
        sheet.accounts[other] == () for other in AccountType if other is not AccountType.ASSET
    )


def test_balance_sheet_equity_includes_net_income_anda_world_account() -> None:
    # GIVEN a bank holding 1000, customer funds 600, owner's capital 150, world equity 100,
    # revenue 200 and expenses 50
    ledger_id = a_ledger_id()
    bank = an_account(ledger_id=ledger_id, totals=posted_totals(debits=1000))
    funds = an_account(
        ledger_id=ledger_id, account_type=AccountType.LIABILITY, totals=posted_totals(credits=600)
    )
    capital = an_account(
        ledger_id=ledger_id, account_type=AccountType.EQUITY, totals=posted_totals(credits=150)
    )
    world = a_world_account(ledger_id, posted_totals(credits=100))
    revenue = an_account(
        ledger_id=ledger_id, account_type=AccountType.REVENUE, totals=posted_totals(credits=200)
    )
    expense = an_account(
        ledger_id=ledger_id, account_type=AccountType.EXPENSE, totals=posted_totals(debits=50)
    )
    # WHEN the balance sheet is drawn
    sheet = balance_sheet(ledger_id, USD, [bank, funds, capital, world, revenue, expense], later)
    # THEN net income is revenue less expenses, and equity holds it with world and capital
    assert (sheet.revenue, sheet.expenses, sheet.net_income) == (200, 50, 150)
    assert (sheet.assets, sheet.liabilities, sheet.equity) == (1000, 600, 400)
    assert sheet.balanced
    # AND world is an equity root marked as a system account
    equity_nodes = {node.account_id: node.system for node in sheet.accounts[AccountType.EQUITY]}
    assert equity_nodes == {capital.id: False, world.id: True}
    assert _ids(sheet.accounts[AccountType.REVENUE]) == [revenue.id]
    assert _ids(sheet.accounts[AccountType.EXPENSE]) == [expense.id]


def test_balance_sheet_ignores_pending_amounts_and_other_currencies() -> None:
    # GIVEN a bank with 100 posted and 40 pending out, world on the other side, and an
    # asset in EUR
    ledger_id = a_ledger_id()
    bank = an_account(
        ledger_id=ledger_id, totals=Totals(posted_debits=100, pending_credits=40, held=40)
    )
    world = a_world_account(ledger_id, Totals(posted_credits=100, pending_debits=40))
    euro = an_account(ledger_id=ledger_id, currency=EUR, totals=posted_totals(debits=3))
    # WHEN the USD balance sheet is drawn
    sheet = balance_sheet(ledger_id, USD, [bank, world, euro], later)
    # THEN only posted USD amounts count, and the sheet balances
    assert (sheet.assets, sheet.liabilities, sheet.equity) == (100, 0, 100)
    assert sheet.balanced
    assert _ids(sheet.accounts[AccountType.ASSET]) == [bank.id]


def test_balance_sheet_out_of_balance_says_so() -> None:
    # GIVEN an asset of 100 and a liability of 90: 10 came from nowhere
    ledger_id = a_ledger_id()
    bank = an_account(ledger_id=ledger_id, totals=posted_totals(debits=100))
    funds = an_account(
        ledger_id=ledger_id, account_type=AccountType.LIABILITY, totals=posted_totals(credits=90)
    )
    # WHEN the balance sheet is drawn
    sheet = balance_sheet(ledger_id, USD, [bank, funds], later)
    # THEN it is not balanced
    assert (sheet.assets, sheet.liabilities + sheet.equity, sheet.balanced) == (100, 90, False)


def test_balance_sheet_roots_a_child_whose_parent_is_in_another_currency() -> None:
    # GIVEN a EUR parent and a USD child
    ledger_id = a_ledger_id()
    parent = an_account(ledger_id=ledger_id, currency=EUR, totals=posted_totals(debits=1))
    child = an_account(ledger_id=ledger_id, parent_id=parent.id, totals=posted_totals(debits=2))
    # WHEN the USD balance sheet is drawn
    sheet = balance_sheet(ledger_id, USD, [parent, child], later)
    # THEN the child is a root of the USD tree
    assert _ids(sheet.accounts[AccountType.ASSET]) == [child.id]
    assert sheet.accounts[AccountType.ASSET][0].total == 2


def test_balance_sheet_handles_a_chain_deeper_than_the_recursion_limit() -> None:
    # GIVEN 3000 accounts, each the parent of the next, each holding 1
    ledger_id = a_ledger_id()
    chain = [an_account(ledger_id=ledger_id, totals=posted_totals(debits=1))]
    for _ in range(2999):
        chain.append(
            an_account(ledger_id=ledger_id, parent_id=chain[-1].id, totals=posted_totals(debits=1))
        )
    # WHEN the balance sheet is drawn
    sheet = balance_sheet(ledger_id, USD, chain, later)
    # THEN the root rolls up all of them, and the last is a leaf
    (root,) = sheet.accounts[AccountType.ASSET]
    assert (root.account_id, root.total) == (chain[0].id, 3000)
    node = root
    while node.children:
        (node,) = node.children
    assert (node.account_id, node.total) == (chain[-1].id, 1)


def test_chart_order_is_type_then_code_then_age() -> None:
    # GIVEN assets with and without codes, of different ages, and a liability with a code
    ledger_id = a_ledger_id()
    old = an_account(ledger_id=ledger_id)
    young = replace(an_account(ledger_id=ledger_id), created_at=later)
    coded = replace(an_account(ledger_id=ledger_id, code="1900"), created_at=later)
    first_code = an_account(ledger_id=ledger_id, code="1100")
    liability = an_account(ledger_id=ledger_id, account_type=AccountType.LIABILITY, code="0001")
    # WHEN they are sorted in chart order
    ordered = sorted([liability, young, coded, old, first_code], key=chart_order)
    # THEN assets come first, coded ones by code, then the rest oldest first
    assert ordered == [first_code, coded, old, young, liability]
