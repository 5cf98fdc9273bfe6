"""Reconciliation (pure): a ledger's account items checked against the totals its journal
implies, conservation per currency, and each balance item against its projections (its
history and its audit chain). Amounts are integer minor units; callers render them."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from ledger.domain.ids import parse_account_id
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
    ledger_id: str,
    accounts: Sequence[Account],
    journal: Journal,
    as_of: datetime,
    *,
    projections: Sequence[Mismatch] = (),
    checks: tuple[str, ...] = ("journal",),
) -> Reconciliation:
    """Compare each account item with the journal, then sum the items per currency (and
    the `available` of the ledger's own accounts); the `projections` mismatches (found by
    `checks` other than `journal`) follow.

    Besides the six totals, `headroom` (the guard the write conditions compare) must be
    what the recomputed totals and the account's credit limit make it. A line naming an
    account the ledger does not hold reports what the journal puts on it against 0.
    """
    mismatches: list[Mismatch] = []
    currencies: dict[str, Currency] = {}
    sums: dict[str, Totals] = defaultdict(Totals)
    available: dict[str, int] = defaultdict(int)
    for account in sorted(accounts, key=chart_order):
        expected = journal.totals_of(account.id)
        mismatches += _differences(account.id, expected, account.totals)
        expected_headroom = replace(account, totals=expected).balance().spendable
        if account.headroom != expected_headroom:
            mismatches.append(Mismatch(account.id, "headroom", expected_headroom, account.headroom))
        currencies[account.currency.code] = account.currency
        sums[account.currency.code] += account.totals
        if not account.system:
            available[account.currency.code] += account.balance().available
    for missing in sorted(journal.account_ids() - {account.id for account in accounts}):
        mismatches += _differences(missing, journal.totals_of(missing), Totals())
    mismatches += projections
    totals = {
        code: CurrencyTotals.of(currencies[code], sums[code], available[code])
        for code in sorted(sums)
    }
    return Reconciliation(
        ledger_id=ledger_id,
        ok=not mismatches and all(each.balanced for each in totals.values()),
        accounts_checked=len(accounts),
        entries_checked=journal.entries,
        mismatches=tuple(mismatches),
        totals=totals,
        as_of=as_of,
        checks=checks,
    )


def history_mismatches(
    account_id: str,
    shard: int,
    item: tuple[int, Totals],
    latest: tuple[int, Totals] | None,
    versions: Collection[int],
) -> list[Mismatch]:
    """One balance item (its version and totals) against its history: the latest record
    (version and totals, or None) must be the item, and the recorded `versions` must run
    from 1 (an item's first change; opening it at version 0 is not recorded) to the latest
    without a gap. A missing record is reported as version 0."""
    version, totals = item
    found: list[Mismatch] = []
    if latest is None:
        if version != 0:
            found.append(Mismatch(account_id, "version", version, 0, "history", shard))
        return found
    latest_version, latest_totals = latest
    if latest_version != version:
        found.append(Mismatch(account_id, "version", version, latest_version, "history", shard))
    found += [
        Mismatch(
            account_id, name, getattr(totals, name), getattr(latest_totals, name), "history", shard
        )
        for name in reconciled_fields
        if getattr(totals, name) != getattr(latest_totals, name)
    ]
    present = set(versions)
    missing = tuple(sorted(set(range(1, max(present, default=0) + 1)) - present))
    if missing:
        expected = max(present)
        found.append(
            Mismatch(account_id, "versions", expected, len(present), "history", shard, missing)
        )
    return found


def audit_mismatches(
    account_id: str,
    shard: int,
    version: int,
    amounts: Mapping[str, str],
    head: tuple[int, Mapping[str, str]] | None,
) -> list[Mismatch]:
    """One balance item (its version and its balance amounts as the audit renders them)
    against its audit chain head (version and `after` amounts). An item without any audit
    record is reported as field `record`, 1 expected and 0 found."""
    if head is None:
        return [Mismatch(account_id, "record", 1, 0, "audit", shard)]
    head_version, after = head
    found: list[Mismatch] = []
    if head_version != version:
        found.append(Mismatch(account_id, "version", version, head_version, "audit", shard))
    currency = parse_account_id(account_id).currency
    for name, value in amounts.items():
        recorded = after.get(name)
        if recorded != value:
            actual = 0 if recorded is None else _minor(recorded, currency.scale)
            found.append(
                Mismatch(account_id, name, _minor(value, currency.scale), actual, "audit", shard)
            )
    return found


def _minor(text: str, scale: int) -> int:
    return int(Decimal(text).scaleb(scale))


def _differences(account_id: str, expected: Totals, actual: Totals) -> list[Mismatch]:
    return [
        Mismatch(account_id, name, getattr(expected, name), getattr(actual, name))
        for name in reconciled_fields
        if getattr(expected, name) != getattr(actual, name)
    ]
