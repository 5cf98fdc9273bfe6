"""Reports on every store after a realistic run of business: the trial balance, the
balance sheet with its chart-of-accounts trees, and a reconciliation that finds an account
item altered behind the ledger's back.

The tests share one store per module (`shared_backend`): the run of business is built once,
and each other test makes its own ledger in it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from ledger.domain import limits
from ledger.domain.errors import NotFound, ReportTooLarge, ValidationError
from ledger.domain.ids import new_ledger_id, world_account_id
from ledger.domain.model import Account, AccountType
from ledger.domain.money import builtin_currencies
from ledger.domain.results import BalanceSheetNode, CurrencyTotals, Mismatch
from ledger.planning.steps import Target
from ledger.service import Ledger, LineInput
from ledger.store.dynamodb import DynamoDBStore
from ledger.store.dynamodb.schema import item_key
from ledger.store.memory import MemoryStore

from .checks import assert_invariants
from .helpers import Backend, new_book, open_account

USD = builtin_currencies["USD"]
EUR = builtin_currencies["EUR"]


class ManualClock:
    """A clock the test moves; each reading is one millisecond after the previous."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now


@dataclass(frozen=True)
class Business:
    """A ledger after a run of business, and the ids of its accounts."""

    ledger: Ledger
    ledger_id: str
    bank: str
    funds: str
    alice: str
    bob: str
    carol: str
    fees: str
    costs: str
    euro: str
    world_usd: str
    world_eur: str


@pytest.fixture(scope="module")
def business(shared_backend: Backend) -> Business:
    """Deposits, transfers, a spend, a journal entry, holds (pending, partly confirmed,
    released, expired), escrows (released, refunded), a reversal, a conversion and a credit
    line drawn on; built once per store, and left as it is by every test. The amounts each
    account ends with are in the tests."""
    clock = ManualClock()
    ledger = Ledger(shared_backend.store, clock=clock)
    book = new_book(ledger)
    bank = open_account(ledger, book, type="asset", code="1000").id
    funds = open_account(ledger, book, code="2000").id
    alice = open_account(ledger, book, parent_id=funds).id
    bob = open_account(ledger, book, parent_id=funds).id
    carol = open_account(ledger, book, parent_id=funds, overdraft="limit", credit_limit="50.00").id
    fees = open_account(ledger, book, type="revenue", code="4000").id
    costs = open_account(ledger, book, type="expense", code="6000").id
    euro = open_account(ledger, book, currency="EUR").id

    ledger.deposit(alice, "100.00", counterparty_account_id=bank)
    ledger.deposit(bob, "50.00")
    ledger.transfer(alice, bob, "30.00")
    ledger.spend(bob, "10.00", counterparty_account_id=fees)
    ledger.create_entry(
        book, [LineInput(costs, "debit", "4.00"), LineInput(bank, "credit", "4.00")]
    )
    ledger.hold(alice, "20.00")
    ledger.confirm_hold(ledger.hold(bob, "15.00").id, "5.00")
    ledger.release_hold(ledger.hold(alice, "7.00").id)
    ledger.hold(bob, "3.00", expires_in=60)
    clock.now += timedelta(seconds=61)
    assert ledger.expire_pending() == 1
    ledger.release_escrow(ledger.escrow(alice, bob, "8.00").id)
    ledger.refund_escrow(ledger.escrow(bob, alice, "4.00").id)
    ledger.reverse_entry(ledger.transfer(bob, alice, "6.00").id)
    ledger.convert(alice, euro, "10.00", "9.00")
    ledger.spend(carol, "25.00")
    return Business(
        ledger=ledger,
        ledger_id=book,
        bank=bank,
        funds=funds,
        alice=alice,
        bob=bob,
        carol=carol,
        fees=fees,
        costs=costs,
        euro=euro,
        world_usd=world_account_id(book, USD),
        world_eur=world_account_id(book, EUR),
    )


