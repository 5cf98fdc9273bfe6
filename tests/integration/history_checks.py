"""What the model test compares: balances of the past on both axes at sampled times, and
statements on both bases over sampled ranges, page by page, each against the model."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

from history_model import HistoryModel, ModelLine

from ledger.domain.model import Account, Balance, Totals
from ledger.domain.results import StatementBalance, StatementLine
from ledger.service import Ledger

pages_max = 200
balance_samples = 12
pair_samples = 8
statement_ranges = 3
_instant = timedelta(microseconds=1)


def _shown(account: Account, totals: Totals) -> StatementBalance:
    balance = _balance_of(account, totals)
    return StatementBalance(balance.posted, balance.available)


def _balance_of(account: Account, totals: Totals) -> Balance:
    return Balance.of_totals(
        account.id,
        currency=account.currency,
        normal_balance=account.normal_balance,
        totals=totals,
        credit_limit=account.overdraft.credit_limit,
        version=0,
        as_of=account.updated_at,
    )


def _figures(balance: Balance) -> tuple[int, ...]:
    return (
        balance.posted,
        balance.pending_in,
        balance.pending_out,
        balance.held,
        balance.escrowed,
        balance.available,
        balance.total_in,
        balance.total_out,
    )


def sample_pool(times: list[datetime]) -> list[datetime]:
    """The times, an instant either side of each, the midpoints between them, the first
    instant of each one's day, and a day before the first and after the last."""
    pool = set(times)
    pool |= {moment + shift for moment in times for shift in (-_instant, _instant)}
    pool |= {early + (late - early) / 2 for early, late in pairwise(times)}
    pool |= {moment.replace(hour=0, minute=0, second=0, microsecond=0) for moment in times}
    pool |= {times[0] - timedelta(days=1), times[-1] + timedelta(days=1)}
    return sorted(pool)


def check_balances(
    ledger: Ledger, model: HistoryModel, account: Account, times: list[datetime], rng: random.Random
) -> None:
    """Balances at sampled times, on each axis and on both, equal the model's."""
    own = [
        moment
        for change in model.changes[account.id]
        for moment in (change.recorded, change.effective)
    ]
    samples = rng.sample(times, balance_samples) + rng.sample(own, min(len(own), 8))
    for moment in samples:
        found = ledger.get_balance(account.id, at=moment)
        wanted = _balance_of(account, model.totals(account.id, at=moment))
        assert _figures(found) == _figures(wanted), ("at", account.id, moment)
        found = ledger.get_balance(account.id, effective_at=moment)
        wanted = _balance_of(account, model.totals(account.id, effective_at=moment))
        assert _figures(found) == _figures(wanted), ("effective_at", account.id, moment)
    for known, effective in zip(
        rng.sample(times, pair_samples), rng.sample(times, pair_samples), strict=True
    ):
        found = ledger.get_balance(account.id, at=known, effective_at=effective)
        wanted = _balance_of(account, model.totals(account.id, at=known, effective_at=effective))
        assert _figures(found) == _figures(wanted), ("both", account.id, known, effective)


Shown = tuple[Any, ...]


def _as_seen(lines: list[Shown], exact: bool) -> list[Any]:
    """Lines as compared: all of them in order, or, for a sharded account (whose items tie
    on one time in an order the model does not know), per time the set of lines and the
    balance after the last."""
    if exact:
        return lines
    groups: dict[datetime, list[Shown]] = {}
    for line in lines:
        groups.setdefault(line[0], []).append(line)
    return [
        (moment, sorted(line[1:-1] for line in group), group[-1][-1])
        for moment, group in groups.items()
    ]


def check_statement(
    ledger: Ledger,
    model: HistoryModel,
    account: Account,
    *,
    basis: str,
    bounds: tuple[datetime | None, datetime | None],
    limit: int,
    now: datetime,
) -> None:
    """Every page of one statement, and together they equal the model's statement."""
    start, end = bounds
    lines: list[StatementLine] = []
    cursor: str | None = None
    for _ in range(pages_max):
        page = ledger.statement(
            account.id, start=start, end=end, basis=basis, limit=limit, cursor=cursor
        )
        assert len(page.lines) <= limit
        lines += page.lines
        cursor = page.next_cursor
        if cursor is None:
            break
    else:
        raise AssertionError("the statement never ended")
    opening, wanted, closing = model.statement(account.id, basis, start, end or now)
    context = (account.id, basis, start, end, limit)
    assert (page.opening, page.closing) == (_shown(account, opening), _shown(account, closing)), (
        context
    )

    def on_basis(created: datetime, effective: datetime) -> datetime:
        return created if basis == "recorded" else effective

    found = [
        (
            on_basis(line.created_at, line.effective_at),
            line.entry_id,
            line.kind,
            line.side,
            line.amount,
            line.created_at,
            line.effective_at,
            line.balance_after,
        )
        for line in lines
    ]
    expected = [_model_line(account, line, on_basis) for line in wanted]
    exact = account.shards == 1
    assert _as_seen(found, exact) == _as_seen(expected, exact), context


def _model_line(
    account: Account, line: ModelLine, on_basis: Callable[[datetime, datetime], datetime]
) -> Shown:
    change = line.change
    assert change.shown is not None
    shown = change.shown
    return (
        on_basis(change.recorded, change.effective),
        shown.entry_id,
        shown.kind,
        shown.side,
        shown.amount,
        change.recorded,
        change.effective,
        _shown(account, line.after),
    )


def statement_bounds(
    times: list[datetime], first: datetime, rng: random.Random
) -> list[tuple[datetime | None, datetime | None]]:
    """Whole, open at either end, before the account existed, one instant, and random."""
    moment = rng.choice(times)
    chosen: list[tuple[datetime | None, datetime | None]] = [
        (None, None),
        (None, rng.choice(times)),
        (rng.choice(times), None),
        (first - timedelta(days=2), first - timedelta(days=1)),
        (moment, moment + _instant),
    ]
    for _ in range(statement_ranges):
        low, high = sorted(rng.sample(times, 2))
        chosen.append((low, high))
    return chosen
