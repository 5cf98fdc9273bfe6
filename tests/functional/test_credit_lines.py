"""Credit lines on every store: an overdraft limit lets available reach -credit_limit,
deposits repay the line first, and a limit changes only while it covers what is drawn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ledger.domain.errors import (
    Conflict,
    CreditLimitInUse,
    InsufficientFunds,
    LedgerError,
    NotFound,
    ValidationError,
)
from ledger.domain.ids import world_account_id
from ledger.domain.model import Balance, Overdraft, OverdraftMode
from ledger.domain.money import builtin_currencies, format_amount
from ledger.planning.accounts import plan_overdraft_change
from ledger.service import Ledger

from .checks import assert_invariants, refused
from .helpers import Backend, NothingWritten, missing_account_id, open_account

USD = builtin_currencies["USD"]
example_fields = ("available", "posted", "held", "credit_limit", "credit_used", "spendable")


def _shown(balance: Balance) -> dict[str, str]:
    """The example's fields as the API renders them: decimal strings in USD."""
    return {name: format_amount(getattr(balance, name), USD) for name in example_fields}


@pytest.mark.parametrize("granted", ["at opening", "later"])
def test_the_credit_line_example_of_the_issue(
    ledger: Ledger, book: str, granted: str, backend: Backend
) -> None:
    # GIVEN an account with 3.00 of its own and a 10.00 credit line (spendable 13.00),
    # the line granted when it opened or afterwards
    if granted == "at opening":
        account = open_account(ledger, book, overdraft="limit", credit_limit="10.00").id
        ledger.deposit(account, "3.00")
    else:
        account = open_account(ledger, book).id
        ledger.deposit(account, "3.00")
        ledger.update_account(account, overdraft="limit", credit_limit="10.00")
    assert _shown(ledger.get_balance(account)) == {
        "available": "3.00",
        "posted": "3.00",
        "held": "0.00",
        "credit_limit": "10.00",
        "credit_used": "0.00",
        "spendable": "13.00",
    }
    # WHEN 5.00 are held
    hold = ledger.hold(account, "5.00")
    # THEN available 0.00, held 5.00, credit_used 2.00, spendable 8.00
    assert _shown(ledger.get_balance(account)) == {
        "available": "0.00",
        "posted": "3.00",
        "held": "5.00",
        "credit_limit": "10.00",
        "credit_used": "2.00",
        "spendable": "8.00",
    }
    # WHEN the hold is released
    ledger.release_hold(hold.id)
    # THEN available 3.00, held 0.00, credit_used 0.00, spendable 13.00
    assert _shown(ledger.get_balance(account)) == {
        "available": "3.00",
        "posted": "3.00",
        "held": "0.00",
        "credit_limit": "10.00",
        "credit_used": "0.00",
        "spendable": "13.00",
    }
    # WHEN 5.00 are spent
    ledger.spend(account, "5.00")
    # THEN available 0.00, posted -2.00, credit_used 2.00
    assert _shown(ledger.get_balance(account)) == {
        "available": "0.00",
        "posted": "-2.00",
        "held": "0.00",
        "credit_limit": "10.00",
        "credit_used": "2.00",
        "spendable": "8.00",
    }
    # WHEN 4.00 are deposited
    ledger.deposit(account, "4.00")
    # THEN available 2.00, credit_used 0.00, spendable 12.00: the deposit repaid the line first
    assert _shown(ledger.get_balance(account)) == {
        "available": "2.00",
        "posted": "2.00",
        "held": "0.00",
        "credit_limit": "10.00",
        "credit_used": "0.00",
        "spendable": "12.00",
    }
    assert_invariants(backend, book)