# What the run leaves, in minor units. Alice: credits 100.00 deposit + 6.00 reversal;
# debits 30.00 transfer + 8.00 escrow + 6.00 transfer + 10.00 conversion; 20.00 held.
# Bob: credits 50.00 + 30.00 + 8.00 escrow + 6.00 reversal; debits 10.00 spend + 5.00
# confirmed + 6.00 transfer. World USD: debits 50.00 deposit; credits 5.00 confirmed +
# 10.00 conversion + 25.00 carol's spend; 20.00 pending in.
alice_posted = 10600 - 5400
bob_posted = 9400 - 2100
carol_posted = -2500
bank_posted = 10000 - 400
world_posted = 4000 - 5000


def test_trial_balance_after_business(business: Business) -> None:
    # GIVEN the ledger after a run of business
    # WHEN its USD trial balance is drawn
    report = business.ledger.trial_balance(business.ledger_id, "USD")
    # THEN every USD account is a line, world included and marked, in chart order
    columns = {line.account_id: (line.debit, line.credit) for line in report.lines}
    assert [line.account_id for line in report.lines] == [
        business.bank,
        business.funds,
        business.alice,
        business.bob,
        business.carol,
        business.world_usd,
        business.fees,
        business.costs,
    ]
    assert [line.account_id for line in report.lines if line.system] == [business.world_usd]
    # AND each posted balance stands in the column of its side: carol's drawn credit line
    # and world's net outflow on the debit side
    assert columns == {
        business.bank: (bank_posted, 0),
        business.funds: (0, 0),
        business.alice: (0, alice_posted),
        business.bob: (0, bob_posted),
        business.carol: (-carol_posted, 0),
        business.world_usd: (-world_posted, 0),
        business.fees: (0, 1000),
        business.costs: (400, 0),
    }
    # AND the columns agree; the pending hold counts nowhere
    assert (report.total_debits, report.total_credits, report.balanced) == (13500, 13500, True)
    assert report.currency == USD
    # AND the EUR trial balance holds the conversion's two sides only
    euro = business.ledger.trial_balance(business.ledger_id, "EUR")
    assert {line.account_id: (line.debit, line.credit) for line in euro.lines} == {
        business.euro: (0, 900),
        business.world_eur: (900, 0),
    }
    assert (euro.total_debits, euro.total_credits, euro.balanced) == (900, 900, True)


def test_balance_sheet_after_business(business: Business) -> None:
    # GIVEN the ledger after a run of business
    # WHEN its USD balance sheet is drawn
    sheet = business.ledger.balance_sheet(business.ledger_id, "USD")
    # THEN the customer funds account carries its three wallets, rolled up
    (funds,) = sheet.accounts[AccountType.LIABILITY]
    assert funds.account_id == business.funds
    assert [child.account_id for child in funds.children] == [
        business.alice,
        business.bob,
        business.carol,
    ]
    assert [child.total for child in funds.children] == [alice_posted, bob_posted, carol_posted]
    assert (funds.balance, funds.total) == (0, alice_posted + bob_posted + carol_posted)
    # AND every type has its roots: world among the equity accounts
    assert _roots(sheet.accounts[AccountType.ASSET]) == {business.bank: bank_posted}
    assert _roots(sheet.accounts[AccountType.EQUITY]) == {business.world_usd: world_posted}
    assert _roots(sheet.accounts[AccountType.REVENUE]) == {business.fees: 1000}
    assert _roots(sheet.accounts[AccountType.EXPENSE]) == {business.costs: 400}
    # AND equity holds world and the net income, and the equation holds
    assert (sheet.revenue, sheet.expenses, sheet.net_income) == (1000, 400, 600)
    assert (sheet.assets, sheet.liabilities, sheet.equity) == (9600, 10000, -1000 + 600)
    assert sheet.balanced


def _roots(nodes: tuple[BalanceSheetNode, ...]) -> dict[str, int]:
    return {node.account_id: node.total for node in nodes}


