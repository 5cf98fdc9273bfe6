"""Conservation: whatever happens, each currency's posted debits equal its posted credits."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest

from ledger.domain.errors import InsufficientFunds
from ledger.domain.model import Account, Entry
from ledger.service import Ledger, LineInput

from .helpers import all_accounts, open_account, posted_totals_by_currency


def test_debits_equal_credits_after_a_day_of_business(ledger: Ledger, book: str) -> None:
    # GIVEN wallets, a bank, fees and a credit line in USD, EUR and a registered currency
    ledger.register_currency(book, "POINTS", 0)
    alice, bob = open_account(ledger, book), open_account(ledger, book)
    bank = open_account(ledger, book, type="asset")
    fees = open_account(ledger, book, type="revenue")
    carol = open_account(ledger, book, overdraft="limit", credit_limit="25.00")
    euro, euro_bank = (
        open_account(ledger, book, currency="EUR"),
        open_account(ledger, book, type="asset", currency="EUR"),
    )
    points = open_account(ledger, book, currency="POINTS")
    # WHEN money moves every way, some of it refused
    ledger.deposit(alice.id, "100.00", counterparty_account_id=bank.id)
    ledger.deposit(bob.id, "20.00")
    ledger.transfer(alice.id, bob.id, "30.00")
    ledger.spend(carol.id, "25.00")
    ledger.create_entry(
        book,
        [
            LineInput(bob.id, "debit", "10.00"),
            LineInput(alice.id, "credit", "9.50"),
            LineInput(fees.id, "credit", "0.50"),
            LineInput(euro_bank.id, "debit", "7.00"),
            LineInput(euro.id, "credit", "7.00"),
        ],
    )
    ledger.withdraw(alice.id, "12.34", counterparty_account_id=bank.id)
    ledger.refund(carol.id, "5.00")
    ledger.deposit(points.id, "1000")
    ledger.spend(points.id, "250")
    refusals: list[Callable[[], Entry]] = [
        lambda: ledger.spend(carol.id, "5.01"),
        lambda: ledger.transfer(bob.id, alice.id, "1000.00"),
        lambda: ledger.withdraw(euro.id, "7.01"),
    ]
    for refusal in refusals:
        with pytest.raises(InsufficientFunds):
            refusal()
    # THEN per currency, posted debits equal posted credits over all accounts
    accounts = all_accounts(ledger, book, page_size=2)
    assert len(accounts) == 8 + 3  # the accounts opened, and a world account per currency
    totals = posted_totals_by_currency(accounts)
    assert set(totals) == {"USD", "EUR", "POINTS"}
    for code, (debits, credits) in totals.items():
        assert debits == credits, code
    # AND every balance reads as the difference of its lifetime totals
    _check_balances_add_up(accounts)
    # AND the balances are what the operations add up to
    balances = {
        account.id: account.balance().posted
        for account in accounts
        if account.id in {alice.id, bob.id, carol.id, points.id}
    }
    assert balances == {
        alice.id: 10000 - 3000 + 950 - 1234,
        bob.id: 2000 + 3000 - 1000,
        carol.id: -2500 + 500,
        points.id: 750,
    }


def test_debits_equal_credits_after_random_operations(ledger: Ledger, book: str) -> None:
    # GIVEN four wallets (one with a credit line) and a bank, in USD
    wallets = [open_account(ledger, book) for _ in range(3)]
    wallets.append(open_account(ledger, book, overdraft="limit", credit_limit="10.00"))
    bank = open_account(ledger, book, type="asset")
    generator = random.Random(20240601)
    refused = 0
    # WHEN twenty-five random operations run, whether or not each is allowed
    for _ in range(25):
        source, target = generator.sample(wallets, 2)
        amount = f"{generator.randint(1, 3000) / 100:.2f}"
        operation = generator.choice(["deposit", "withdraw", "transfer", "bank"])
        try:
            if operation == "deposit":
                ledger.deposit(source.id, amount)
            elif operation == "withdraw":
                ledger.withdraw(source.id, amount)
            elif operation == "transfer":
                ledger.transfer(source.id, target.id, amount)
            else:
                ledger.deposit(source.id, amount, counterparty_account_id=bank.id)
        except InsufficientFunds:
            # Any other error fails the test: only the floor may refuse these.
            refused += 1
    # THEN some were refused, yet debits equal credits and no wallet fell below its floor
    assert 0 < refused < 25
    accounts = all_accounts(ledger, book)
    (debits, credits) = posted_totals_by_currency(accounts)["USD"]
    assert debits == credits
    _check_balances_add_up(accounts)
    for account in accounts:
        if account.id in {wallet.id for wallet in wallets}:
            assert account.balance().spendable >= 0, account.id


def _check_balances_add_up(accounts: list[Account]) -> None:
    for account in accounts:
        balance = account.balance()
        assert balance.posted == balance.total_in - balance.total_out, account.id
