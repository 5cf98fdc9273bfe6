"""Account status: suspended accounts take no entries until reactivated; closed is final."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ledger.domain.errors import AccountInactive, AccountNotEmpty
from ledger.domain.model import AccountStatus, Entry
from ledger.service import Ledger

from .helpers import NothingWritten, open_account


def test_suspended_account_takes_no_entries_until_reactivated(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a funded wallet and a payee
    wallet = open_account(ledger, book)
    payee = open_account(ledger, book)
    ledger.deposit(wallet.id, "10.00")
    # WHEN the wallet is suspended
    suspended = ledger.update_account(wallet.id, status="suspended")
    assert (suspended.status, suspended.version) == (AccountStatus.SUSPENDED, 2)
    # THEN money can move neither in nor out of it, and nothing is written
    attempts: dict[str, Callable[[], Entry]] = {
        "deposit": lambda: ledger.deposit(wallet.id, "1.00"),
        "withdraw": lambda: ledger.withdraw(wallet.id, "1.00"),
        "transfer out": lambda: ledger.transfer(wallet.id, payee.id, "1.00"),
        "transfer in": lambda: ledger.transfer(payee.id, wallet.id, "1.00"),
    }
    ledger.deposit(payee.id, "5.00")
    for name, attempt in attempts.items():
        with nothing_written(), pytest.raises(AccountInactive) as caught:
            attempt()
        assert caught.value.code == "account_inactive", name
        assert caught.value.details == {"account_id": wallet.id}, name
    # WHEN it is reactivated
    active = ledger.update_account(wallet.id, status=AccountStatus.ACTIVE)
    # THEN it takes entries again, its balance intact
    assert active.status is AccountStatus.ACTIVE
    ledger.transfer(wallet.id, payee.id, "4.00")
    assert ledger.get_balance(wallet.id).posted == 600
    assert ledger.get_balance(payee.id).posted == 900


def test_closing_needs_a_zero_balance_and_is_final(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a wallet holding 10.00
    wallet = open_account(ledger, book)
    ledger.deposit(wallet.id, "10.00")
    # WHEN it is closed
    with nothing_written(), pytest.raises(AccountNotEmpty) as caught:
        ledger.update_account(wallet.id, status="closed")
    # THEN it is refused while it holds money
    assert caught.value.code == "account_not_empty"
    assert ledger.get_account(wallet.id).status is AccountStatus.ACTIVE
    # WHEN it is emptied and closed
    ledger.withdraw(wallet.id, "10.00")
    closed = ledger.update_account(wallet.id, status="closed")
    # THEN it is closed, and takes no entry or status change any more
    assert closed.status is AccountStatus.CLOSED
    with nothing_written(), pytest.raises(AccountInactive):
        ledger.deposit(wallet.id, "1.00")
    for status in ("active", "suspended", "closed"):
        with nothing_written(), pytest.raises(AccountInactive):
            ledger.update_account(wallet.id, status=status)


def test_account_on_credit_cannot_close(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a wallet that has drawn 5.00 on its credit line
    wallet = open_account(ledger, book, overdraft="limit", credit_limit="20.00")
    ledger.spend(wallet.id, "5.00")
    # WHEN it is closed
    with nothing_written(), pytest.raises(AccountNotEmpty):
        ledger.update_account(wallet.id, status="closed")
    # THEN it is refused; once repaid it closes
    ledger.deposit(wallet.id, "5.00")
    assert ledger.update_account(wallet.id, status="closed").status is AccountStatus.CLOSED


def test_unused_or_suspended_account_closes(ledger: Ledger, book: str) -> None:
    # GIVEN an account never used, and one (debit-normal) suspended after a round trip
    unused = open_account(ledger, book, type="revenue")
    suspended = open_account(ledger, book, type="asset")
    ledger.deposit(suspended.id, "3.00")
    ledger.withdraw(suspended.id, "3.00")
    ledger.update_account(suspended.id, status="suspended")
    # WHEN both are closed
    closed = [ledger.update_account(account.id, status="closed") for account in (unused, suspended)]
    # THEN both are closed
    assert [account.status for account in closed] == [AccountStatus.CLOSED] * 2
    assert [ledger.get_account(account.id).status for account in closed] == [
        AccountStatus.CLOSED
    ] * 2
