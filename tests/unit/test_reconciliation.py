"""Reconciliation as a pure computation: a journal folded from entries in every state,
and account items checked against it and for conservation."""

from __future__ import annotations

import secrets
from dataclasses import replace

from unit_builders import (
    USD,
    a_ledger_id,
    a_world_account,
    an_account,
    an_entry_id,
    created,
    later,
    posted_totals,
)

from ledger.domain.model import (
    Account,
    AccountType,
    Entry,
    EntryKind,
    EntryStatus,
    Line,
    Overdraft,
    OverdraftMode,
    Side,
    Totals,
)
from ledger.domain.results import CurrencyTotals, Mismatch
from ledger.reporting.reconciliation import Journal, reconciliation


def _entry(
    ledger_id: str,
    lines: list[tuple[Account, Side, int]],
    *,
    kind: EntryKind = EntryKind.TRANSFER,
    status: EntryStatus = EntryStatus.POSTED,
    pending_id: str | None = None,
    posting_entry_id: str | None = None,
) -> Entry:
    return Entry(
        id=an_entry_id(ledger_id),
        ledger_id=ledger_id,
        kind=kind,
        status=status,
        lines=tuple(
            Line(account.id, side, amount, account.currency.code) for account, side, amount in lines
        ),
        effective_at=later,
        created_at=created,
        request_hash=secrets.token_hex(32),
        pending_id=pending_id,
        posting_entry_id=posting_entry_id,
    )


def test_journal_counts_entries_by_status() -> None:
    # GIVEN a wallet and world, and entries in every state: a posted deposit of 100, a hold
    # of 30 still pending, a hold of 20 posted for 15 (its posting entry carries 15), a hold
    # of 9 voided, an escrow of 4 expired, an escrow of 6 pending, and a reversed deposit
    ledger_id = a_ledger_id()
    wallet = an_account(ledger_id=ledger_id, account_type=AccountType.LIABILITY)
    world = a_world_account(ledger_id, Totals())

    def hold(amount: int, status: EntryStatus, kind: EntryKind = EntryKind.HOLD) -> Entry:
        lines = [(wallet, Side.DEBIT, amount), (world, Side.CREDIT, amount)]
        return _entry(ledger_id, lines, kind=kind, status=status)

    deposit = _entry(ledger_id, [(world, Side.DEBIT, 100), (wallet, Side.CREDIT, 100)])
    confirmed = hold(20, EntryStatus.POSTED)
    posting = _entry(
        ledger_id,
        [(wallet, Side.DEBIT, 15), (world, Side.CREDIT, 15)],
        kind=EntryKind.POST,
        pending_id=confirmed.id,
    )
    confirmed = replace(confirmed, posting_entry_id=posting.id)
    reversed_deposit = _entry(ledger_id, [(world, Side.DEBIT, 50), (wallet, Side.CREDIT, 50)])
    reversal = _entry(
        ledger_id,
        [(world, Side.CREDIT, 50), (wallet, Side.DEBIT, 50)],
        kind=EntryKind.REVERSAL,
    )
    entries = [
        deposit,
        hold(30, EntryStatus.PENDING),
        confirmed,
        posting,
        hold(9, EntryStatus.VOIDED),
        hold(4, EntryStatus.EXPIRED, EntryKind.ESCROW),
        hold(6, EntryStatus.PENDING, EntryKind.ESCROW),
        reversed_deposit,
        reversal,
    ]
    # WHEN they are folded into a journal, in any order
    journal = Journal()
    for entry in reversed(entries):
        journal.add(entry)
    # THEN posted totals hold posted and posting entries, pending totals the unresolved ones
    assert journal.entries == 9
    assert journal.totals_of(wallet.id) == Totals(
        posted_debits=15 + 50,
        posted_credits=100 + 50,
        pending_debits=30 + 6,
        held=30,
        escrowed=6,
    )
    assert journal.totals_of(world.id) == Totals(
        posted_debits=100 + 50, posted_credits=15 + 50, pending_credits=36
    )
    assert journal.account_ids() == {wallet.id, world.id}
    assert journal.totals_of(an_account(ledger_id=ledger_id).id) == Totals()


def _settled(ledger_id: str) -> tuple[list[Account], Journal]:
    """A wallet with 100 deposited and 30 held, world on the other side, consistent."""
    wallet = an_account(
        ledger_id=ledger_id,
        account_type=AccountType.LIABILITY,
        totals=Totals(posted_credits=100, pending_debits=30, held=30),
        headroom=70,
    )
    world = a_world_account(ledger_id, Totals(posted_debits=100, pending_credits=30))
    world = replace(world, headroom=-100)
    journal = Journal()
    journal.add(_entry(ledger_id, [(world, Side.DEBIT, 100), (wallet, Side.CREDIT, 100)]))
    journal.add(
        _entry(
            ledger_id,
            [(wallet, Side.DEBIT, 30), (world, Side.CREDIT, 30)],
            kind=EntryKind.HOLD,
            status=EntryStatus.PENDING,
        )
    )
    return [wallet, world], journal


