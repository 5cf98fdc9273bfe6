"""Projections rebuilt from the journal: the history and effective-time aggregates of a
ledger's or one account's balance items, for a consumer that was down past the stream's
retention (ADR 0026). The audit chain is never rebuilt: a gap in it stays reported."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ledger.domain.errors import HistoryNotKept, NotFound
from ledger.domain.ids import parse_account_id
from ledger.domain.model import Account, Entry
from ledger.planning.audit import item_shard
from ledger.planning.rebuild import RebuildRefused, rebuilt_history
from ledger.planning.steps import Target
from ledger.service.reports import Progress, Reports, untold
from ledger.store.rebuild import RebuildsHistory


@dataclass(frozen=True)
class Refusal:
    """A balance item whose history was left as it was, and why."""

    account_id: str
    shard: int
    reason: str


@dataclass(frozen=True)
class RebuildReport:
    """What a rebuild did: items rebuilt, records written, items refused."""

    ledger_id: str
    accounts: int
    items_rebuilt: int
    records_written: int
    refused: tuple[Refusal, ...]


class Rebuilds(Reports):
    """Rebuilds of what the history consumer writes, from what the journal holds."""

    def rebuild_projections(
        self,
        *,
        ledger_id: str | None = None,
        account_id: str | None = None,
        progress: Progress | None = None,
    ) -> RebuildReport:
        """Replace the history and effective-time aggregates of every balance item of the
        ledger, or of one account, with what its journal says (records marked `rebuilt`).
        An item the journal does not explain is refused and left alone (`refused`); the
        audit chain is not touched. `progress` hears `entries` after each page of the
        journal, then `accounts` after each account rebuilt, out of the accounts."""
        store = self._store
        if not isinstance(store, RebuildsHistory):
            raise HistoryNotKept("this store keeps no history to rebuild")
        told = progress or untold
        book, accounts = self._rebuilt_accounts(ledger_id, account_id)
        entries = {entry.id: entry for entry in self._journal_of(book, told)}
        told("entries", len(entries), len(entries))
        touching: dict[str, list[Entry]] = defaultdict(list)
        for entry in entries.values():
            for touched in dict.fromkeys(line.account_id for line in entry.lines):
                touching[touched].append(entry)
        items = records = 0
        refused: list[Refusal] = []
        told("accounts", 0, len(accounts))
        for done, account in enumerate(accounts, start=1):
            for item in store.items(account.id, account.shards):
                shard = item_shard(item)
                try:
                    rebuilt = rebuilt_history(item, touching[account.id], entries)
                except RebuildRefused as refusal:
                    refused.append(Refusal(account.id, shard, str(refusal)))
                    continue
                records += store.replace_history(account.id, shard, rebuilt)
                items += 1
            told("accounts", done, len(accounts))
        return RebuildReport(book, len(accounts), items, records, tuple(refused))

    def _rebuilt_accounts(
        self, ledger_id: str | None, account_id: str | None
    ) -> tuple[str, list[Account]]:
        """The ledger and the accounts a rebuild names: one account, or all of a ledger's."""
        if account_id is not None and ledger_id is None:
            parse_account_id(account_id)
            account = self._store.get(Target("account", account_id), Account)
            if account is None:
                raise NotFound("account", account_id)
            return account.ledger_id, [account]
        if ledger_id is not None and account_id is None:
            self.get_ledger(ledger_id)
            return ledger_id, self._accounts_of(ledger_id)
        raise ValueError("name exactly one of ledger_id and account_id")
