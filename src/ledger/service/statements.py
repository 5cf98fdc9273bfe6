"""An account's statement: its changes between two moments on one time axis, each with
the balance after it, between the opening and closing balances (API.md).

Lines are the account's history records (a sharded account's items merged by sort key,
ties in shard order); a record that no entry made (a status change) moves nothing and
shows no line. A cursor carries the position of the last record given, the running
totals after it and the statement's end (now, on the first page, when no `to` was
given), sealed under the store's cursor secret for this account, its bounds, its basis
and its caller: later pages continue the running balance without reading earlier ones,
and a cursor cannot be forged or moved to another statement."""

from __future__ import annotations

import json
from dataclasses import astuple, dataclass
from datetime import UTC, datetime, timedelta

from ledger.domain import limits, validate
from ledger.domain.errors import NotFound, ValidationError
from ledger.domain.ids import parse_account_id
from ledger.domain.model import Account, Balance, Entry, Side, Totals
from ledger.domain.results import Statement, StatementBalance, StatementLine
from ledger.domain.timestamps import timestamp
from ledger.planning.commands import listing_caller, page_size
from ledger.planning.history import HistoryRecord
from ledger.planning.steps import Target
from ledger.reporting.history import summed
from ledger.service.history import Mark, effective_totals, items_of, merged, require_history
from ledger.service.reports import Reports
from ledger.store import Store
from ledger.store.cursors import foreign_cursor
from ledger.store.history import (
    Basis,
    HistoryQuery,
    bases,
    before,
    from_moment,
    lowest,
    sort_key,
)

_instant = timedelta(microseconds=1)
_first_instant = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True)
class _Position:
    """Where a page ends: the last record's sort key and shard, the totals after it, and
    the statement's end."""

    key: str
    shard: int
    running: Totals
    end: datetime


class Statements(Reports):
    """Statements of accounts, read from their history."""

    def statement(
        self,
        account_id: str,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        basis: str = "recorded",
        limit: int = limits.page_size_default,
        cursor: str | None = None,
        caller: str | None = None,
    ) -> Statement:
        """A page of the account's statement on `basis` ("recorded": by `created_at`,
        "effective": by `effective_at`), from `start` (inclusive) to `end` (exclusive, or
        now), oldest first; `cursor` is good only for this statement and caller."""
        chosen = _basis(basis)
        start = validate.moment("from", start)
        end = validate.moment("to", end)
        if start is not None and end is not None and end <= start:
            raise ValidationError("to", "to must be after from")
        size = page_size(limit)
        parse_account_id(account_id)
        account = self._store.get(Target("account", account_id), Account)
        if account is None:
            raise NotFound("account", account_id)
        require_history(self._store)
        binding = _binding(account.id, chosen, start, end, listing_caller(caller))
        opening = _balance_before(self._store, account.id, chosen, start)
        if cursor is None:
            until = self._clock() if end is None else end
            position = None
            running = opening
        else:
            position = _opened(self._store.unseal(binding, cursor))
            until, running = position.end, position.running
        first = lowest if start is None else from_moment(start)
        query = HistoryQuery(chosen, limit=size + 1, low=first, high=before(until))
        # Past the position: from the next shard's place at its sort key.
        mark = None if position is None else Mark(position.key, position.shard + 1)
        records = merged(self._store, account.id, query, mark)
        page = records[:size]
        entries = self._store.entries(
            [entry_id for _, record in page for entry_id in record.entry_ids]
        )
        lines: list[StatementLine] = []
        for _, record in page:
            running = running + record.deltas
            if record.entry_ids:
                lines.append(_line(account, record, entries, _shown(account, running)))
        next_cursor = None
        if len(records) > size:
            shard, record = page[-1]
            last = _Position(sort_key(record, chosen), shard, running, until)
            next_cursor = self._store.seal(binding, _payload(last))
        closing = _balance_before(self._store, account.id, chosen, until)
        return Statement(
            account_id=account.id,
            opening=_shown(account, opening),
            closing=_shown(account, closing),
            lines=lines,
            next_cursor=next_cursor,
        )


def _basis(text: str) -> Basis:
    for each in bases:
        if text == each:
            return each
    raise ValidationError("basis", "basis must be recorded or effective")


def _binding(
    account_id: str, basis: Basis, start: datetime | None, end: datetime | None, caller: str | None
) -> bytes:
    bounds = ["" if moment is None else timestamp(moment) for moment in (start, end)]
    return json.dumps(["statement", account_id, basis, *bounds, caller]).encode()


def _payload(position: _Position) -> bytes:
    fields = [position.key, position.shard, list(astuple(position.running))]
    return json.dumps([*fields, timestamp(position.end)], separators=(",", ":")).encode()


def _opened(payload: bytes) -> _Position:
    """The position a sealed cursor holds; the seal vouches for what this module wrote."""
    try:
        key, shard, running, end = json.loads(payload)
        return _Position(key, int(shard), Totals(*running), datetime.fromisoformat(end))
    except (ValueError, TypeError) as error:
        raise foreign_cursor() from error


def _balance_before(store: Store, account_id: str, basis: Basis, moment: datetime | None) -> Totals:
    """The account's totals counting every change strictly before `moment` on `basis`
    (nothing is before the first instant there is)."""
    if moment is None or moment == _first_instant:
        return Totals()
    totals: list[Totals] = []
    for shard in items_of(account_id):
        if basis == "effective":
            totals.append(effective_totals(store, account_id, shard, moment - _instant))
            continue
        query = HistoryQuery("recorded", limit=1, high=before(moment), descending=True)
        found = store.history(account_id, shard, query)
        totals.append(found[0].totals if found else Totals())
    return summed(totals)


def _line(
    account: Account, record: HistoryRecord, entries: dict[str, Entry], after_it: StatementBalance
) -> StatementLine:
    """A record's line: the net of its entries' lines on the account, the last entry's
    words."""
    moved = [entries[entry_id] for entry_id in record.entry_ids if entry_id in entries]
    net = sum(
        line.amount if line.side is Side.DEBIT else -line.amount
        for entry in moved
        for line in entry.lines
        if line.account_id == account.id
    )
    last = moved[-1] if moved else None
    return StatementLine(
        entry_id=record.entry_ids[-1],
        version=record.version,
        kind=record.kind,
        side=Side.DEBIT if net >= 0 else Side.CREDIT,
        amount=abs(net),
        description=None if last is None else last.description,
        reference=None if last is None else last.reference,
        effective_at=record.effective_at,
        created_at=record.created_at,
        balance_after=after_it,
    )


def _shown(account: Account, totals: Totals) -> StatementBalance:
    balance = Balance.of_totals(
        account.id,
        currency=account.currency,
        normal_balance=account.normal_balance,
        totals=totals,
        credit_limit=account.overdraft.credit_limit,
        version=account.version,
        as_of=account.updated_at,
    )
    return StatementBalance(balance.posted, balance.available)
