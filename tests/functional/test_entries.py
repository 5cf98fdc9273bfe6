"""Entries: the preset operations, explicit counterparties, multi-line and multi-currency
journal entries, business dates, metadata, and entry listings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from ledger.domain.errors import InsufficientFunds, NotFound
from ledger.domain.ids import new_entry_id, world_account_id
from ledger.domain.model import Entry, EntryKind, EntryStatus, Line, Side
from ledger.domain.money import Currency
from ledger.service import Ledger, LineInput

from .helpers import NothingWritten, new_book, open_account, walk_pages

Operation = Callable[..., Entry]


@pytest.mark.parametrize(
    ("account_type", "inflow_side"), [("liability", Side.CREDIT), ("asset", Side.DEBIT)]
)
def test_presets_move_money_against_the_world_account(
    ledger: Ledger, book: str, account_type: str, inflow_side: Side
) -> None:
    # GIVEN an account holding 50.00, and the ledger's USD world account (credit-normal)
    account = open_account(ledger, book, type=account_type)
    world_id = world_account_id(book, Currency("USD", 2))
    ledger.deposit(account.id, "50.00")
    outflow_side = inflow_side.opposite
    presets: list[tuple[Operation, EntryKind, Side, int]] = [
        (ledger.deposit, EntryKind.DEPOSIT, inflow_side, +2000),
        (ledger.refund, EntryKind.REFUND, inflow_side, +2000),
        (ledger.withdraw, EntryKind.WITHDRAWAL, outflow_side, -2000),
        (ledger.spend, EntryKind.SPEND, outflow_side, -2000),
    ]
    for operation, kind, account_side, change in presets:
        before = ledger.get_balance(account.id).posted
        world_before = ledger.get_balance(world_id).posted
        # WHEN the preset moves 20.00 with no counterparty named
        entry = operation(account.id, "20.00")
        # THEN one posted two-line entry pairs the account with the world account
        assert (entry.kind, entry.status, entry.ledger_id) == (kind, EntryStatus.POSTED, book)
        assert entry.lines == (
            Line(account.id, account_side, 2000, "USD"),
            Line(world_id, account_side.opposite, 2000, "USD"),
        ), kind
        # AND the account moved in its own orientation, the world on the other side
        assert ledger.get_balance(account.id).posted == before + change, kind
        world_change = 2000 if account_side is Side.DEBIT else -2000
        assert ledger.get_balance(world_id).posted == world_before + world_change, kind
        assert ledger.get_entry(entry.id) == entry


def test_explicit_counterparty_replaces_the_world(ledger: Ledger, book: str) -> None:
    # GIVEN a customer wallet (liability), the bank (asset) and a revenue account
    wallet = open_account(ledger, book)
    bank = open_account(ledger, book, type="asset")
    sales = open_account(ledger, book, type="revenue")
    world_id = world_account_id(book, Currency("USD", 2))
    # WHEN money comes in through the bank and is spent to the revenue account
    deposit = ledger.deposit(wallet.id, "30.00", counterparty_account_id=bank.id)
    spend = ledger.spend(wallet.id, "12.50", counterparty_account_id=sales.id)
    # THEN the lines name the counterparties, on the sides that grow each of them
    assert deposit.lines == (
        Line(wallet.id, Side.CREDIT, 3000, "USD"),
        Line(bank.id, Side.DEBIT, 3000, "USD"),
    )
    assert spend.lines == (
        Line(wallet.id, Side.DEBIT, 1250, "USD"),
        Line(sales.id, Side.CREDIT, 1250, "USD"),
    )
    balances = [ledger.get_balance(account.id).posted for account in (wallet, bank, sales)]
    assert balances == [1750, 3000, 1250]
    # AND the world account was never touched
    assert ledger.get_balance(world_id).version == 0


@pytest.mark.parametrize(
    ("account_type", "source_side"), [("liability", Side.DEBIT), ("asset", Side.CREDIT)]
)
def test_transfer_moves_money_between_accounts_of_one_kind(
    ledger: Ledger, book: str, account_type: str, source_side: Side
) -> None:
    # GIVEN two accounts of one type, the source holding 10.00
    source = open_account(ledger, book, type=account_type)
    target = open_account(ledger, book, type=account_type)
    ledger.deposit(source.id, "10.00")
    # WHEN 7.25 is transferred
    entry = ledger.transfer(source.id, target.id, "7.25", description="rent share")
    # THEN the source gives on its outflow side, the target gains on its normal side
    assert entry.kind is EntryKind.TRANSFER
    assert entry.lines == (
        Line(source.id, source_side, 725, "USD"),
        Line(target.id, source_side.opposite, 725, "USD"),
    )
    assert ledger.get_balance(source.id).posted == 275
    assert ledger.get_balance(target.id).posted == 725
    assert entry.description == "rent share"


def test_entry_balances_per_currency_across_two_currencies(ledger: Ledger, book: str) -> None:
    # GIVEN a wallet and a bank account in each of USD and EUR
    usd_wallet, usd_bank = open_account(ledger, book), open_account(ledger, book, type="asset")
    eur_wallet = open_account(ledger, book, currency="EUR")
    eur_bank = open_account(ledger, book, type="asset", currency="EUR")
    # WHEN one entry funds both wallets, balanced within each currency
    entry = ledger.create_entry(
        book,
        [
            LineInput(usd_bank.id, "debit", "10.00"),
            LineInput(usd_wallet.id, Side.CREDIT, "10.00", currency="USD"),
            LineInput(eur_bank.id, "debit", Decimal("5.50"), currency="EUR"),
            LineInput(eur_wallet.id, "credit", "5.5"),
        ],
        description="opening balances",
    )
    # THEN the entry holds the four lines with their currencies
    assert entry.kind is EntryKind.ENTRY
    assert entry.lines == (
        Line(usd_bank.id, Side.DEBIT, 1000, "USD"),
        Line(usd_wallet.id, Side.CREDIT, 1000, "USD"),
        Line(eur_bank.id, Side.DEBIT, 550, "EUR"),
        Line(eur_wallet.id, Side.CREDIT, 550, "EUR"),
    )
    balances = [
        ledger.get_balance(account.id).posted
        for account in (usd_bank, usd_wallet, eur_bank, eur_wallet)
    ]
    assert balances == [1000, 1000, 550, 550]


def test_entry_splits_one_payment_over_several_accounts(ledger: Ledger, book: str) -> None:
    # GIVEN a buyer holding 10.00, a merchant and a fee account
    buyer, merchant = open_account(ledger, book), open_account(ledger, book)
    fees = open_account(ledger, book, type="revenue")
    ledger.deposit(buyer.id, "10.00")
    # WHEN the buyer pays 10.00, of which 0.30 is a fee
    ledger.create_entry(
        book,
        [
            LineInput(buyer.id, "debit", "10.00"),
            LineInput(merchant.id, "credit", "9.70"),
            LineInput(fees.id, "credit", "0.30"),
        ],
    )
    # THEN each account holds its part
    balances = [ledger.get_balance(account.id).posted for account in (buyer, merchant, fees)]
    assert balances == [0, 970, 30]


def test_business_date_may_lie_in_the_past(ledger: Ledger, book: str) -> None:
    # GIVEN a business date a month ago, given in another time zone
    wallet = open_account(ledger, book)
    effective = datetime.now(timezone(timedelta(hours=-5))) - timedelta(days=30)
    # WHEN a deposit is back-dated to it
    entry = ledger.deposit(wallet.id, "1.00", effective_at=effective)
    # THEN the entry keeps that instant, in UTC, apart from its creation time
    assert entry.effective_at == effective
    assert entry.effective_at.utcoffset() == timedelta(0)
    assert entry.created_at > entry.effective_at
    stored = ledger.get_entry(entry.id)
    assert (stored.effective_at, stored.created_at) == (entry.effective_at, entry.created_at)


def test_entry_without_business_date_takes_its_creation_time(ledger: Ledger, book: str) -> None:
    # GIVEN a wallet
    wallet = open_account(ledger, book)
    # WHEN a deposit names no business date
    entry = ledger.deposit(wallet.id, "1.00")
    # THEN its business date is its creation time
    assert entry.effective_at == entry.created_at
    assert entry.created_at.tzinfo is not None


def test_entry_keeps_description_reference_and_metadata(ledger: Ledger, book: str) -> None:
    # GIVEN a wallet
    wallet = open_account(ledger, book)
    metadata = {"order": "A-17", "channel": "web", "note": "x" * 1000, "empty": ""}
    # WHEN a deposit carries a description, a reference and metadata at their limits
    entry = ledger.deposit(
        wallet.id,
        "1.00",
        description="d" * 1000,
        reference="r" * 200,
        metadata=metadata,
    )
    # THEN the stored entry carries them unchanged
    stored = ledger.get_entry(entry.id)
    assert stored == entry
    assert (stored.description, stored.reference, stored.metadata) == (
        "d" * 1000,
        "r" * 200,
        metadata,
    )


def test_entries_by_reference_come_newest_first(ledger: Ledger, book: str) -> None:
    # GIVEN three entries for order-1 and two for order-2
    wallet = open_account(ledger, book)
    order_one = []
    for index in range(5):
        reference = "order-1" if index % 2 == 0 else "order-2"
        entry = ledger.deposit(wallet.id, f"{index + 1}.00", reference=reference)
        if reference == "order-1":
            order_one.append(entry)
    # WHEN the entries of order-1 are listed two at a time
    pages = walk_pages(
        lambda cursor: ledger.list_entries(book, reference="order-1", limit=2, cursor=cursor)
    )
    # THEN exactly those come, newest first
    assert [len(page) for page in pages] == [2, 1]
    assert [entry for page in pages for entry in page] == order_one[::-1]


def test_ledger_entries_come_newest_first_page_by_page(ledger: Ledger, book: str) -> None:
    # GIVEN seven entries in this ledger and one in another
    wallet = open_account(ledger, book)
    posted = [ledger.deposit(wallet.id, f"{index + 1}.00").id for index in range(7)]
    ledger.deposit(open_account(ledger, new_book(ledger)).id, "1.00")
    # WHEN the ledger's entries are listed three at a time
    pages = walk_pages(lambda cursor: ledger.list_entries(book, limit=3, cursor=cursor))
    # THEN every entry comes once, newest first
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [entry.id for page in pages for entry in page] == posted[::-1]


def test_ledger_without_entries_lists_none(ledger: Ledger, book: str) -> None:
    # GIVEN a ledger with an account but no entry
    open_account(ledger, book)
    # WHEN its entries are listed
    page = ledger.list_entries(book)
    # THEN the page is empty and final
    assert (page.items, page.next_cursor) == ([], None)


@pytest.mark.parametrize("well_formed", [True, False])
def test_missing_entry_is_not_found(ledger: Ledger, book: str, well_formed: bool) -> None:
    # GIVEN the id of no entry
    entry_id = new_entry_id(book, None) if well_formed else "ent_nope"
    # WHEN it is read
    with pytest.raises(NotFound) as caught:
        ledger.get_entry(entry_id)
    # THEN it is not found
    assert caught.value.details == {"resource": "entry", "id": entry_id}


@pytest.mark.parametrize(
    ("amount", "minor"),
    [
        (Decimal("12.34"), 1234),
        (Decimal("1E+3"), 100000),
        ("007.10", 710),
        ("10000000000000000000000000000.00", 10**30),
    ],
    ids=repr,
)
def test_amount_forms_that_are_accepted(
    ledger: Ledger, book: str, amount: str | Decimal, minor: int
) -> None:
    # GIVEN a wallet
    wallet = open_account(ledger, book)
    # WHEN an amount is given as a Decimal, with leading zeros, or at the largest size
    entry = ledger.deposit(wallet.id, amount)
    # THEN it counts exactly in minor units
    assert [line.amount for line in entry.lines] == [minor, minor]
    assert ledger.get_balance(wallet.id).posted == minor


def test_credit_line_can_be_drawn_exactly_to_its_limit(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a wallet with 5.00 of its own and a 50.00 credit line, and a payee
    wallet = open_account(ledger, book, overdraft="limit", credit_limit="50.00")
    payee = open_account(ledger, book)
    ledger.deposit(wallet.id, "5.00")
    # WHEN one minor unit more than it may spend is spent
    with nothing_written(), pytest.raises(InsufficientFunds) as caught:
        ledger.spend(wallet.id, "55.01")
    # THEN it is refused; exactly what it may spend is not
    assert caught.value.details == {"account_id": wallet.id}
    ledger.spend(wallet.id, "55.00")
    balance = ledger.get_balance(wallet.id)
    assert (balance.posted, balance.credit_used, balance.spendable) == (-5000, 5000, 0)
    # AND then not even one minor unit more
    with nothing_written(), pytest.raises(InsufficientFunds):
        ledger.transfer(wallet.id, payee.id, "0.01")


def test_forbid_account_can_be_emptied_exactly(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a wallet and a payee, the wallet holding 10.00
    wallet, payee = open_account(ledger, book), open_account(ledger, book)
    ledger.deposit(wallet.id, "10.00")
    # WHEN 10.01 is transferred
    with nothing_written(), pytest.raises(InsufficientFunds):
        ledger.transfer(wallet.id, payee.id, "10.01")
    # THEN it is refused, and 10.00 is not
    ledger.transfer(wallet.id, payee.id, "10.00")
    assert [ledger.get_balance(account.id).posted for account in (wallet, payee)] == [0, 1000]


def test_entry_times_come_from_the_clock_in_utc(ledger: Ledger, book: str) -> None:
    # GIVEN a wallet
    wallet = open_account(ledger, book)
    # WHEN two deposits are made
    first = ledger.deposit(wallet.id, "1.00")
    second = ledger.deposit(wallet.id, "1.00")
    # THEN their creation times are UTC and in order, and the account records the last one
    assert first.created_at.tzinfo == UTC
    assert second.created_at > first.created_at
    account = ledger.get_account(wallet.id)
    assert (account.last_entry_id, account.updated_at) == (second.id, second.created_at)
