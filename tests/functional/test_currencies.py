"""Currencies: the built-in ones with their scales, and currencies a ledger registers."""

from __future__ import annotations

import pytest

from ledger.domain.errors import ValidationError
from ledger.domain.money import Currency
from ledger.service import Ledger

from .helpers import NothingWritten, open_account


@pytest.mark.parametrize(
    ("code", "scale", "smallest", "too_precise"),
    [
        ("USD", 2, "0.01", "0.001"),
        ("EUR", 2, "0.01", "0.001"),
        ("GBP", 2, "0.01", "0.001"),
        ("JPY", 0, "1", "0.1"),
        ("USDC", 6, "0.000001", "0.0000001"),
        ("BTC", 8, "0.00000001", "0.000000001"),
        ("ETH", 18, "0." + "0" * 17 + "1", "0." + "0" * 18 + "1"),
    ],
)
def test_builtin_currency_counts_in_its_minor_unit(
    *,
    ledger: Ledger,
    book: str,
    nothing_written: NothingWritten,
    code: str,
    scale: int,
    smallest: str,
    too_precise: str,
) -> None:
    # GIVEN an account in a built-in currency
    account = open_account(ledger, book, currency=code)
    assert account.currency == Currency(code, scale)
    # WHEN the smallest unit is deposited
    ledger.deposit(account.id, smallest)
    # THEN the balance is one minor unit
    assert ledger.get_balance(account.id).posted == 1
    # AND an amount finer than the scale is refused without a write
    with nothing_written(), pytest.raises(ValidationError) as caught:
        ledger.deposit(account.id, too_precise)
    assert caught.value.details == {"field": "amount"}


def test_registered_currency_can_hold_accounts_and_entries(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a ledger that registers POINTS with no decimals
    registered = ledger.register_currency(book, "POINTS", 0)
    assert registered == Currency("POINTS", 0)
    assert ledger.get_ledger(book).currencies == {"POINTS": 0}
    # WHEN an account in POINTS is opened and receives a deposit
    account = open_account(ledger, book, currency="POINTS")
    entry = ledger.deposit(account.id, "25")
    # THEN the account counts whole points
    assert account.currency == Currency("POINTS", 0)
    assert [(line.amount, line.currency) for line in entry.lines] == [(25, "POINTS")] * 2
    assert ledger.get_balance(account.id).posted == 25
    # AND a fraction of a point is refused without a write
    with nothing_written(), pytest.raises(ValidationError):
        ledger.deposit(account.id, "2.5")


def test_several_currencies_can_be_registered(ledger: Ledger, book: str) -> None:
    # GIVEN a ledger
    # WHEN it registers two currencies of different scales
    ledger.register_currency(book, "POINTS", 0)
    ledger.register_currency(book, "MILES", 3)
    # THEN both are known with their scales and usable
    assert ledger.get_ledger(book).currencies == {"POINTS": 0, "MILES": 3}
    miles = open_account(ledger, book, currency="MILES")
    ledger.deposit(miles.id, "1.005")
    assert ledger.get_balance(miles.id).posted == 1005