def test_reconciliation_after_business_is_ok(business: Business, shared_backend: Backend) -> None:
    # GIVEN the ledger after a run of business, its items consistent by the test's own check
    assert_invariants(shared_backend, business.ledger_id)
    # WHEN it is reconciled
    result = business.ledger.reconcile(business.ledger_id)
    # THEN every account agrees with the journal and each currency balances
    assert (result.ok, result.mismatches) == (True, ())
    # AND it checked the eight accounts opened, the two world accounts and 17 entries:
    # one per operation (14), the posting entries of the confirmed hold and the released
    # escrow, and the reversal
    assert (result.accounts_checked, result.entries_checked) == (10, 17)
    # AND available sums the ledger's own accounts: the bank, alice less her 20.00 held,
    # bob, the 10.00 fee and the 4.00 cost (carol is overdrawn, world is the outside)
    usd_available = bank_posted + alice_posted - 2000 + bob_posted + 1000 + 400
    assert result.totals == {
        "EUR": CurrencyTotals(EUR, 900, 900, 0, 0, available=900),
        "USD": CurrencyTotals(USD, 25400, 25400, 2000, 2000, available=usd_available),
    }


def test_reconciliation_reads_in_pages(business: Business, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN pages of three records
    monkeypatch.setattr(limits, "report_page_size", 3)
    # WHEN the ledger is reconciled and reported on
    result = business.ledger.reconcile(business.ledger_id)
    report = business.ledger.trial_balance(business.ledger_id, "USD")
    # THEN it reads every page, with the same outcome as with one page
    assert (result.ok, result.accounts_checked, result.entries_checked) == (True, 10, 17)
    assert (len(report.lines), report.total_debits, report.balanced) == (8, 13500, True)


@pytest.mark.parametrize(
    ("field", "expected", "conserved"),
    [
        ("posted_credits", 10600, False),
        ("pending_debits", 2000, False),
        ("held", 2000, True),
        ("headroom", alice_posted - 2000, True),
    ],
)
def test_reconciliation_finds_an_altered_account_item(
    business: Business, shared_backend: Backend, field: str, expected: int, conserved: bool
) -> None:
    # GIVEN alice's account item with one attribute raised by 1 behind the ledger's back
    _alter(shared_backend, business.alice, field, expected + 1)
    # WHEN the ledger is reconciled
    try:
        result = business.ledger.reconcile(business.ledger_id)
    finally:
        _alter(shared_backend, business.alice, field, expected)
    # THEN that one attribute is reported, with what it should be and what it is
    journal = tuple(mismatch for mismatch in result.mismatches if mismatch.kind == "journal")
    assert journal == (Mismatch(business.alice, field, expected, expected + 1),)
    assert not result.ok
    # AND where the store keeps history, a total's history record no longer matches it
    history = [mismatch for mismatch in result.mismatches if mismatch.kind == "history"]
    if "history" in result.checks and field != "headroom":
        assert history == [Mismatch(business.alice, field, expected + 1, expected, "history")]
    else:
        assert history == []
    # AND conservation fails too where a total of the accounting equation moved
    assert result.totals["USD"].balanced is conserved
    assert result.totals["EUR"].balanced


def _alter(backend: Backend, account_id: str, field: str, value: int) -> None:
    """Write one attribute of an account item directly into the store's storage."""
    store = backend.store
    key = item_key(Target("account", account_id))
    if isinstance(store, MemoryStore):
        account = store._items[(key["pk"], key["sk"])]
        assert isinstance(account, Account)
        if field == "headroom":
            altered = replace(account, headroom=value)
        else:
            altered = replace(account, totals=replace(account.totals, **{field: value}))
        store._items[(key["pk"], key["sk"])] = altered
        return
    assert isinstance(store, DynamoDBStore)
    store.client.update_item(
        TableName=store.table_name,
        Key={name: {"S": text} for name, text in key.items()},
        UpdateExpression="SET #field = :value",
        ExpressionAttributeNames={"#field": field},
        ExpressionAttributeValues={":value": {"N": str(value)}},
    )


def test_reports_of_a_registered_currency(shared_ledger: Ledger) -> None:
    # GIVEN points, a currency the ledger registered, deposited into a wallet
    ledger, book = shared_ledger, new_book(shared_ledger)
    ledger.register_currency(book, "POINTS", 0)
    wallet = open_account(ledger, book, currency="POINTS").id
    ledger.deposit(wallet, "70")
    # WHEN its reports are drawn
    report = ledger.trial_balance(book, "POINTS")
    sheet = ledger.balance_sheet(book, "POINTS")
    # THEN they are in points, and balance through world
    assert (report.currency.code, report.currency.scale) == ("POINTS", 0)
    assert (report.total_debits, report.total_credits, report.balanced) == (70, 70, True)
    assert (sheet.liabilities, sheet.equity, sheet.assets, sheet.balanced) == (70, -70, 0, True)


def test_reports_of_a_currency_without_accounts_are_empty(shared_ledger: Ledger) -> None:
    # GIVEN a ledger with USD accounts only
    ledger, book = shared_ledger, new_book(shared_ledger)
    ledger.deposit(open_account(ledger, book).id, "1.00")
    # WHEN its JPY reports are drawn
    report = ledger.trial_balance(book, "JPY")
    sheet = ledger.balance_sheet(book, "JPY")
    # THEN they are empty and balanced
    assert (report.lines, report.balanced) == ((), True)
    assert all(roots == () for roots in sheet.accounts.values())
    assert (sheet.assets, sheet.liabilities, sheet.equity, sheet.balanced) == (0, 0, 0, True)


def test_reconciliation_of_an_empty_ledger_is_ok(shared_ledger: Ledger) -> None:
    # GIVEN a ledger with nothing in it
    ledger, book = shared_ledger, new_book(shared_ledger)
    # WHEN it is reconciled
    result = ledger.reconcile(book)
    # THEN nothing was checked and nothing is wrong
    assert (result.ok, result.accounts_checked, result.entries_checked) == (True, 0, 0)
    assert (result.mismatches, result.totals) == ((), {})


@pytest.mark.parametrize(
    "ledger_id", [new_ledger_id(None, None), "nonsense"], ids=["well-formed", "malformed"]
)
def test_reports_of_an_unknown_ledger_are_not_found(shared_ledger: Ledger, ledger_id: str) -> None:
    # GIVEN a ledger id no ledger has
    # WHEN any report is asked for
    # THEN the ledger is not found
    for report in (
        lambda: shared_ledger.trial_balance(ledger_id, "USD"),
        lambda: shared_ledger.balance_sheet(ledger_id, "USD"),
        lambda: shared_ledger.reconcile(ledger_id),
    ):
        with pytest.raises(NotFound) as caught:
            report()
        assert caught.value.details == {"resource": "ledger", "id": ledger_id}


@pytest.mark.parametrize("currency", ["XAU", "usd", "", 840, "X" * 13])
def test_reports_refuse_a_currency_the_ledger_does_not_know(
    shared_ledger: Ledger, currency: object
) -> None:
    # GIVEN a currency that is malformed, or well formed but neither built in nor registered
    ledger, book = shared_ledger, new_book(shared_ledger)
    # WHEN a report in it is asked for
    # THEN the currency is refused
    for report in (ledger.trial_balance, ledger.balance_sheet):
        with pytest.raises(ValidationError) as caught:
            report(book, currency)  # type: ignore[arg-type]
        assert caught.value.field == "currency"


def test_reports_refuse_a_ledger_past_their_bounds(
    shared_ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a ledger of three accounts (two wallets and world) and two entries, read in
    # pages of two
    ledger, book = shared_ledger, new_book(shared_ledger)
    first, second = open_account(ledger, book).id, open_account(ledger, book).id
    ledger.deposit(first, "1.00")
    ledger.transfer(first, second, "0.50")
    monkeypatch.setattr(limits, "report_page_size", 2)
    # WHEN the bounds are exactly what the ledger holds
    monkeypatch.setattr(limits, "report_accounts_max", 3)
    monkeypatch.setattr(limits, "reconcile_entries_max", 2)
    # THEN the reports run
    assert ledger.reconcile(book).ok
    assert len(ledger.trial_balance(book, "USD").lines) == 3
    # WHEN a bound is one below it
    # THEN the report is refused rather than read unbounded
    monkeypatch.setattr(limits, "reconcile_entries_max", 1)
    with pytest.raises(ReportTooLarge, match="more than 1 entries"):
        ledger.reconcile(book)
    monkeypatch.setattr(limits, "reconcile_entries_max", 2)
    monkeypatch.setattr(limits, "report_accounts_max", 2)
    for report in (
        lambda: ledger.reconcile(book),
        lambda: ledger.trial_balance(book, "USD"),
        lambda: ledger.balance_sheet(book, "USD"),
    ):
        with pytest.raises(ReportTooLarge, match="more than 2 accounts"):
            report()