def test_reconciliation_of_consistent_items_is_ok() -> None:
    # GIVEN account items that agree with the journal
    ledger_id = a_ledger_id()
    accounts, journal = _settled(ledger_id)
    # WHEN reconciled
    result = reconciliation(ledger_id, accounts, journal, later)
    # THEN all is well and the totals per currency balance
    assert (result.ok, result.mismatches) == (True, ())
    assert (result.accounts_checked, result.entries_checked) == (2, 2)
    # AND the wallet's 100 less its 30 held is available; world, the outside, adds nothing
    assert result.totals == {
        "USD": CurrencyTotals(
            USD,
            posted_debits=100,
            posted_credits=100,
            pending_debits=30,
            pending_credits=30,
            available=100 - 30,
        )
    }
    assert result.totals["USD"].balanced


def test_reconciliation_sums_escrows_and_leaves_system_accounts_out_of_available() -> None:
    # GIVEN a wallet with 40 escrowed of its 100, and a world account that shows 25 of
    # its own (system accounts stand for the outside)
    ledger_id = a_ledger_id()
    wallet = an_account(
        ledger_id=ledger_id,
        account_type=AccountType.LIABILITY,
        totals=Totals(posted_credits=100, pending_debits=40, escrowed=40),
    )
    world = a_world_account(ledger_id, Totals(posted_debits=75, posted_credits=100))
    # WHEN reconciled against an empty journal
    result = reconciliation(ledger_id, [wallet, world], Journal(), later)
    # THEN the escrow counts once and only the wallet's 60 free is available
    assert (result.totals["USD"].escrowed, result.totals["USD"].available) == (40, 100 - 40)


def test_reconciliation_names_each_field_that_differs() -> None:
    # GIVEN the wallet's posted credits raised by 1 and its headroom lowered by 5
    ledger_id = a_ledger_id()
    (wallet, world), journal = _settled(ledger_id)
    corrupted = replace(
        wallet,
        totals=replace(wallet.totals, posted_credits=101),
        headroom=wallet.headroom - 5,
    )
    # WHEN reconciled
    result = reconciliation(ledger_id, [corrupted, world], journal, later)
    # THEN both fields are reported with what they should be and what they are
    assert result.mismatches == (
        Mismatch(wallet.id, "posted_credits", 100, 101),
        Mismatch(wallet.id, "headroom", 70, 65),
    )
    # AND conservation over the items fails too: 1 was created
    assert not result.ok
    assert (result.totals["USD"].posted_debits, result.totals["USD"].posted_credits) == (100, 101)
    assert not result.totals["USD"].balanced


def test_reconciliation_reports_lines_on_an_account_the_ledger_lacks() -> None:
    # GIVEN the journal, without the world account's item
    ledger_id = a_ledger_id()
    (wallet, world), journal = _settled(ledger_id)
    # WHEN reconciled
    result = reconciliation(ledger_id, [wallet], journal, later)
    # THEN what the journal puts on world is reported against nothing
    assert result.mismatches == (
        Mismatch(world.id, "posted_debits", 100, 0),
        Mismatch(world.id, "pending_credits", 30, 0),
    )
    assert not result.ok


def test_reconciliation_fails_on_conservation_alone() -> None:
    # GIVEN items that match a journal whose one entry is itself unbalanced
    ledger_id = a_ledger_id()
    bank = an_account(ledger_id=ledger_id, totals=posted_totals(debits=10), headroom=10)
    funds = an_account(
        ledger_id=ledger_id,
        account_type=AccountType.LIABILITY,
        totals=posted_totals(credits=9),
        headroom=9,
    )
    journal = Journal()
    journal.add(_entry(ledger_id, [(bank, Side.DEBIT, 10), (funds, Side.CREDIT, 9)]))
    # WHEN reconciled
    result = reconciliation(ledger_id, [bank, funds], journal, later)
    # THEN no account mismatches, yet the currency does not balance, so it is not ok
    assert result.mismatches == ()
    assert (result.ok, result.totals["USD"].balanced) == (False, False)


def test_reconciliation_expects_headroom_from_the_credit_limit() -> None:
    # GIVEN a wallet with a 50 credit line that spent 20 of it, its item consistent
    ledger_id = a_ledger_id()
    wallet = an_account(
        ledger_id=ledger_id,
        account_type=AccountType.LIABILITY,
        overdraft=Overdraft(OverdraftMode.LIMIT, 50),
        totals=posted_totals(debits=20),
        headroom=30,
    )
    world = a_world_account(ledger_id, posted_totals(credits=20))
    world = replace(world, headroom=20)
    journal = Journal()
    journal.add(_entry(ledger_id, [(wallet, Side.DEBIT, 20), (world, Side.CREDIT, 20)]))
    # WHEN reconciled
    result = reconciliation(ledger_id, [wallet, world], journal, later)
    # THEN headroom = posted - pending out + credit limit holds, and all is well
    assert (result.ok, result.mismatches) == (True, ())