def test_a_credit_line_is_a_floor_at_minus_the_limit(
    ledger: Ledger, book: str, nothing_written: NothingWritten, backend: Backend
) -> None:
    # GIVEN an empty account with a 10.00 credit line, 4.00 of it held
    account = open_account(ledger, book, overdraft="limit", credit_limit="10.00").id
    ledger.hold(account, "4.00")
    # WHEN spending the other 6.00, and then one cent more
    ledger.spend(account, "6.00")
    error = refused(nothing_written, lambda: ledger.spend(account, "0.01"), InsufficientFunds)
    # THEN the line is used up exactly, and the cent is refused
    assert error.details == {"account_id": account}
    balance = ledger.get_balance(account)
    assert (balance.posted, balance.credit_used, balance.spendable) == (-600, 1000, 0)
    assert_invariants(backend, book)


def test_a_credit_limit_alone_grants_a_line(ledger: Ledger, book: str) -> None:
    # GIVEN an account that may not go below zero
    account = open_account(ledger, book).id
    # WHEN only a credit limit is given
    changed = ledger.update_account(account, credit_limit="5.00")
    # THEN the account has a line of that limit
    assert changed.overdraft == Overdraft(OverdraftMode.LIMIT, 500)
    assert ledger.get_account(account) == changed


def test_an_update_renames_after_the_guarded_write(ledger: Ledger, book: str) -> None:
    # GIVEN an active account
    account = open_account(ledger, book).id
    # WHEN one call suspends it, renames it and replaces its metadata
    changed = ledger.update_account(
        account, name="Frozen", status="suspended", metadata={"why": "review"}
    )
    # THEN all three changes hold
    assert (changed.name, changed.status.value, changed.metadata) == (
        "Frozen",
        "suspended",
        {"why": "review"},
    )


def test_raising_the_limit_makes_more_spendable(
    ledger: Ledger, book: str, backend: Backend
) -> None:
    # GIVEN an account with a 10.00 line, fully drawn
    account = open_account(ledger, book, overdraft="limit", credit_limit="10.00").id
    ledger.spend(account, "10.00")
    before = ledger.get_account(account)
    # WHEN raising the line to 25.00
    changed = ledger.update_account(account, overdraft="limit", credit_limit="25.00")
    # THEN the account has the new line, its headroom grew by 15.00, and its version moved
    assert changed.overdraft == Overdraft(OverdraftMode.LIMIT, 2500)
    assert changed.headroom == before.headroom + 1500
    assert changed.version == before.version + 1
    assert ledger.get_account(account) == changed
    balance = changed.balance()
    assert (balance.credit_limit, balance.credit_used, balance.spendable) == (2500, 1000, 1500)
    # AND the new room can be spent
    ledger.spend(account, "15.00")
    assert ledger.get_balance(account).spendable == 0
    assert_invariants(backend, book)


def test_lowering_the_limit_below_what_is_drawn_isrefused(
    ledger: Ledger, book: str, nothing_written: NothingWritten, backend: Backend
) -> None:
    # GIVEN an account with a 10.00 line, 4.00 drawn by a spend and 2.00 more by a hold
    account = open_account(ledger, book, overdraft="limit", credit_limit="10.00").id
    ledger.spend(account, "4.00")
    ledger.hold(account, "2.00")
    for overdraft, credit_limit in (("limit", "5.99"), ("limit", "0.01"), ("forbid", None)):
        # WHEN lowering the line below the 6.00 drawn, or removing it
        error = refused(
            nothing_written,
            lambda: ledger.update_account(account, overdraft=overdraft, credit_limit=credit_limit),  # noqa: B023
            CreditLimitInUse,
        )
        # THEN it is refused with a clear error
        assert (error.code, error.status) == ("credit_limit_in_use", 422)
        assert error.details == {"account_id": account, "field": "credit_limit"}
    # AND lowering it to exactly what is drawn is fine, leaving nothing to spend
    ledger.update_account(account, overdraft="limit", credit_limit="6.00")
    balance = ledger.get_balance(account)
    assert (balance.credit_limit, balance.credit_used, balance.spendable) == (600, 600, 0)
    assert_invariants(backend, book)


