"""A plain model of account history: every balance change with the time it was recorded
and the time it takes effect, and what balances and statements of the past follow from them.

It knows the ledger's rules and nothing of how the ledger stores history: a new entry moves
each of its accounts when it is created, effective when the entry says (posted, or pending
with the first line of a hold or escrow reserving its amount); a posting takes the pending
amounts out and puts the posted amounts in, effective when it is posted; a void or an
expiry takes the pending amounts out, effective when it happens; a status change moves
nothing."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from ledger.domain.model import Entry, EntryKind, Side, Totals

reserving = (EntryKind.HOLD, EntryKind.ESCROW)


@dataclass(frozen=True)
class Shown:
    """What a statement line shows of the change that made it."""

    entry_id: str
    kind: str
    side: Side
    amount: int


@dataclass(frozen=True)
class Change:
    """One change of one account."""

    recorded: datetime
    effective: datetime
    totals: Totals
    shown: Shown | None


@dataclass(frozen=True)
class ModelLine:
    """A statement line as the model sees it, with the account's totals after it."""

    change: Change
    after: Totals


def moved(side: Side, *, posted: int = 0, pending: int = 0, reserved: int = 0, kind: str) -> Totals:
    """Totals that move one side by these amounts, reserving for a hold or an escrow."""
    debit = side is Side.DEBIT
    return Totals(
        posted_debits=posted if debit else 0,
        posted_credits=0 if debit else posted,
        pending_debits=pending if debit else 0,
        pending_credits=0 if debit else pending,
        held=reserved if kind == EntryKind.HOLD else 0,
        escrowed=reserved if kind == EntryKind.ESCROW else 0,
    )


class HistoryModel:
    """Every change of every account, and the balances and statements they make."""

    def __init__(self) -> None:
        self.changes: dict[str, list[Change]] = defaultdict(list)

    def _add(self, account_id: str, change: Change) -> None:
        self.changes[account_id].append(change)

    def created(self, entry: Entry, recorded: datetime, effective: datetime) -> None:
        """A new entry, posted or pending."""
        pending = entry.was_pending
        for index, line in enumerate(entry.lines):
            reserved = line.amount if index == 0 and entry.kind in reserving else 0
            totals = moved(
                line.side,
                posted=0 if pending else line.amount,
                pending=line.amount if pending else 0,
                reserved=reserved,
                kind=entry.kind,
            )
            shown = Shown(entry.id, entry.kind, line.side, line.amount)
            self._add(line.account_id, Change(recorded, effective, totals, shown))

    def posted(self, pending: Entry, posting: Entry, recorded: datetime) -> None:
        """A pending entry posted, in full or in part, by `posting`."""
        for index, (held, posted) in enumerate(zip(pending.lines, posting.lines, strict=True)):
            reserved = -held.amount if index == 0 and pending.kind in reserving else 0
            totals = moved(
                held.side,
                posted=posted.amount,
                pending=-held.amount,
                reserved=reserved,
                kind=pending.kind,
            )
            shown = Shown(posting.id, EntryKind.POST, posted.side, posted.amount)
            self._add(held.account_id, Change(recorded, recorded, totals, shown))

    def released(self, pending: Entry, kind: str, recorded: datetime) -> None:
        """A pending entry voided or expired (`kind`)."""
        for index, line in enumerate(pending.lines):
            reserved = -line.amount if index == 0 and pending.kind in reserving else 0
            totals = moved(line.side, pending=-line.amount, reserved=reserved, kind=pending.kind)
            shown = Shown(pending.id, kind, line.side, line.amount)
            self._add(line.account_id, Change(recorded, recorded, totals, shown))

    def status(self, account_id: str, recorded: datetime) -> None:
        """A status change: a version that moves nothing and shows no line."""
        self._add(account_id, Change(recorded, recorded, Totals(), None))

    def times(self) -> list[datetime]:
        """Every recorded and effective time of every change, oldest first."""
        found = {
            moment
            for changes in self.changes.values()
            for change in changes
            for moment in (change.recorded, change.effective)
        }
        return sorted(found)

    def totals(
        self, account_id: str, *, at: datetime | None = None, effective_at: datetime | None = None
    ) -> Totals:
        """The account's totals of the changes recorded at or before `at` and effective at or
        before `effective_at` (either unbounded when None)."""
        return sum(
            (
                change.totals
                for change in self.changes[account_id]
                if (at is None or change.recorded <= at)
                and (effective_at is None or change.effective <= effective_at)
            ),
            Totals(),
        )

    def statement(
        self, account_id: str, basis: str, start: datetime | None, end: datetime
    ) -> tuple[Totals, list[ModelLine], Totals]:
        """Opening totals (changes before `start` on `basis`), the lines from `start`
        (inclusive) to `end` (exclusive) in order, and the closing totals (before `end`).
        Ties on the basis fall in recorded order."""

        def moment(change: Change) -> datetime:
            return change.recorded if basis == "recorded" else change.effective

        ordered = sorted(self.changes[account_id], key=lambda c: (moment(c), c.recorded))
        opening = sum(
            (c.totals for c in ordered if start is not None and moment(c) < start), Totals()
        )
        running = opening
        lines: list[ModelLine] = []
        for change in ordered:
            if (start is None or start <= moment(change)) and moment(change) < end:
                running = running + change.totals
                if change.shown is not None:
                    lines.append(ModelLine(change, running))
        closing = sum((c.totals for c in ordered if moment(c) < end), Totals())
        return opening, lines, closing
