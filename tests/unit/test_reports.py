"""Reports as pure computations: trial balance columns, balance-sheet trees and equation,
and reconciliation of account items against a journal."""

from __future__ import annotations

import secrets
from dataclasses import replace

from unit_builders import EUR, USD, a_ledger_id, an_account, an_entry_id, created, later

from ledger.model import (
    Account,
    AccountType,
    Entry,
    EntryKind,
    EntryStatus,
    Line,
    Overdraft,
    OverdraftMode,
    Side,
    Totals,
)
from ledger.reports import (
    BalanceSheetNode,
    CurrencyTotals,
    Journal,
    Mismatch,
    balance_sheet,
    chart_order,
    reconciliation,
    trial_balance,
)


def _posted(debits: int = 0, credits: int = 0) -> Totals:
    return Totals(posted_debits=debits, posted_credits=credits)


def _world(ledger_id: str, totals: Totals) -> Account:
    account = an_account(ledger_id=ledger_id, account_type=AccountType.EQUITY, totals=totals)
    return replace(account, system=True, overdraft=Overdraft(OverdraftMode.ALLOW))


def _entry(
    ledger_id: str,
    lines: list[tuple[Account, Side, int]],
    *,
    kind: EntryKind = EntryKind.TRANSFER,
    status: EntryStatus = EntryStatus.POSTED,
    pending_id: str | None = None,
    posting_entry_id: str | None = None,
) -> Entry:
    return Entry(
        id=an_entry_id(ledger_id),
        ledger_id=ledger_id,
        kind=kind,
        status=status,
        lines=tuple(
            Line(account.id, side, amount, account.currency.code) for account, side, amount in lines
        ),
        effective_at=later,
        created_at=created,
        request_hash=secrets.token_hex(32),
        pending_id=pending_id,
        posting_entry_id=posting_entry_id,
    )


def _ids(nodes: tuple[BalanceSheetNode, ...]) -> list[str]:
    return [node.account_id for node in nodes]


def test_trial_balance_puts_each_balance_in_the_column_of_its_side() -> None:
    # GIVEN a USD bank (asset, 150 debit), a wallet holding 120, a wallet 30 overdrawn
    # (a liability on the debit side), world (equity) and an account in EUR
    ledger_id = a_ledger_id()
    bank = an_account(ledger_id=ledger_id, totals=_posted(debits=200, credits=50), code="1000")
    wallet = an_account(
        ledger_id=ledger_id,
        account_type=AccountType.LIABILITY,
        totals=_posted(10, 130),
        code="2000",
    )
    overdrawn = an_account(
        ledger_id=ledger_id,
        account_type=AccountType.LIABILITY,
        totals=_posted(40, 10),
        code="2100",
    )
    world = _world(ledger_id, _posted(debits=120, credits=180))
    euro = an_account(ledger_id=ledger_id, currency=EUR, totals=_posted(debits=999))
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
    bank = an_account(ledger_id=ledger_id, totals=_posted(debits=100))
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
            totals=_posted(debits=debits),
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