def test_once_repaid_the_line_can_be_removed(ledger: Ledger, book: str, backend: Backend) -> None:
    # GIVEN an account that drew 4.00 on its 10.00 line and then received 4.00
    account = open_account(ledger, book, overdraft="limit", credit_limit="10.00").id
    ledger.spend(account, "4.00")
    ledger.deposit(account, "4.00")
    # WHEN removing the line
    changed = ledger.update_account(account, overdraft="forbid")
    # THEN the account is back to no overdraft, with nothing to spend
    assert changed.overdraft == Overdraft(OverdraftMode.FORBID, 0)
    balance = changed.balance()
    assert (balance.posted, balance.credit_limit, balance.spendable) == (0, 0, 0)
    assert_invariants(backend, book)


def test_an_unlimited_overdraft_goes_back_to_a_floor_only_when_covered(
    ledger: Ledger, book: str, nothing_written: NothingWritten, backend: Backend
) -> None:
    # GIVEN an account allowed any overdraft that spends 7.00 it does not have
    account = open_account(ledger, book).id
    ledger.update_account(account, overdraft="allow")
    ledger.spend(account, "7.00")
    # WHEN putting a floor under it below, and at, what it owes
    error = refused(
        nothing_written,
        lambda: ledger.update_account(account, overdraft="limit", credit_limit="6.99"),
        CreditLimitInUse,
    )
    changed = ledger.update_account(account, overdraft="limit", credit_limit="7.00")
    # THEN only a line covering the 7.00 is accepted
    assert error.details["account_id"] == account
    balance = changed.balance()
    assert (balance.posted, balance.credit_used, balance.spendable) == (-700, 700, 0)
    assert_invariants(backend, book)


def test_malformed_overdraft_changes_arerefused(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN an account, the ledger's world account, and an account id naming nothing
    account = open_account(ledger, book).id
    world = world_account_id(book, USD)
    missing = missing_account_id(book)
    refusals: list[tuple[Callable[[], Any], type[LedgerError], dict[str, Any]]] = [
        (
            lambda: ledger.update_account(world, overdraft="forbid"),
            ValidationError,
            {"field": "overdraft"},
        ),
        (
            lambda: ledger.update_account(account, overdraft="limit"),
            ValidationError,
            {"field": "credit_limit"},
        ),
        (
            lambda: ledger.update_account(account, overdraft="forbid", credit_limit="1.00"),
            ValidationError,
            {"field": "credit_limit"},
        ),
        (
            lambda: ledger.update_account(account, overdraft="limit", credit_limit="1.001"),
            ValidationError,
            {"field": "credit_limit"},
        ),
        (
            lambda: ledger.update_account(account, overdraft="credit"),
            ValidationError,
            {"field": "overdraft"},
        ),
        (
            lambda: ledger.update_account(missing, overdraft="forbid"),
            NotFound,
            {"resource": "account", "id": missing},
        ),
    ]
    for attempt, error_type, details in refusals:
        # WHEN changing an overdraft in a way that can never be valid
        error = refused(nothing_written, attempt, error_type)
        # THEN it is refused, naming the field or the missing account
        assert error.details == details


def test_a_change_decided_on_a_stale_policy_is_a_conflict(
    ledger: Ledger, book: str, backend: Backend, nothing_written: NothingWritten
) -> None:
    # GIVEN a change planned from the account while it had a 10.00 line
    account = open_account(ledger, book, overdraft="limit", credit_limit="10.00")
    stale = plan_overdraft_change(account, Overdraft(OverdraftMode.LIMIT, 500), account.created_at)
    # AND meanwhile the line became 20.00
    ledger.update_account(account.id, overdraft="limit", credit_limit="20.00")
    # WHEN the stale change reaches the store
    refused(nothing_written, lambda: backend.store.execute(stale), Conflict)
    # THEN it is refused rather than applied on top, and the 20.00 line stands
    balance = ledger.get_balance(account.id)
    assert (balance.credit_limit, balance.spendable) == (2000, 2000)
