"""Balances and statements of the past at the ends of time, over the memory store (which
keeps history as it applies plans): the first years, whose timestamps start with zeros,
and the first instant there is."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.domain.results import StatementBalance
from ledger.service import Ledger
from ledger.store.history import Basis
from ledger.store.memory import MemoryStore

first_instant = datetime.min.replace(tzinfo=UTC)


def _account_with(deposits: list[tuple[str, datetime]]) -> tuple[Ledger, str]:
    ledger = Ledger(MemoryStore())
    book = ledger.create_ledger("Edges").id
    account = ledger.create_account(book, "alice", "liability", "USD").id
    for amount, effective_at in deposits:
        ledger.deposit(account, amount, effective_at=effective_at)
    return ledger, account


def test_an_effective_balance_in_an_early_year_counts_that_month_s_days() -> None:
    # GIVEN deposits effective on 2 March and 7 April of the year 5
    ledger, account = _account_with(
        [("5.00", datetime(5, 3, 2, tzinfo=UTC)), ("2.00", datetime(5, 4, 7, tzinfo=UTC))]
    )
    # WHEN the balance is asked effective on 10 March and on 10 April of that year
    march = ledger.get_balance(account, effective_at=datetime(5, 3, 10, tzinfo=UTC))
    april = ledger.get_balance(account, effective_at=datetime(5, 4, 10, tzinfo=UTC))
    # THEN each counts the deposits of its month's earlier days as well as earlier months
    assert (march.posted, april.posted) == (500, 700)


@pytest.mark.parametrize("basis", ["recorded", "effective"])
def test_a_statement_from_the_first_instant_opens_at_zero(basis: Basis) -> None:
    # GIVEN a deposit effective in the year 1, and one now
    ledger, account = _account_with(
        [("5.00", datetime(1, 1, 1, 0, 0, 1, tzinfo=UTC)), ("3.00", datetime.now(UTC))]
    )
    # WHEN its statement is asked from the first instant there is
    statement = ledger.statement(account, start=first_instant, basis=basis)
    # THEN it opens at zero and shows both deposits
    assert statement.opening == StatementBalance(0, 0)
    assert [line.amount for line in statement.lines] == [500, 300]
    assert statement.closing == StatementBalance(800, 800)


@pytest.mark.parametrize("basis", ["recorded", "effective"])
def test_a_statement_from_after_now_is_empty(basis: Basis) -> None:
    # GIVEN an account with a deposit
    ledger, account = _account_with([("5.00", datetime.now(UTC))])
    # WHEN its statement is asked from a time still to come, with no end
    statement = ledger.statement(account, start=datetime(3000, 1, 1, tzinfo=UTC), basis=basis)
    # THEN it has no line, and opens and closes at the balance now
    assert statement.lines == []
    assert statement.opening == statement.closing == StatementBalance(500, 500)
