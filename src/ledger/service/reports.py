"""Reports and integrity: trial balance, balance sheet and reconciliation of a ledger."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from ledger.domain import events, limits, validate
from ledger.domain.errors import ReportTooLarge, ValidationError
from ledger.domain.events import OutboxEvent
from ledger.domain.model import Account, AccountShard, Entry
from ledger.domain.money import Currency, builtin_currencies
from ledger.domain.results import BalanceSheet, Mismatch, Reconciliation, TrialBalance
from ledger.domain.timestamps import timestamp
from ledger.domain.views import reconciliation_view
from ledger.planning.audit import amounts_of, item_account_id, item_shard
from ledger.reporting.reconciliation import (
    Journal,
    audit_mismatches,
    history_mismatches,
    reconciliation,
)
from ledger.reporting.statements import balance_sheet, trial_balance
from ledger.service.base import LedgerBase
from ledger.store import R
from ledger.store.audit import AuditReader, KeepsAudit
from ledger.store.history import HistoryQuery
from ledger.store.listings import AccountsOf, EntriesOf, Listing
from ledger.store.outbox import KeepsOutbox

Progress = Callable[[str, int, int | None], None]
"""How far a long read has come: the phase, the count done, the total once known."""


def untold(phase: str, done: int, total: int | None) -> None:
    """Progress nobody asked to hear."""


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

    def reconcile(self, ledger_id: str, progress: Progress | None = None) -> Reconciliation:
        """Check every account item of the ledger against its journal, conservation per
        currency over the account items (DESIGN §8), and every balance item (own item and
        shards) against its history and its audit chain head. Reports, never corrects.

        The journal is walked first, then the accounts, then the projections: one strongly
        consistent read of each account's items, then per item one read of its latest
        history record, its history versions (at most
        `limits.reconcile_history_versions_max`, else ReportTooLarge) and one read of its
        audit chain head. A store that keeps no audit
        chain is not checked against one, nor one whose history nobody writes (its
        `projections`); `checks` names what was checked.

        `progress`, if given, hears how far each phase has come: `entries` and `accounts`
        after each page read (their total None until the phase ends, then the count), and
        `projections` after each account's items, out of the accounts.
        """
        told = progress or untold
        self.get_ledger(ledger_id)
        journal = Journal()
        for entry in self._journal_of(ledger_id, told):
            journal.add(entry)
        told("entries", journal.entries, journal.entries)
        accounts = self._accounts_of(ledger_id, lambda done: told("accounts", done, None))
        told("accounts", len(accounts), len(accounts))
        store = self._store
        kept = store.projections
        reader = store.audit if "audit" in kept and isinstance(store, KeepsAudit) else None
        checks = ("journal", *(name for name in ("history", "audit") if name in kept))
        projections: list[Mismatch] = []
        if "history" in kept:
            told("projections", 0, len(accounts))
            for done, account in enumerate(accounts, start=1):
                for item in store.items(account.id, account.shards):
                    projections += self._item_projections(item, reader)
                told("projections", done, len(accounts))
        result = reconciliation(
            ledger_id, accounts, journal, self._clock(), projections=projections, checks=checks
        )
        if isinstance(store, KeepsOutbox):
            store.put_outbox(reconciliation_events(result))
        return result

    def _item_projections(
        self, item: Account | AccountShard, reader: AuditReader | None
    ) -> list[Mismatch]:
        """One balance item against its latest history record, its history versions and
        (when the store keeps it) its audit chain head."""
        account_id, shard = item_account_id(item), item_shard(item)
        latest = self._store.history(
            account_id, shard, HistoryQuery("recorded", limit=1, descending=True)
        )
        versions_max = limits.reconcile_history_versions_max
        records = self._store.history(
            account_id, shard, HistoryQuery("recorded", limit=versions_max + 1)
        )
        if len(records) > versions_max:
            raise ReportTooLarge(
                f"the history of {account_id} shard {shard} has more than {versions_max} "
                "records, more than a reconciliation reads",
                {"limit": versions_max, "account_id": account_id, "shard": shard},
            )
        head = (latest[0].version, latest[0].totals) if latest else None
        found = history_mismatches(
            account_id,
            shard,
            (item.version, item.totals),
            head,
            [record.version for record in records],
        )
        if reader is not None:
            link = reader.head(account_id, shard)
            chain_head = None if link is None else (link.record.version, link.record.after)
            found += audit_mismatches(account_id, shard, item.version, amounts_of(item), chain_head)
        return found

    def _journal_of(self, ledger_id: str, told: Progress) -> Iterator[Entry]:
        """Every entry of the ledger, page by page, at most `limits.reconcile_entries_max`;
        `told` hears the count read after each page."""
        return self._walk(
            EntriesOf(ledger_id),
            Entry,
            limits.reconcile_entries_max,
            "entries",
            lambda done: told("entries", done, None),
        )

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

    def _accounts_of(
        self, ledger_id: str, paged: Callable[[int], None] | None = None
    ) -> list[Account]:
        return list(
            self._walk(
                AccountsOf(ledger_id), Account, limits.report_accounts_max, "accounts", paged
            )
        )

    def _walk(
        self,
        listing: Listing,
        kind: type[R],
        count_max: int,
        noun: str,
        paged: Callable[[int], None] | None = None,
    ) -> Iterator[R]:
        """Every record of a listing, a page at a time; a listing longer than `count_max`
        is refused rather than read on, because the work would grow without bound.
        `paged` hears the count read so far after each page."""
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
            if paged is not None:
                paged(count)
            cursor = page.next_cursor
            if cursor is None:
                return
        raise too_large


def reconciliation_events(result: Reconciliation) -> list[OutboxEvent]:
    """What a reconciliation publishes: `completed` always, and `mismatch` when it is not
    ok, each with the reconciliation as the API answers it."""
    detail = reconciliation_view(result)
    kinds = [events.reconciliation_completed]
    if not result.ok:
        kinds.append(events.reconciliation_mismatch)
    return [
        OutboxEvent(
            event_id=events.event_id(result.ledger_id, kind, timestamp(result.as_of)),
            detail_type=kind,
            ledger_id=result.ledger_id,
            time=result.as_of,
            detail=detail,
        )
        for kind in kinds
    ]
