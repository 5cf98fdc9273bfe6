"""What every part of the facade shares: the store, the clock, writing and replays."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import TypeVar

from ledger.domain import limits, validate
from ledger.domain.errors import (
    IdempotencyKeyReused,
    LedgerError,
    NotFound,
)
from ledger.domain.ids import (
    entry_ledger_id,
    ledger_token,
    new_entry_id,
)
from ledger.domain.inputs import Amount
from ledger.domain.model import (
    Account,
    Entry,
    EntryKind,
    LedgerRecord,
)
from ledger.planning.commands import (
    EntryOptions,
    LineDraft,
    PendingTerms,
    entry_command,
    two_line_drafts,
)
from ledger.planning.entries import plan_entry
from ledger.planning.invariants import checked
from ledger.planning.steps import Duplicate, Target, WritePlan
from ledger.store import Store
from ledger.store.listings import ExpiredPending

R = TypeVar("R", LedgerRecord, Account, Entry)


def utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


class LedgerBase:
    """The store, the clock, and the write path every mutation takes."""

    def __init__(self, store: Store, clock: Callable[[], datetime] = utc_now) -> None:
        self._store = store
        self._clock = clock

    def get_ledger(self, ledger_id: str) -> LedgerRecord:
        """A ledger by id."""
        ledger_token(ledger_id)
        record = self._store.get(Target("ledger", ledger_id), LedgerRecord)
        if record is None:
            raise NotFound("ledger", ledger_id)
        return record

    def get_entry(self, entry_id: str) -> Entry:
        """An entry by id."""
        entry_ledger_id(entry_id)
        entry = self._store.get(Target("entry", entry_id), Entry)
        if entry is None:
            raise NotFound("entry", entry_id)
        return entry

    def _pending_expiring_by(self, moment: datetime) -> Iterator[Entry]:
        """Every pending entry whose expiry is at or before `moment`, from the expiry index,
        shard by shard in bounded pages; each page is read once the last is handled."""
        for shard in range(limits.expiry_shards):
            cursor: str | None = None
            for _ in range(limits.expiry_sweep_pages_max):
                page = self._store.page(
                    ExpiredPending(shard, moment), limits.expiry_sweep_page_size, cursor, Entry
                )
                yield from page.items
                cursor = page.next_cursor
                if cursor is None:
                    break

    def _preset(
        self,
        kind: EntryKind,
        account_id: str,
        counterparty_id: str | None,
        amount: Amount,
        options: EntryOptions,
        *,
        inflow: bool,
        pending: PendingTerms | None = None,
    ) -> Entry:
        """A two-line entry: the account gains (inflow) or gives (outflow) on its own side."""
        lines = two_line_drafts(account_id, counterparty_id, amount, inflow=inflow)
        return self._post(lines[0].account.ledger_id, kind, lines, options, pending)

    def _post(
        self,
        ledger_id: str,
        kind: EntryKind,
        lines: Sequence[LineDraft],
        options: EntryOptions,
        pending: PendingTerms | None = None,
    ) -> Entry:
        key = validate.idempotency_key(options.get("idempotency_key"))
        entry_id = new_entry_id(ledger_id, key)
        command = entry_command(entry_id, ledger_id, kind, lines, options, pending=pending)
        entry, plan = plan_entry(command, self._clock())
        return self._write(entry, plan, key)

    def _write(
        self,
        record: R,
        plan: WritePlan,
        idempotency_key: str | None,
        refusal: LedgerError | None = None,
    ) -> R:
        """Execute the plan; if its record exists already, replay it or refuse the reused key
        (or raise `refusal`, for records whose id derives from another entry)."""
        try:
            self._store.execute(plan)
        except Duplicate as duplicate:
            existing = checked(duplicate.existing)
            if type(existing) is not type(record) or existing.request_hash != record.request_hash:
                raise refusal or IdempotencyKeyReused(
                    "this idempotency key was already used for a different request"
                ) from None
            # Without a key the id was random: only this call's own retry can have written it.
            return replace(existing, replayed=idempotency_key is not None)
        return record
