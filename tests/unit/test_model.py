"""The model: sides, account types, and the balance derived from an account's totals."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unit_builders import ETH, an_account, later

from ledger.domain.model import (
    AccountType,
    Balance,
    Overdraft,
    OverdraftMode,
    Side,
    Totals,
)


def test_opposite_sides() -> None:
    # GIVEN both sides
    # WHEN asking for their opposites
    # THEN each is the other, and twice is the identity
    assert Side.DEBIT.opposite is Side.CREDIT
    assert Side.CREDIT.opposite is Side.DEBIT
    assert all(side.opposite.opposite is side for side in Side)


@pytest.mark.parametrize(
    ("account_type", "side"),
    [
        (AccountType.ASSET, Side.DEBIT),
        (AccountType.EXPENSE, Side.DEBIT),
        (AccountType.LIABILITY, Side.CREDIT),
        (AccountType.EQUITY, Side.CREDIT),
        (AccountType.REVENUE, Side.CREDIT),
    ],
)
def test_normal_balance_follows_the_accounting_equation(
    account_type: AccountType, side: Side
) -> None:
    # GIVEN an account type, and an account of it
    account = an_account(account_type=account_type)
    # WHEN asking for the normal side
    # THEN assets and expenses are debit-normal, the rest credit-normal
    assert account_type.normal_balance is side
    assert account.normal_balance is side


def test_credit_normal_balance_counts_credits_in_and_debits_out() -> None:
    # GIVEN a liability: credits 1000 in, debits 300 out, 200 pending out (150 held,
    # 50 escrowed) and 70 pending in
    totals = Totals(
        posted_debits=300,
        posted_credits=1000,
        pending_debits=200,
        pending_credits=70,
        held=150,
        escrowed=50,
    )
    account = an_account(account_type=AccountType.LIABILITY, totals=totals, version=7)
    # WHEN deriving its balance
    balance = account.balance()
    # THEN posted = 1000 - 300; the 200 pending out is not available; pending in never counts
    assert (balance.total_in, balance.total_out, balance.posted) == (1000, 300, 700)
    assert (balance.pending_in, balance.pending_out) == (70, 200)
    assert (balance.held, balance.escrowed) == (150, 50)
    assert (balance.available, balance.credit_used, balance.spendable) == (500, 0, 500)
    assert balance.credit_limit == 0
    assert (balance.account_id, balance.currency) == (account.id, account.currency)
    assert (balance.version, balance.as_of) == (7, account.updated_at)


def test_debit_normal_balance_mirrors_the_credit_normal_one() -> None:
    # GIVEN an asset with the mirror image of the liability's totals
    totals = Totals(
        posted_debits=1000,
        posted_credits=300,
        pending_debits=70,
        pending_credits=200,
        held=150,
        escrowed=50,
    )
    account = an_account(account_type=AccountType.ASSET, totals=totals)
    # WHEN deriving its balance
    balance = Balance.of(account)
    # THEN it reads the same: debits in, credits out
    assert (balance.total_in, balance.total_out, balance.posted) == (1000, 300, 700)
    assert (balance.pending_in, balance.pending_out) == (70, 200)
    assert (balance.available, balance.credit_used, balance.spendable) == (500, 0, 500)


def test_an_unused_credit_line_adds_to_spendable_only() -> None:
    # GIVEN an asset with 40 of own funds and a credit line of 100
    account = an_account(
        totals=Totals(posted_debits=40),
        overdraft=Overdraft(OverdraftMode.LIMIT, 100),
    )
    # WHEN deriving its balance
    balance = account.balance()
    # THEN available is own funds, nothing is drawn, and spendable adds the line
    assert (balance.available, balance.credit_used) == (40, 0)
    assert (balance.credit_limit, balance.spendable) == (100, 140)


def test_a_drawn_credit_line_shows_as_credit_used() -> None:
    # GIVEN a credit-normal wallet with a line of 1000 that received 200 and paid out 500
    account = an_account(
        account_type=AccountType.LIABILITY,
        totals=Totals(posted_credits=200, posted_debits=500),
        overdraft=Overdraft(OverdraftMode.LIMIT, 1000),
    )
    # WHEN deriving its balance
    balance = account.balance()
    # THEN posted is negative, nothing is available, 300 of the line is used, 700 spendable
    assert balance.posted == -300
    assert (balance.available, balance.credit_used, balance.spendable) == (0, 300, 700)


def test_pending_outflow_can_draw_on_the_credit_line() -> None:
    # GIVEN an asset with 100 posted, 150 pending out and a line of 500
    account = an_account(
        totals=Totals(posted_debits=100, pending_credits=150, held=150),
        overdraft=Overdraft(OverdraftMode.LIMIT, 500),
    )
    # WHEN deriving its balance
    balance = account.balance()
    # THEN the posted balance stays positive while 50 of the line is in use
    assert balance.posted == 100
    assert (balance.available, balance.credit_used, balance.spendable) == (0, 50, 450)


def test_pending_inflows_never_count() -> None:
    # GIVEN two assets alike but for a pending inflow on the second
    plain = an_account(totals=Totals(posted_debits=100))
    expecting = replace(plain, totals=Totals(posted_debits=100, pending_debits=900))
    # WHEN deriving their balances
    before, after = plain.balance(), expecting.balance()
    # THEN only pending_in differs
    assert after.pending_in == 900
    assert (after.available, after.spendable, after.posted) == (
        before.available,
        before.spendable,
        before.posted,
    )


def test_balances_keep_amounts_beyond_float_precision() -> None:
    # GIVEN an ETH asset holding 10**30 wei plus one
    account = an_account(currency=ETH, totals=Totals(posted_debits=10**30 + 1))
    # WHEN deriving its balance
    balance = account.balance()
    # THEN every wei is still there
    assert balance.posted == balance.available == 10**30 + 1


amounts = st.integers(0, 10**30)


@settings(max_examples=150, deadline=None)
@given(
    posted_debits=amounts,
    posted_credits=amounts,
    pending_debits=amounts,
    pending_credits=amounts,
    credit_limit=amounts,
    account_type=st.sampled_from(list(AccountType)),
)
def test_balance_invariants_hold_for_any_totals(
    *,
    posted_debits: int,
    posted_credits: int,
    pending_debits: int,
    pending_credits: int,
    credit_limit: int,
    account_type: AccountType,
) -> None:
    # GIVEN an account of any type with any totals and credit line
    totals = Totals(posted_debits, posted_credits, pending_debits, pending_credits)
    account = an_account(
        account_type=account_type,
        totals=totals,
        overdraft=Overdraft(OverdraftMode.LIMIT, credit_limit),
    )
    # WHEN deriving its balance
    balance = account.balance()
    # THEN the contract's identities hold (API.md, Balance object)
    assert balance.posted == balance.total_in - balance.total_out
    assert balance.total_in + balance.total_out == posted_debits + posted_credits
    assert balance.pending_in + balance.pending_out == pending_debits + pending_credits
    assert balance.available >= 0
    assert balance.credit_used >= 0
    assert min(balance.available, balance.credit_used) == 0
    assert balance.available - balance.credit_used == balance.posted - balance.pending_out
    assert balance.spendable == balance.available + balance.credit_limit - balance.credit_used
    # AND the mirrored account of the other orientation shows the same balance
    mirrored = replace(
        account,
        type=AccountType.LIABILITY
        if account_type.normal_balance is Side.DEBIT
        else AccountType.ASSET,
        totals=Totals(posted_credits, posted_debits, pending_credits, pending_debits),
    )
    assert replace(mirrored.balance(), account_id=balance.account_id) == balance


def test_as_of_is_the_last_update() -> None:
    # GIVEN an account updated at a known time
    account = an_account()
    # WHEN deriving its balance
    # THEN the balance is as of that update
    assert account.balance().as_of == later == account.updated_at


def test_totals_add_field_by_field() -> None:
    # GIVEN two totals with every field set, each field different
    first = Totals(1, 20, 300, 4000, 50000, 600000)
    second = Totals(7, 80, 900, 1000, 20000, 300000)
    # WHEN added
    total = first + second
    # THEN each field is the sum of the same field, and nothing else mixes in
    assert total == Totals(8, 100, 1200, 5000, 70000, 900000)
    # AND the empty totals change nothing, whichever side they are on
    assert first + Totals() == Totals() + first == first
