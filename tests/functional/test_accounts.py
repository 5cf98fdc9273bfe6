"""Accounts: types and normal sides, codes, the chart-of-accounts tree, overdraft, balances."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.domain.errors import (
    IdempotencyKeyReused,
    InsufficientFunds,
    NotFound,
)
from ledger.domain.ids import world_account_id
from ledger.domain.model import AccountStatus, AccountType, Overdraft, OverdraftMode, Side, Totals
from ledger.domain.money import Currency
from ledger.service import Ledger

from .helpers import NothingWritten, new_book, open_account


@pytest.mark.parametrize(
    ("account_type", "normal_side"),
    [
        ("asset", Side.DEBIT),
        ("expense", Side.DEBIT),
        ("liability", Side.CREDIT),
        ("equity", Side.CREDIT),
        ("revenue", Side.CREDIT),
    ],
)
def test_every_type_opens_with_its_normal_side(
    ledger: Ledger, book: str, account_type: str, normal_side: Side
) -> None:
    # GIVEN a ledger
    # WHEN an account of the type is opened with every optional field
    account = ledger.create_account(
        book,
        "Account",
        account_type,
        "EUR",
        code=f"{account_type}-1",
        owner_id="holder-1",
        metadata={"purpose": "test"},
    )
    # THEN it is active, empty, forbids overdraft and has the type's normal side
    assert account.type is AccountType(account_type)
    assert account.normal_balance is normal_side
    assert account.status is AccountStatus.ACTIVE
    assert account.overdraft == Overdraft(OverdraftMode.FORBID, 0)
    assert (account.totals, account.version, account.system) == (Totals(), 0, False)
    assert (account.code, account.owner_id, account.metadata) == (
        f"{account_type}-1",
        "holder-1",
        {"purpose": "test"},
    )
    assert (account.ledger_id, account.currency) == (book, Currency("EUR", 2))
    # AND it reads back identically
    assert ledger.get_account(account.id) == account
    # AND a deposit lands on its normal side and raises its balance
    entry = ledger.deposit(account.id, "1.00")
    assert [line.side for line in entry.lines if line.account_id == account.id] == [normal_side]
    assert ledger.get_balance(account.id).posted == 100


def test_first_account_of_a_currency_brings_its_world_account(ledger: Ledger, book: str) -> None:
    # GIVEN a ledger without accounts
    world_id = world_account_id(book, Currency("USD", 2))
    with pytest.raises(NotFound):
        ledger.get_account(world_id)
    # WHEN two USD accounts are opened
    open_account(ledger, book)
    world = ledger.get_account(world_id)
    open_account(ledger, book)
    # THEN the ledger's USD world account exists once: equity, system, no floor
    assert world.system is True
    assert world.type is AccountType.EQUITY
    assert world.overdraft.mode is OverdraftMode.ALLOW
    assert world.status is AccountStatus.ACTIVE
    assert ledger.get_account(world_id) == world


def test_same_code_is_free_in_another_ledger(ledger: Ledger, book: str) -> None:
    # GIVEN an account with code "1000" in one ledger
    open_account(ledger, book, code="1000")
    # WHEN another ledger uses the code
    other = open_account(ledger, new_book(ledger), code="1000")
    # THEN it gets it
    assert ledger.get_account(other.id).code == "1000"


def test_children_hang_under_a_parent_of_the_same_type(ledger: Ledger, book: str) -> None:
    # GIVEN a parent asset account
    parent = open_account(ledger, book, type="asset", code="1000")
    # WHEN two children and a grandchild are opened under it
    cash = open_account(ledger, book, type="asset", parent_id=parent.id)
    bank = open_account(ledger, book, type="asset", parent_id=parent.id)
    till = open_account(ledger, book, type="asset", parent_id=cash.id)
    # THEN each names its parent, and listing by parent gives direct children only
    assert (cash.parent_id, bank.parent_id, till.parent_id) == (parent.id, parent.id, cash.id)
    children = ledger.list_accounts(book, parent_id=parent.id).items
    assert sorted(account.id for account in children) == sorted([cash.id, bank.id])
    assert [account.id for account in ledger.list_accounts(book, parent_id=cash.id).items] == [
        till.id
    ]


def test_forbid_keeps_the_balance_at_or_above_zero(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a wallet holding 10.00 under the default policy
    wallet = open_account(ledger, book)
    ledger.deposit(wallet.id, "10.00")
    # WHEN 10.01 is withdrawn
    with nothing_written(), pytest.raises(InsufficientFunds) as caught:
        ledger.withdraw(wallet.id, "10.01")
    # THEN it is refused; 10.00 is not
    assert caught.value.details == {"account_id": wallet.id}
    ledger.withdraw(wallet.id, "10.00")
    assert ledger.get_balance(wallet.id).posted == 0


def test_credit_line_balance_fields(ledger: Ledger, book: str) -> None:
    # GIVEN a wallet with a 50.00 credit line
    wallet = open_account(ledger, book, overdraft="limit", credit_limit="50.00")
    fresh = ledger.get_balance(wallet.id)
    assert (fresh.posted, fresh.available, fresh.spendable, fresh.credit_limit) == (
        0,
        0,
        5000,
        5000,
    )
    # WHEN 20.00 comes in and 30.00 goes out
    ledger.deposit(wallet.id, "20.00")
    last = ledger.spend(wallet.id, "30.00")
    # THEN the balance shows 10.00 drawn on the line and 40.00 still spendable
    balance = ledger.get_balance(wallet.id)
    assert (balance.account_id, balance.currency) == (wallet.id, Currency("USD", 2))
    assert balance.posted == -1000
    assert (balance.available, balance.credit_used, balance.spendable) == (0, 1000, 4000)
    assert (balance.total_in, balance.total_out) == (2000, 3000)
    assert balance.posted == balance.total_in - balance.total_out
    assert (balance.pending_in, balance.pending_out, balance.held, balance.escrowed) == (0, 0, 0, 0)
    assert (balance.credit_limit, balance.version) == (5000, 2)
    assert balance.as_of == last.created_at
    # WHEN 15.00 comes in
    ledger.deposit(wallet.id, "15.00")
    # THEN it repays the line first
    repaid = ledger.get_balance(wallet.id)
    assert (repaid.posted, repaid.available, repaid.credit_used, repaid.spendable) == (
        500,
        500,
        0,
        5500,
    )


def test_debit_normal_balance_counts_debits_in(ledger: Ledger, book: str) -> None:
    # GIVEN a bank account (asset, debit-normal)
    bank = open_account(ledger, book, type="asset")
    # WHEN 30.00 is deposited and 5.00 withdrawn
    ledger.deposit(bank.id, "30.00")
    ledger.withdraw(bank.id, "5.00")
    # THEN its balance is 25.00, in its own orientation
    balance = ledger.get_balance(bank.id)
    assert (balance.posted, balance.available, balance.spendable) == (2500, 2500, 2500)
    assert (balance.total_in, balance.total_out) == (3000, 500)
    account = ledger.get_account(bank.id)
    assert (account.totals.posted_debits, account.totals.posted_credits) == (3000, 500)


def test_allow_has_no_floor(ledger: Ledger, book: str) -> None:
    # GIVEN an account that allows overdraft
    account = open_account(ledger, book, overdraft="allow")
    # WHEN it spends from nothing
    ledger.spend(account.id, "1000000.00")
    # THEN it goes negative
    balance = ledger.get_balance(account.id)
    assert (balance.posted, balance.available, balance.credit_used) == (-100000000, 0, 100000000)


def test_same_key_and_body_replays_the_account(ledger: Ledger, book: str) -> None:
    # GIVEN an account opened with an idempotency key
    first = ledger.create_account(book, "Wallet", "liability", "USD", idempotency_key="open-1")
    # WHEN the same request comes again
    again = ledger.create_account(book, "Wallet", "liability", "USD", idempotency_key="open-1")
    # THEN the original is returned as a replay and no second account exists
    assert again.replayed is True
    assert (again.id, again.created_at) == (first.id, first.created_at)
    user_accounts = [item for item in ledger.list_accounts(book).items if not item.system]
    assert [item.id for item in user_accounts] == [first.id]


@pytest.mark.parametrize("change", [{"type": "asset"}, {"currency": "EUR"}], ids=repr)
def test_same_key_with_another_currency_or_normal_side_is_refused(
    ledger: Ledger, book: str, nothing_written: NothingWritten, change: dict[str, Any]
) -> None:
    # GIVEN an account opened with an idempotency key
    request: dict[str, Any] = {"name": "Wallet", "type": "liability", "currency": "USD"}
    ledger.create_account(book, **request, idempotency_key="open-1")
    # WHEN the key comes back asking for another currency or a type of the other normal side
    with nothing_written(), pytest.raises(IdempotencyKeyReused) as caught:
        ledger.create_account(book, **{**request, **change}, idempotency_key="open-1")
    # THEN it is refused like any other change of body (API.md: keys are scoped to the
    # ledger), and no second account is opened under the same key
    assert caught.value.code == "idempotency_key_reused"
