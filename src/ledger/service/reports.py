"""Reports and integrity: trial balance, balance sheet and reconciliation of a ledger."""

from __future__ import annotations

from collections.abc import Iterator

from ledger.domain import limits, validate
from ledger.domain.errors import ReportTooLarge, ValidationError
from ledger.domain.model import Account, Entry
from ledger.domain.money import Currency, builtin_currencies
from ledger.domain.results import BalanceSheet, Reconciliation, TrialBalance
from ledger.reporting.reconciliation import Journal, reconciliation
from ledger.reporting.statements import balance_sheet, trial_balance
from ledger.service.base import LedgerBase
from ledger.store import R
from ledger.store.listings import AccountsOf, EntriesOf, Listing


class Reports(LedgerBase):
    """Whole-ledger reads, each walking the ledger's listings page by page, within bounds.

    They are exact for a ledger at rest. A write that lands while one runs may be seen in
    an account but not yet in the journal (or the other way round, as the listing indexes
    are eventually consistent): a reconciliation mismatch that a second run no longer
    reports was such a write, one that persists is real.
    """

    def trial_balance(self, ledger_id: str, currency: str) -> TrialBalance:
        """Every account of the ledger in `currency`, `world` included, with its posted
        balance in the debit or the credit column, and the columns' sums."""
        resolved = self._report_currency(ledger_id, currency)
        accounts = self._accounts_of(ledger_id)
        return trial_balance(ledger_id, resolved, accounts, self._clock())

    def balance_sheet(self, ledger_id: str, currency: str) -> BalanceSheet:
        """The ledger's accounts in `currency` as chart-of-accounts trees per type, with
        rolled-up totals, and assets against liabilities plus equity (net income included)."""
        resolved = self._report_currency(ledger_id, currency)
        accounts = self._accounts_of(ledger_id)
        return balance_sheet(ledger_id, resolved, accounts, self._clock())

    def reconcile(self, ledger_id: str) -> Reconciliation:
        """Check every account item of the ledger against its journal, and conservation
        per currency over the account items (DESIGN §8). Reports, never corrects.

        The journal is walked first, then the accounts. Comparing each account with its
        latest history record is not part of this check yet: the history projection is
        written by the stream consumers.
        """
        self.get_ledger(ledger_id)
        journal = Journal()
        for entry in self._walk(
            EntriesOf(ledger_id), Entry, limits.reconcile_entries_max, "entries"
        ):
            journal.add(entry)
        accounts = self._accounts_of(ledger_id)
        return reconciliation(ledger_id, accounts, journal, self._clock())

    def _report_currency(self, ledger_id: str, code: object) -> Currency:
        """The currency a report is asked for: built in, or registered by the ledger."""
        ledger = self.get_ledger(ledger_id)
        checked = validate.text("currency", code, limits.currency_code_length_max)
        if checked in builtin_currencies:
            return builtin_currencies[checked]
        scale = ledger.currencies.get(checked)
        if scale is None:
            raise ValidationError("currency", f"currency {checked!r} is not known to this ledger")
        return Currency(checked, scale)

    def _accounts_of(self, ledger_id: str) -> list[Account]:
        return list(
            self._walk(AccountsOf(ledger_id), Account, limits.report_accounts_max, "accounts")
        )

    def _walk(self, listing: Listing, kind: type[R], count_max: int, noun: str) -> Iterator[R]:
        """Every record of a listing, a page at a time; a listing longer than `count_max`
        is refused rather than read on, because the work would grow without bound."""
        too_large = ReportTooLarge(
            f"the ledger has more than {count_max} {noun}, more than a report reads",
            {"limit": count_max},
        )
        count = 0
        cursor: str | None = None
        # An unfiltered listing fills every page but its last, so these pages hold more
        # than `count_max` records if the listing goes on.
        for _ in range(-(-count_max // limits.report_page_size) + 1):
            page = self._store.page(listing, limits.report_page_size, cursor, kind)
            count += len(page.items)
            if count > count_max:
                raise too_large
            yield from page.items
            cursor = page.next_cursor
            if cursor is None:
                return
        raise too_large
