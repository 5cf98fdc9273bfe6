"""Every operation's guard, evaluated on synthetic stored records (`violation`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from unit_builders import (
    ETH,
    EUR,
    JPY,
    USD,
    a_ledger,
    a_ledger_id,
    an_account,
    an_entry,
    an_entry_id,
    created,
    later,
)

from ledger.domain.errors import (
    AccountInactive,
    AccountNotEmpty,
    CodeTaken,
    CurrencyMismatch,
    IdempotencyKeyReused,
    InsufficientFunds,
    LedgerMismatch,
    NotFound,
    TypeMismatch,
    ValidationError,
)
from ledger.domain.model import (
    Account,
    AccountStatus,
    AccountType,
    Entry,
    LedgerRecord,
    Overdraft,
    OverdraftMode,
    Totals,
)
from ledger.domain.money import Currency
from ledger.planning.accounts import world_account
from ledger.planning.steps import (
    ApplyDelta,
    Claim,
    ClaimUnique,
    Duplicate,
    EnsureWorld,
    PutNew,
    RegisterCurrency,
    RequireLedger,
    RequireParent,
    SetStatus,
    Stored,
    Target,
    claim_id,
)

# --- PutNew --------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [a_ledger, an_account, an_entry])
def test_put_new_needs_a_free_slot(make: Callable[[], LedgerRecord | Account | Entry]) -> None:
    # GIVEN a record to create
    record = make()
    put = PutNew(record)
    # WHEN the slot is free, and when the record exists already
    free = put.violation(None)
    taken = put.violation(record)
    # THEN the first passes and the second is a Duplicate carrying what exists
    assert free is None
    assert isinstance(taken, Duplicate)
    assert taken.existing is record
    assert type(record).__name__ in str(taken)


def test_put_new_targets_the_record_by_kind() -> None:
    # GIVEN a ledger, an account and an entry
    ledger, account, entry = a_ledger(), an_account(), an_entry()
    # WHEN asking what each put writes
    # THEN each names its kind and id
    assert PutNew(ledger).target == Target("ledger", ledger.id)
    assert PutNew(account).target == Target("account", account.id)
    assert PutNew(entry).target == Target("entry", entry.id)


# --- ClaimUnique -----------------------------------------------------------------------------


def test_claim_code_passes_on_a_free_code() -> None:
    # GIVEN a claim on a code nobody holds
    claim = ClaimUnique(Claim(a_ledger_id(), "code", "1000", an_account().id))
    # WHEN checking it
    # THEN it passes
    assert claim.violation(None) is None


def test_claim_code_refuses_a_taken_code() -> None:
    # GIVEN a code held by one account and claimed by another
    ledger_id = a_ledger_id()
    held = Claim(ledger_id, "code", "cash", an_account(ledger_id=ledger_id).id)
    claim = ClaimUnique(Claim(ledger_id, "code", "cash", an_account(ledger_id=ledger_id).id))
    # WHEN checking the claim
    error = claim.violation(held)
    # THEN it is code_taken, naming the field and the code
    assert isinstance(error, CodeTaken)
    assert error.code == "code_taken"
    assert error.details == {"field": "code", "code": "cash"}


def test_claim_code_targets_the_ledger_and_code() -> None:
    # GIVEN a claim
    ledger_id = a_ledger_id()
    claim = ClaimUnique(Claim(ledger_id, "code", "a.b", an_account().id))
    # WHEN asking what it writes
    # THEN it is the code item of that ledger and code
    assert claim.target == Target("code", claim_id(ledger_id, "a.b"))
    assert claim_id(ledger_id, "a.b") == f"{ledger_id}#a.b"


def test_claim_key_refuses_a_key_that_opened_another_account() -> None:
    # GIVEN an idempotency key digest held by one account and claimed for another
    ledger_id = a_ledger_id()
    held = Claim(ledger_id, "key", "d" * 64, an_account(ledger_id=ledger_id).id)
    claim = ClaimUnique(Claim(ledger_id, "key", "d" * 64, an_account(ledger_id=ledger_id).id))
    # WHEN checking the claim
    error = claim.violation(held)
    # THEN the key is refused as reused, and the claim names the key item of that ledger
    assert isinstance(error, IdempotencyKeyReused)
    assert claim.target == Target("key", claim_id(ledger_id, "d" * 64))
    assert claim.violation(None) is None


# --- EnsureWorld ---------------------------------------------------------------------------


def test_ensure_world_never_fails() -> None:
    # GIVEN the world account of a ledger
    ledger_id = a_ledger_id()
    world = world_account(ledger_id, USD, created)
    ensure = EnsureWorld(world)
    # WHEN it is missing, or exists (even with a balance)
    missing = ensure.violation(None)
    existing = ensure.violation(replace(world, totals=Totals(posted_debits=5), headroom=-5))
    # THEN neither case is a violation, and the target is the world account
    assert (missing, existing) == (None, None)
    assert ensure.target == Target("account", world.id)


# --- RequireLedger -------------------------------------------------------------------------


@pytest.mark.parametrize("stored", [None, "account", "entry"])
def test_require_ledger_needs_a_ledger(stored: str | None) -> None:
    # GIVEN no item, or an item that is no ledger
    current: Stored = {None: None, "account": an_account(), "entry": an_entry()}[stored]
    ledger_id = a_ledger_id()
    # WHEN requiring the ledger
    error = RequireLedger(ledger_id, None).violation(current)
    # THEN the ledger is not found
    assert isinstance(error, NotFound)
    assert error.details == {"resource": "ledger", "id": ledger_id}


def test_require_ledger_without_a_registered_currency_needs_only_the_ledger() -> None:
    # GIVEN a ledger with no registered currencies
    ledger = a_ledger()
    require = RequireLedger(ledger.id, None)
    # WHEN requiring it
    # THEN it passes, and the check targets that ledger
    assert require.violation(ledger) is None
    assert require.target == Target("ledger", ledger.id)


def test_require_ledger_accepts_a_registered_currency_of_the_same_scale() -> None:
    # GIVEN a ledger that registered POINTS with scale 3
    ledger = a_ledger(currencies={"POINTS": 3})
    # WHEN requiring that currency with that scale
    # THEN it passes
    assert RequireLedger(ledger.id, Currency("POINTS", 3)).violation(ledger) is None


@pytest.mark.parametrize(
    "currencies", [{}, {"POINTS": 2}, {"OTHER": 3}], ids=["none", "other-scale", "other-code"]
)
def test_require_ledger_refuses_an_unregistered_currency(currencies: dict[str, int]) -> None:
    # GIVEN a ledger without POINTS at scale 3
    ledger = a_ledger(currencies=currencies)
    # WHEN requiring POINTS with scale 3
    error = RequireLedger(ledger.id, Currency("POINTS", 3)).violation(ledger)
    # THEN the currency is a validation error
    assert isinstance(error, ValidationError)
    assert error.field == "currency"


# --- RequireParent -------------------------------------------------------------------------


def _parent_check(parent: Account, **changes: Any) -> RequireParent:
    check = RequireParent(parent.id, parent.ledger_id, parent.type)
    return replace(check, **changes)


def test_require_parent_passes_for_same_ledger_and_type() -> None:
    # GIVEN a stored expense account
    parent = an_account(account_type=AccountType.EXPENSE)
    check = _parent_check(parent)
    # WHEN requiring it as the parent of an expense of its ledger
    # THEN it passes, and the check targets the parent
    assert check.violation(parent) is None
    assert check.target == Target("account", parent.id)


@pytest.mark.parametrize("stored", [None, "ledger", "entry"])
def test_require_parent_needs_an_account(stored: str | None) -> None:
    # GIVEN no item, or an item that is no account
    parent_id = an_account().id
    current: Stored = {None: None, "ledger": a_ledger(), "entry": an_entry()}[stored]
    # WHEN requiring it as parent
    error = RequireParent(parent_id, a_ledger_id(), AccountType.ASSET).violation(current)
    # THEN the parent account is not found
    assert isinstance(error, NotFound)
    assert error.details == {"resource": "account", "id": parent_id}


def test_require_parent_refuses_a_parent_of_another_ledger() -> None:
    # GIVEN a parent stored in one ledger
    parent = an_account()
    other_ledger = a_ledger_id()
    # WHEN requiring it as parent in another ledger
    error = _parent_check(parent, ledger_id=other_ledger).violation(parent)
    # THEN it is a ledger mismatch naming the parent_id field
    assert isinstance(error, LedgerMismatch)
    assert error.details == {"account_id": parent.id, "field": "parent_id"}
    assert parent.ledger_id in error.message
    assert other_ledger in error.message


def test_require_parent_refuses_a_parent_of_another_type() -> None:
    # GIVEN an expense parent (debit-normal, like an asset)
    parent = an_account(account_type=AccountType.EXPENSE)
    # WHEN requiring it as parent of an asset
    error = _parent_check(parent, type=AccountType.ASSET).violation(parent)
    # THEN it is a type mismatch naming the parent_id field
    assert isinstance(error, TypeMismatch)
    assert error.details == {"field": "parent_id"}


# --- ApplyDelta ----------------------------------------------------------------------------


def _delta(account: Account, outflow: int, **changes: Any) -> ApplyDelta:
    """A delta on `account` that takes `outflow` out (0: an inflow of 1)."""
    delta = ApplyDelta(
        account_id=account.id,
        ledger_id=account.ledger_id,
        currency=account.currency.code,
        entry_id=an_entry_id(account.ledger_id),
        at=later,
        totals=Totals(posted_credits=outflow) if outflow else Totals(posted_debits=1),
        headroom=-outflow if outflow else 1,
        outflow=outflow,
    )
    return replace(delta, **changes)


def test_apply_delta_passes_on_an_active_account_with_headroom() -> None:
    # GIVEN an active USD asset with 100 of headroom
    account = an_account(totals=Totals(posted_debits=100), headroom=100)
    # WHEN taking out less, exactly all, or putting in
    # THEN all pass, and each targets the account
    assert _delta(account, 99).violation(account) is None
    assert _delta(account, 100).violation(account) is None
    assert _delta(account, 0).violation(account) is None
    assert _delta(account, 100).target == Target("account", account.id)


@pytest.mark.parametrize("stored", [None, "ledger", "entry"])
def test_apply_delta_needs_an_account(stored: str | None) -> None:
    # GIVEN no item, or an item that is no account
    account = an_account()
    current: Stored = {None: None, "ledger": a_ledger(), "entry": an_entry()}[stored]
    # WHEN applying a delta
    error = _delta(account, 0).violation(current)
    # THEN the account is not found
    assert isinstance(error, NotFound)
    assert error.details == {"resource": "account", "id": account.id}


@pytest.mark.parametrize("status", [AccountStatus.SUSPENDED, AccountStatus.CLOSED])
@pytest.mark.parametrize("outflow", [0, 1])
def test_apply_delta_refuses_inactive_accounts_both_ways(
    status: AccountStatus, outflow: int
) -> None:
    # GIVEN a suspended or closed account with plenty of headroom
    account = an_account(status=status, headroom=10**6)
    # WHEN moving money in or out
    error = _delta(account, outflow).violation(account)
    # THEN it is account_inactive, naming the account
    assert isinstance(error, AccountInactive)
    assert error.details == {"account_id": account.id}
    assert str(status) in error.message


def test_apply_delta_refuses_another_currency() -> None:
    # GIVEN a USD account
    account = an_account(currency=USD, headroom=10**6)
    # WHEN applying a EUR delta to it
    error = _delta(account, 0, currency=EUR.code).violation(account)
    # THEN it is a currency mismatch naming the account
    assert isinstance(error, CurrencyMismatch)
    assert error.details == {"account_id": account.id}


def test_apply_delta_compares_currency_codes_exactly() -> None:
    # GIVEN a USD account
    account = an_account(currency=USD, headroom=10**6)
    # WHEN applying a delta of a code that differs only in case
    error = _delta(account, 0, currency="usd").violation(account)
    # THEN it is a currency mismatch
    assert isinstance(error, CurrencyMismatch)


def test_apply_delta_refuses_another_ledger() -> None:
    # GIVEN an account of one ledger
    account = an_account(headroom=10**6)
    # WHEN applying a delta of an entry in another ledger
    error = _delta(account, 0, ledger_id=a_ledger_id()).violation(account)
    # THEN it is a ledger mismatch naming only the account
    assert isinstance(error, LedgerMismatch)
    assert error.details == {"account_id": account.id}


@pytest.mark.parametrize(
    ("overdraft", "headroom", "outflow"),
    [
        (Overdraft(), 0, 1),
        (Overdraft(), 99, 100),
        (Overdraft(OverdraftMode.LIMIT, 50), 50, 51),
        (Overdraft(OverdraftMode.LIMIT, 50), -10, 1),
    ],
    ids=["forbid-empty", "forbid-short-by-one", "limit-beyond-line", "limit-over-drawn"],
)
def test_apply_delta_refuses_an_outflow_beyond_headroom(
    overdraft: Overdraft, headroom: int, outflow: int
) -> None:
    # GIVEN an account whose headroom is below the outflow
    account = an_account(overdraft=overdraft, headroom=headroom)
    # WHEN taking the outflow
    error = _delta(account, outflow).violation(account)
    # THEN it is insufficient_funds, naming the account
    assert isinstance(error, InsufficientFunds)
    assert error.code == "insufficient_funds"
    assert error.details == {"account_id": account.id}


def test_insufficient_funds_names_the_amount_in_major_units() -> None:
    # GIVEN an empty ETH account
    account = an_account(currency=ETH)
    # WHEN taking out one wei
    error = _delta(account, 1).violation(account)
    # THEN the message shows 0.000000000000000001 ETH
    assert isinstance(error, InsufficientFunds)
    assert "0.000000000000000001 ETH" in error.message


def test_apply_delta_lets_an_allow_account_go_below_zero() -> None:
    # GIVEN a world account (overdraft allow) already far below zero
    world = replace(world_account(a_ledger_id(), JPY, created), headroom=-(10**29))
    # WHEN taking out the largest amount
    # THEN it passes
    assert _delta(world, 10**30).violation(world) is None


def test_an_inflow_passes_even_on_an_overdrawn_account() -> None:
    # GIVEN a credit-line account below its floor (negative headroom)
    account = an_account(overdraft=Overdraft(OverdraftMode.LIMIT, 10), headroom=-5)
    # WHEN paying money in
    # THEN it passes: only outflows need headroom
    assert _delta(account, 0).violation(account) is None


# --- SetStatus -----------------------------------------------------------------------------


@pytest.mark.parametrize("stored", [None, "ledger", "entry"])
def test_set_status_needs_an_account(stored: str | None) -> None:
    # GIVEN no item, or an item that is no account
    account_id = an_account().id
    current: Stored = {None: None, "ledger": a_ledger(), "entry": an_entry()}[stored]
    # WHEN changing its status
    error = SetStatus(account_id, AccountStatus.SUSPENDED, later).violation(current)
    # THEN the account is not found
    assert isinstance(error, NotFound)
    assert error.details == {"resource": "account", "id": account_id}


@pytest.mark.parametrize("target", list(AccountStatus))
def test_closed_is_final(target: AccountStatus) -> None:
    # GIVEN a closed account
    account = an_account(status=AccountStatus.CLOSED)
    # WHEN changing its status to anything
    error = SetStatus(account.id, target, later).violation(account)
    # THEN it is account_inactive
    assert isinstance(error, AccountInactive)
    assert error.details == {"account_id": account.id}


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (AccountStatus.ACTIVE, AccountStatus.SUSPENDED),
        (AccountStatus.SUSPENDED, AccountStatus.ACTIVE),
        (AccountStatus.ACTIVE, AccountStatus.ACTIVE),
    ],
)
def test_suspending_and_reactivating_need_no_empty_account(
    current: AccountStatus, target: AccountStatus
) -> None:
    # GIVEN an account with a balance and pending entries
    totals = Totals(posted_debits=10, pending_debits=3, pending_credits=4)
    account = an_account(status=current, totals=totals)
    # WHEN suspending or reactivating it
    change = SetStatus(account.id, target, later)
    # THEN it passes, targeting the account
    assert change.violation(account) is None
    assert change.target == Target("account", account.id)


@pytest.mark.parametrize(
    "totals",
    [
        Totals(posted_debits=1),
        Totals(posted_credits=1),
        Totals(pending_debits=1),
        Totals(pending_credits=1),
        Totals(posted_debits=5, posted_credits=5, pending_debits=2),
    ],
    ids=["posted-debit", "posted-credit", "pending-debit", "pending-credit", "zero-but-pending"],
)
@pytest.mark.parametrize("status", [AccountStatus.ACTIVE, AccountStatus.SUSPENDED])
def test_closing_needs_an_empty_account(totals: Totals, status: AccountStatus) -> None:
    # GIVEN an account with a balance or something pending
    account = an_account(status=status, totals=totals)
    # WHEN closing it
    error = SetStatus(account.id, AccountStatus.CLOSED, later).violation(account)
    # THEN it is account_not_empty
    assert isinstance(error, AccountNotEmpty)
    assert error.code == "account_not_empty"
    assert error.details == {"account_id": account.id}


def test_closing_an_account_that_returned_to_zero_passes() -> None:
    # GIVEN an account that received and paid out the same, with nothing pending
    # (held and escrowed are parts of pending, and are zero too)
    account = an_account(totals=Totals(posted_debits=70, posted_credits=70))
    # WHEN closing it
    # THEN it passes
    assert SetStatus(account.id, AccountStatus.CLOSED, later).violation(account) is None


# --- RegisterCurrency ----------------------------------------------------------------------


@pytest.mark.parametrize("stored", [None, "account", "entry"])
def test_register_currency_needs_a_ledger(stored: str | None) -> None:
    # GIVEN no item, or an item that is no ledger
    ledger_id = a_ledger_id()
    current: Stored = {None: None, "account": an_account(), "entry": an_entry()}[stored]
    # WHEN registering a currency
    error = RegisterCurrency(ledger_id, Currency("PTS", 0)).violation(current)
    # THEN the ledger is not found
    assert isinstance(error, NotFound)
    assert error.details == {"resource": "ledger", "id": ledger_id}


def test_registering_a_new_or_the_same_currency_passes() -> None:
    # GIVEN a ledger with PTS at scale 0
    ledger = a_ledger(currencies={"PTS": 0})
    # WHEN registering a new code, or PTS again at scale 0
    new = RegisterCurrency(ledger.id, Currency("GEMS", 4))
    again = RegisterCurrency(ledger.id, Currency("PTS", 0))
    # THEN both pass, targeting the ledger
    assert new.violation(ledger) is None
    assert again.violation(ledger) is None
    assert new.target == Target("ledger", ledger.id)


def test_registering_a_currency_with_another_scale_is_refused() -> None:
    # GIVEN a ledger with PTS at scale 0
    ledger = a_ledger(currencies={"PTS": 0})
    # WHEN registering PTS at scale 2
    error = RegisterCurrency(ledger.id, Currency("PTS", 2)).violation(ledger)
    # THEN the scale is a validation error
    assert isinstance(error, ValidationError)
    assert error.field == "scale"