def test_balance_sheet_equity_includes_net_income_and_world() -> None:
    # GIVEN a bank holding 1000, customer funds 600, owner's capital 150, world equity 100,
    # revenue 200 and expenses 50
    ledger_id = a_ledger_id()
    bank = an_account(ledger_id=ledger_id, totals=_posted(debits=1000))
    funds = an_account(
        ledger_id=ledger_id, account_type=AccountType.LIABILITY, totals=_posted(credits=600)
    )
    capital = an_account(
        ledger_id=ledger_id, account_type=AccountType.EQUITY, totals=_posted(credits=150)
    )
    world = _world(ledger_id, _posted(credits=100))
    revenue = an_account(
        ledger_id=ledger_id, account_type=AccountType.REVENUE, totals=_posted(credits=200)
    )
    expense = an_account(
        ledger_id=ledger_id, account_type=AccountType.EXPENSE, totals=_posted(debits=50)
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
    world = _world(ledger_id, Totals(posted_credits=100, pending_debits=40))
    euro = an_account(ledger_id=ledger_id, currency=EUR, totals=_posted(debits=3))
    # WHEN the USD balance sheet is drawn
    sheet = balance_sheet(ledger_id, USD, [bank, world, euro], later)
    # THEN only posted USD amounts count, and the sheet balances
    assert (sheet.assets, sheet.liabilities, sheet.equity) == (100, 0, 100)
    assert sheet.balanced
    assert _ids(sheet.accounts[AccountType.ASSET]) == [bank.id]


def test_balance_sheet_out_of_balance_says_so() -> None:
    # GIVEN an asset of 100 and a liability of 90: 10 came from nowhere
    ledger_id = a_ledger_id()
    bank = an_account(ledger_id=ledger_id, totals=_posted(debits=100))
    funds = an_account(
        ledger_id=ledger_id, account_type=AccountType.LIABILITY, totals=_posted(credits=90)
    )
    # WHEN the balance sheet is drawn
    sheet = balance_sheet(ledger_id, USD, [bank, funds], later)
    # THEN it is not balanced
    assert (sheet.assets, sheet.liabilities + sheet.equity, sheet.balanced) == (100, 90, False)


def test_balance_sheet_roots_a_child_whose_parent_is_in_another_currency() -> None:
    # GIVEN a EUR parent and a USD child
    ledger_id = a_ledger_id()
    parent = an_account(ledger_id=ledger_id, currency=EUR, totals=_posted(debits=1))
    child = an_account(ledger_id=ledger_id, parent_id=parent.id, totals=_posted(debits=2))
    # WHEN the USD balance sheet is drawn
    sheet = balance_sheet(ledger_id, USD, [parent, child], later)
    # THEN the child is a root of the USD tree
    assert _ids(sheet.accounts[AccountType.ASSET]) == [child.id]
    assert sheet.accounts[AccountType.ASSET][0].total == 2


def test_balance_sheet_handles_a_chain_deeper_than_the_recursion_limit() -> None:
    # GIVEN 3000 accounts, each the parent of the next, each holding 1
    ledger_id = a_ledger_id()
    chain = [an_account(ledger_id=ledger_id, totals=_posted(debits=1))]
    for _ in range(2999):
        chain.append(
            an_account(ledger_id=ledger_id, parent_id=chain[-1].id, totals=_posted(debits=1))
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


def test_journal_counts_entries_by_status() -> None:
    # GIVEN a wallet and world, and entries in every state: a posted deposit of 100, a hold
    # of 30 still pending, a hold of 20 posted for 15 (its posting entry carries 15), a hold
    # of 9 voided, an escrow of 4 expired, an escrow of 6 pending, and a reversed deposit
    ledger_id = a_ledger_id()
    wallet = an_account(ledger_id=ledger_id, account_type=AccountType.LIABILITY)
    world = _world(ledger_id, Totals())

    def hold(amount: int, status: EntryStatus, kind: EntryKind = EntryKind.HOLD) -> Entry:
        lines = [(wallet, Side.DEBIT, amount), (world, Side.CREDIT, amount)]
        return _entry(ledger_id, lines, kind=kind, status=status)

    deposit = _entry(ledger_id, [(world, Side.DEBIT, 100), (wallet, Side.CREDIT, 100)])
    confirmed = hold(20, EntryStatus.POSTED)
    posting = _entry(
        ledger_id,
        [(wallet, Side.DEBIT, 15), (world, Side.CREDIT, 15)],
        kind=EntryKind.POST,
        pending_id=confirmed.id,
    )
    confirmed = replace(confirmed, posting_entry_id=posting.id)
    reversed_deposit = _entry(ledger_id, [(world, Side.DEBIT, 50), (wallet, Side.CREDIT, 50)])
    reversal = _entry(
        ledger_id,
        [(world, Side.CREDIT, 50), (wallet, Side.DEBIT, 50)],
        kind=EntryKind.REVERSAL,
    )
    entries = [
        deposit,
        hold(30, EntryStatus.PENDING),
        confirmed,
        posting,
        hold(9, EntryStatus.VOIDED),
        hold(4, EntryStatus.EXPIRED, EntryKind.ESCROW),
        hold(6, EntryStatus.PENDING, EntryKind.ESCROW),
        reversed_deposit,
        reversal,
    ]
    # WHEN they are folded into a journal, in any order
    journal = Journal()
    for entry in reversed(entries):
        journal.add(entry)
    # THEN posted totals hold posted and posting entries, pending totals the unresolved ones
    assert journal.entries == 9
    assert journal.totals_of(wallet.id) == Totals(
        posted_debits=15 + 50,
        posted_credits=100 + 50,
        pending_debits=30 + 6,
        held=30,
        escrowed=6,
    )
    assert journal.totals_of(world.id) == Totals(
        posted_debits=100 + 50, posted_credits=15 + 50, pending_credits=36
    )
    assert journal.account_ids() == {wallet.id, world.id}
    assert journal.totals_of(an_account(ledger_id=ledger_id).id) == Totals()


def _settled(ledger_id: str) -> tuple[list[Account], Journal]:
    """A wallet with 100 deposited and 30 held, world on the other side, consistent."""
    wallet = an_account(
        ledger_id=ledger_id,
        account_type=AccountType.LIABILITY,
        totals=Totals(posted_credits=100, pending_debits=30, held=30),
        headroom=70,
    )
    world = _world(ledger_id, Totals(posted_debits=100, pending_credits=30))
    world = replace(world, headroom=-100)
    journal = Journal()
    journal.add(_entry(ledger_id, [(world, Side.DEBIT, 100), (wallet, Side.CREDIT, 100)]))
    journal.add(
        _entry(
            ledger_id,
            [(wallet, Side.DEBIT, 30), (world, Side.CREDIT, 30)],
            kind=EntryKind.HOLD,
            status=EntryStatus.PENDING,
        )
    )
    return [wallet, world], journal


def test_reconciliation_of_consistent_items_is_ok() -> None:
    # GIVEN account items that agree with the journal
    ledger_id = a_ledger_id()
    accounts, journal = _settled(ledger_id)
    # WHEN reconciled
    result = reconciliation(ledger_id, accounts, journal, later)
    # THEN all is well and the totals per currency balance
    assert (result.ok, result.mismatches) == (True, ())
    assert (result.accounts_checked, result.entries_checked) == (2, 2)
    assert result.totals == {
        "USD": CurrencyTotals(
            USD, posted_debits=100, posted_credits=100, pending_debits=30, pending_credits=30
        )
    }
    assert result.totals["USD"].balanced


def test_reconciliation_names_each_field_that_differs() -> None:
    # GIVEN the wallet's posted credits raised by 1 and its headroom lowered by 5
    ledger_id = a_ledger_id()
    (wallet, world), journal = _settled(ledger_id)
    corrupted = replace(
        wallet,
        totals=replace(wallet.totals, posted_credits=101),
        headroom=wallet.headroom - 5,
    )
    # WHEN reconciled
    result = reconciliation(ledger_id, [corrupted, world], journal, later)
    # THEN both fields are reported with what they should be and what they are
    assert result.mismatches == (
        Mismatch(wallet.id, "posted_credits", 100, 101),
        Mismatch(wallet.id, "headroom", 70, 65),
    )
    # AND conservation over the items fails too: 1 was created
    assert not result.ok
    assert (result.totals["USD"].posted_debits, result.totals["USD"].posted_credits) == (100, 101)
    assert not result.totals["USD"].balanced


def test_reconciliation_reports_lines_on_an_account_the_ledger_lacks() -> None:
    # GIVEN the journal, without the world account's item
    ledger_id = a_ledger_id()
    (wallet, world), journal = _settled(ledger_id)
    # WHEN reconciled
    result = reconciliation(ledger_id, [wallet], journal, later)
    # THEN what the journal puts on world is reported against nothing
    assert result.mismatches == (
        Mismatch(world.id, "posted_debits", 100, 0),
        Mismatch(world.id, "pending_credits", 30, 0),
    )
    assert not result.ok


def test_reconciliation_fails_on_conservation_alone() -> None:
    # GIVEN items that match a journal whose one entry is itself unbalanced
    ledger_id = a_ledger_id()
    bank = an_account(ledger_id=ledger_id, totals=_posted(debits=10), headroom=10)
    funds = an_account(
        ledger_id=ledger_id,
        account_type=AccountType.LIABILITY,
        totals=_posted(credits=9),
        headroom=9,
    )
    journal = Journal()
    journal.add(_entry(ledger_id, [(bank, Side.DEBIT, 10), (funds, Side.CREDIT, 9)]))
    # WHEN reconciled
    result = reconciliation(ledger_id, [bank, funds], journal, later)
    # THEN no account mismatches, yet the currency does not balance, so it is not ok
    assert result.mismatches == ()
    assert (result.ok, result.totals["USD"].balanced) == (False, False)


def test_reconciliation_expects_headroom_from_the_credit_limit() -> None:
    # GIVEN a wallet with a 50 credit line that spent 20 of it, its item consistent
    ledger_id = a_ledger_id()
    wallet = an_account(
        ledger_id=ledger_id,
        account_type=AccountType.LIABILITY,
        overdraft=Overdraft(OverdraftMode.LIMIT, 50),
        totals=_posted(debits=20),
        headroom=30,
    )
    world = _world(ledger_id, _posted(credits=20))
    world = replace(world, headroom=20)
    journal = Journal()
    journal.add(_entry(ledger_id, [(wallet, Side.DEBIT, 20), (world, Side.CREDIT, 20)]))
    # WHEN reconciled
    result = reconciliation(ledger_id, [wallet, world], journal, later)
    # THEN headroom = posted - pending out + credit limit holds, and all is well
    assert (result.ok, result.mismatches) == (True, ())


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
