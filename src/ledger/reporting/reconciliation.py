"""Reconciliation (pure): a ledger's account items checked against the totals its journal
implies, and conservation per currency. Amounts are integer minor units; callers render them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from ledger.domain.model import (
    Account,
    Entry,
    EntryKind,
    EntryStatus,
    Side,
    Totals,
    totals_fields,
)
from ledger.domain.money import Currency
from ledger.domain.results import CurrencyTotals, Mismatch, Reconciliation
from ledger.reporting.statements import chart_order

# The account item attributes reconciliation recomputes from the journal: all six totals.
reconciled_fields = totals_fields


class Journal:
    """Account totals recomputed from entries, folded in one at a time (any order), so a
    ledger's journal never has to be held in memory at once."""

    def __init__(self) -> None:
        self._accounts: dict[str, Totals] = defaultdict(Totals)
        self.entries = 0

    def add(self, entry: Entry) -> None:
        """Fold in one entry as its status stands.

        Posted entries move posted totals; that includes posting entries (kind `post`),
        which carry what a pending entry was posted for, a partial amount included. A
        pending entry moves pending totals, and its first line (the payer's) is also held
        or escrowed for holds and escrows. A pending entry that was posted since moves
        nothing itself (its posting entry does), nor does a voided or expired one.
        """
        self.entries += 1
        if entry.status is EntryStatus.PENDING:
            for line in entry.lines:
                if line.side is Side.DEBIT:
                    self._move(line.account_id, Totals(pending_debits=line.amount))
                else:
                    self._move(line.account_id, Totals(pending_credits=line.amount))
            payer = entry.lines[0]
            if entry.kind is EntryKind.HOLD:
                self._move(payer.account_id, Totals(held=payer.amount))
            elif entry.kind is EntryKind.ESCROW:
                self._move(payer.account_id, Totals(escrowed=payer.amount))
        elif not entry.was_pending:
            for line in entry.lines:
                if line.side is Side.DEBIT:
                    self._move(line.account_id, Totals(posted_debits=line.amount))
                else:
                    self._move(line.account_id, Totals(posted_credits=line.amount))

    def _move(self, account_id: str, change: Totals) -> None:
        self._accounts[account_id] += change

    def totals_of(self, account_id: str) -> Totals:
        """What the journal says the account's totals are."""
        return self._accounts.get(account_id) or Totals()

    def account_ids(self) -> set[str]:
        """Every account some entry line names."""
        return set(self._accounts)


def reconciliation(
    ledger_id: str, accounts: Sequence[Account], journal: Journal, as_of: datetime
) -> Reconciliation:
    """Compare each account item with the journal, then sum the items per currency.

    Besides the six totals, `headroom` (the guard the write conditions compare) must be
    what the recomputed totals and the account's credit limit make it. A line naming an
    account the ledger does not hold reports what the journal puts on it against 0.
    """
    mismatches: list[Mismatch] = []
    currencies: dict[str, Currency] = {}
    sums: dict[str, Totals] = defaultdict(Totals)
    for account in sorted(accounts, key=chart_order):
        expected = journal.totals_of(account.id)
        mismatches += _differences(account.id, expected, account.totals)
        expected_headroom = replace(account, totals=expected).balance().spendable
        if account.headroom != expected_headroom:
            mismatches.append(Mismatch(account.id, "headroom", expected_headroom, account.headroom))
        currencies[account.currency.code] = account.currency
        sums[account.currency.code] += account.totals
    for missing in sorted(journal.account_ids() - {account.id for account in accounts}):
        mismatches += _differences(missing, journal.totals_of(missing), Totals())
    totals = {code: CurrencyTotals.of(currencies[code], sums[code]) for code in sorted(sums)}
    return Reconciliation(
        ledger_id=ledger_id,
        ok=not mismatches and all(each.balanced for each in totals.values()),
        accounts_checked=len(accounts),
        entries_checked=journal.entries,
        mismatches=tuple(mismatches),
        totals=totals,
        as_of=as_of,
    )


def _differences(account_id: str, expected: Totals, actual: Totals) -> list[Mismatch]:
    return [
        Mismatch(account_id, name, getattr(expected, name), getattr(actual, name))
        for name in reconciled_fields
        if getattr(expected, name) != getattr(actual, name)
    ]
