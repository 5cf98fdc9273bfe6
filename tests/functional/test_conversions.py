"""Conversions: one entry of four lines through both currencies' world accounts, so each
currency balances on its own; the payer's guard applies; replays, refusals and reversal."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ledger.domain.errors import (
    AccountInactive,
    IdempotencyKeyReused,
    InsufficientFunds,
    LedgerError,
    LedgerMismatch,
    NotFound,
    ValidationError,
)
from ledger.domain.ids import world_account_id
from ledger.domain.model import EntryKind, EntryStatus, Line
from ledger.domain.money import builtin_currencies
from ledger.service import Ledger

from .helpers import (
    NothingWritten,
    all_accounts,
    missing_account_id,
    new_book,
    open_account,
    posted_totals_by_currency,
)

Conversion = tuple[str, str, str, str, int]


@pytest.mark.parametrize(
    "conversion",
    [
        ("liability", "liability", "EUR", "9.20", 920),
        ("asset", "liability", "JPY", "1500", 1500),
    ],
    ids=["wallet-to-wallet-eur", "bank-to-wallet-jpy"],
)
def test_conversion_balances_each_currency_through_its_world_account(
    ledger: Ledger, book: str, conversion: Conversion
) -> None:
    source_type, target_type, target_currency, to_amount, received = conversion
    # GIVEN a USD account holding 50.00 and an empty account in another currency
    source = open_account(ledger, book, type=source_type)
    target = open_account(ledger, book, type=target_type, currency=target_currency)
    ledger.deposit(source.id, "50.00")
    usd_world = world_account_id(book, builtin_currencies["USD"])
    other_world = world_account_id(book, builtin_currencies[target_currency])
    before = {
        account_id: ledger.get_account(account_id)
        for account_id in (source.id, target.id, usd_world, other_world)
    }
    # WHEN 10.00 USD is converted at the rate the two amounts imply
    entry = ledger.convert(source.id, target.id, "10.00", to_amount, reference="fx-1")
    # THEN one posted conversion entry of four lines: the source pays its world, and the
    # other currency's world pays the target
    outflow, inflow = source.normal_balance.opposite, target.normal_balance
    assert (entry.kind, entry.status, entry.reference) == (
        EntryKind.CONVERSION,
        EntryStatus.POSTED,
        "fx-1",
    )
    assert entry.lines == (
        Line(source.id, outflow, 1000, "USD"),
        Line(usd_world, outflow.opposite, 1000, "USD"),
        Line(other_world, inflow.opposite, received, target_currency),
        Line(target.id, inflow, received, target_currency),
    )
    assert ledger.get_entry(entry.id) == entry
    # AND the source lost 10.00, the target gained the other amount, each account moved once
    after = {account_id: ledger.get_account(account_id) for account_id in before}
    assert after[source.id].balance().posted == 4000
    assert after[target.id].balance().posted == received
    assert all(after[key].version == before[key].version + 1 for key in before)
    # AND each currency balances on its own over the whole ledger
    totals = posted_totals_by_currency(all_accounts(ledger, book, page_size=10))
    assert set(totals) == {"USD", target_currency}
    assert all(debits == credits for debits, credits in totals.values()), totals
    assert totals[target_currency] == (received, received)


def test_a_credit_line_lets_a_conversion_draw_below_zero_up_to_its_limit(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a USD wallet with 3.00 and a 10.00 credit line, and a EUR wallet
    wallet = open_account(ledger, book, overdraft="limit", credit_limit="10.00")
    euros = open_account(ledger, book, currency="EUR")
    ledger.deposit(wallet.id, "3.00")
    # WHEN 12.00 is converted, then 1.01 more
    ledger.convert(wallet.id, euros.id, "12.00", "11.00")
    with nothing_written(), pytest.raises(InsufficientFunds) as caught:
        ledger.convert(wallet.id, euros.id, "1.01", "1.00")
    # THEN the first draws 9.00 of the line, the second would pass the floor and is refused
    balance = ledger.get_balance(wallet.id)
    assert (balance.posted, balance.credit_used, balance.spendable) == (-900, 900, 100)
    assert caught.value.details["account_id"] == wallet.id
    assert ledger.get_balance(euros.id).posted == 1100


def test_refused_conversions_write_nothing(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a USD wallet with 5.00, a EUR wallet, a suspended EUR wallet, a second USD
    # wallet, and a EUR wallet in another ledger
    wallet = open_account(ledger, book)
    dollars = open_account(ledger, book)
    euros = open_account(ledger, book, currency="EUR")
    frozen = open_account(ledger, book, currency="EUR")
    foreign = open_account(ledger, new_book(ledger), currency="EUR")
    ledger.deposit(wallet.id, "5.00")
    ledger.update_account(frozen.id, status="suspended")
    cases: list[tuple[str, Callable[[], object], type[LedgerError], str | None]] = [
        (
            "one currency",
            lambda: ledger.convert(wallet.id, dollars.id, "1", "1"),
            ValidationError,
            "to_account_id",
        ),
        (
            "bad from amount",
            lambda: ledger.convert(wallet.id, euros.id, "0", "1"),
            ValidationError,
            "from_amount",
        ),
        (
            "bad to amount",
            lambda: ledger.convert(wallet.id, euros.id, "1", "0.001"),
            ValidationError,
            "to_amount",
        ),
        (
            "more than held",
            lambda: ledger.convert(wallet.id, euros.id, "5.01", "4"),
            InsufficientFunds,
            wallet.id,
        ),
        (
            "suspended target",
            lambda: ledger.convert(wallet.id, frozen.id, "1", "1"),
            AccountInactive,
            frozen.id,
        ),
        (
            "target elsewhere",
            lambda: ledger.convert(wallet.id, foreign.id, "1", "1"),
            LedgerMismatch,
            foreign.id,
        ),
        (
            "never opened",
            lambda: ledger.convert(wallet.id, missing_account_id(book, "EUR"), "1", "1"),
            NotFound,
            None,
        ),
    ]
    for case, attempt, error_type, detail in cases:
        # WHEN the conversion is attempted
        with nothing_written(), pytest.raises(error_type) as caught:
            attempt()
        # THEN it is refused with its own code, naming the field or account, and wrote nothing
        details = caught.value.details
        if error_type is ValidationError:
            assert details["field"] == detail, case
        elif detail is not None:
            assert details["account_id"] == detail, case
    assert ledger.get_balance(wallet.id).posted == 500


def test_a_conversion_replays_with_its_key_and_reverses_exactly(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a USD wallet with 20.00 and a EUR wallet
    wallet = open_account(ledger, book)
    euros = open_account(ledger, book, currency="EUR")
    ledger.deposit(wallet.id, "20.00")
    # WHEN a conversion is made with a key, then sent again, then changed under that key
    first = ledger.convert(wallet.id, euros.id, "10.00", "9.00", idempotency_key="fx-7")
    with nothing_written():
        again = ledger.convert(wallet.id, euros.id, "10", "9.0", idempotency_key="fx-7")
        with pytest.raises(IdempotencyKeyReused):
            ledger.convert(wallet.id, euros.id, "10.00", "9.10", idempotency_key="fx-7")
    # THEN the repeat is a replay of the original and the change is refused
    assert (again.id, again.replayed, again.lines) == (first.id, True, first.lines)
    # WHEN the conversion is reversed
    reversal = ledger.reverse_entry(first.id)
    # THEN the four lines are mirrored and both accounts are back where they started
    assert reversal.lines == tuple(
        Line(line.account_id, line.side.opposite, line.amount, line.currency)
        for line in first.lines
    )
    assert ledger.get_entry(first.id).reversed_by == reversal.id
    assert ledger.get_balance(wallet.id).posted == 2000
    assert ledger.get_balance(euros.id).posted == 0
