"""Statement matching (pure): the rows of an outside statement paired with the entries of one
account, by amount, reference and date, each row with one entry or with several. Amounts are
integer minor units signed as the account sees them (+ raises its balance)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import combinations

from ledger.domain import limits
from ledger.domain.errors import ValidationError

match_fields = frozenset({"amount", "reference", "date"})
strategies = ("one_to_one", "one_to_many")
date_tolerance_s_max = 366 * 24 * 3600
# A row settles at most this many entries by their shared reference; beyond it, no sum is tried.
# A recorded match is its row's item and one item per entry, in one transaction of at most 100.
reference_entries_max = limits.statement_match_entries_max
# The subset-sum search: the entries nearest in date that could take part (same sign, not
# larger than the row), at most `subset_scan_max` looked at, `subset_entries_max` kept, so
# at most 2**8 sums per row.
subset_entries_max = 8
subset_scan_max = 64

# An unmatched entry as the matcher holds it: sorted by date, then entry id.
Slot = tuple[datetime, str, int]


@dataclass(frozen=True)
class StatementRow:
    """One line of the outside statement."""

    id: str
    amount: int
    date: datetime
    reference: str | None = None
    description: str | None = None

    def __post_init__(self) -> None:
        if self.date.tzinfo is None:
            raise ValidationError("rows.date", f"row {self.id}: the date needs a time zone")


@dataclass(frozen=True)
class Candidate:
    """What one entry did to the account: the other side of a match."""

    entry_id: str
    amount: int
    effective_at: datetime
    reference: str | None = None


@dataclass(frozen=True)
class MatchRules:
    """Which fields must agree, how closely, and whether a row may settle several entries."""

    match_on: frozenset[str] = field(default=match_fields)
    date_tolerance_s: int = 0
    amount_tolerance: int = 0
    strategy: str = "one_to_one"

    def __post_init__(self) -> None:
        unknown = sorted(set(self.match_on) - match_fields)
        if unknown:
            raise ValidationError("rules.match_on", f"unknown fields {unknown}")
        if not self.match_on:
            raise ValidationError("rules.match_on", "name at least one field")
        if not 0 <= self.date_tolerance_s <= date_tolerance_s_max:
            raise ValidationError(
                "rules.date_tolerance_s", f"must be from 0 to {date_tolerance_s_max}"
            )
        if self.amount_tolerance < 0:
            raise ValidationError("rules.amount_tolerance", "must not be negative")
        if self.strategy not in strategies:
            raise ValidationError("rules.strategy", f"must be one of {list(strategies)}")


@dataclass(frozen=True)
class MatchResult:
    """Matches in the rows' (date, id) order; the rest of the rows and entries, unmatched."""

    matched: tuple[tuple[str, tuple[str, ...]], ...]
    unmatched_rows: tuple[str, ...]
    unmatched_entries: tuple[str, ...]
    already_matched: tuple[str, ...]


def match(
    rows: Iterable[StatementRow],
    candidates: Iterable[Candidate],
    rules: MatchRules,
    already_matched_rows: Collection[str] = frozenset(),
    already_matched_entries: Collection[str] = frozenset(),
) -> MatchResult:
    """Pair rows with entries by `rules`; the same inputs in any order give the same result."""
    ordered = sorted(rows, key=lambda row: (row.date, row.id))
    if len({row.id for row in ordered}) != len(ordered):
        raise ValidationError("rows", "row ids must be unique")
    pool = _Pool([c for c in candidates if c.entry_id not in already_matched_entries], rules)
    matched: list[tuple[str, tuple[str, ...]]] = []
    unmatched_rows: list[str] = []
    skipped: list[str] = []
    for row in ordered:
        if row.id in already_matched_rows:
            skipped.append(row.id)
            continue
        slots = pool.settle(row)
        if slots:
            matched.append((row.id, tuple(slot[1] for slot in sorted(slots))))
        else:
            unmatched_rows.append(row.id)
    return MatchResult(
        matched=tuple(matched),
        unmatched_rows=tuple(unmatched_rows),
        unmatched_entries=pool.unmatched(),
        already_matched=tuple(skipped),
    )


class _Group:
    """The unmatched entries sharing a reference (or all of them): by date, and by amount."""

    def __init__(self) -> None:
        self.by_date: list[Slot] = []
        self.buckets: dict[int, list[Slot]] = {}
        self.amounts: list[int] = []


class _Pool:
    """The entries not matched yet, indexed so a row looks only at its plausible partners."""

    def __init__(self, candidates: list[Candidate], rules: MatchRules) -> None:
        if len({c.entry_id for c in candidates}) != len(candidates):
            raise ValueError("candidate entry ids must be unique")
        self.rules = rules
        self.on_amount = "amount" in rules.match_on
        self.on_reference = "reference" in rules.match_on
        self.on_date = "date" in rules.match_on
        self.date_tolerance = timedelta(seconds=rules.date_tolerance_s)
        self.groups: dict[str | None, _Group] = {}
        self.ungrouped: list[Slot] = []
        for candidate in candidates:
            slot = (candidate.effective_at, candidate.entry_id, candidate.amount)
            if self.on_reference and candidate.reference is None:
                self.ungrouped.append(slot)
                continue
            key = candidate.reference if self.on_reference else None
            group = self.groups.setdefault(key, _Group())
            group.by_date.append(slot)
            group.buckets.setdefault(self._bucket_key(candidate.amount), []).append(slot)
        for group in self.groups.values():
            group.by_date.sort()
            for bucket in group.buckets.values():
                bucket.sort()
            group.amounts = sorted(group.buckets)

    def _bucket_key(self, amount: int) -> int:
        # Without the amount rule every entry of a group is in one bucket.
        return amount if self.on_amount else 0

    def settle(self, row: StatementRow) -> list[Slot]:
        """The entries `row` settles (taken from the pool), or none."""
        group = self.groups.get(row.reference if self.on_reference else None)
        if group is None:
            return []
        found: list[Slot] = []
        if self.rules.strategy == "one_to_many":
            found = self._reference_sum(group, row)
        if not found:
            nearest = self._nearest(group, row)
            found = [nearest] if nearest else []
        if not found and self.rules.strategy == "one_to_many":
            found = self._subset_sum(group, row)
        for slot in found:
            self._take(group, slot)
        return found

    def unmatched(self) -> tuple[str, ...]:
        """The entries left, in (date, id) order."""
        left = list(self.ungrouped)
        for group in self.groups.values():
            left.extend(group.by_date)
        return tuple(slot[1] for slot in sorted(left))

    def _in_window(self, slot: Slot, row: StatementRow) -> bool:
        return not self.on_date or abs(slot[0] - row.date) <= self.date_tolerance

    def _sums_to(self, slots: Iterable[Slot], row: StatementRow) -> bool:
        return abs(sum(slot[2] for slot in slots) - row.amount) <= self.rules.amount_tolerance

    def _nearest(self, group: _Group, row: StatementRow) -> Slot | None:
        """The one entry for `row`: closest in date, then in amount, then by entry id."""
        keys: list[int] = group.amounts
        if self.on_amount:
            tolerance = self.rules.amount_tolerance
            low = bisect_left(group.amounts, row.amount - tolerance)
            high = bisect_left(group.amounts, row.amount + tolerance + 1)
            keys = group.amounts[low:high]
        best: tuple[timedelta, int, str] | None = None
        chosen: Slot | None = None
        for key in keys:
            for slot in _closest(group.buckets[key], row.date):
                rank = (abs(slot[0] - row.date), abs(slot[2] - row.amount), slot[1])
                if self._in_window(slot, row) and (best is None or rank < best):
                    best, chosen = rank, slot
        return chosen

    def _window(self, group: _Group, row: StatementRow) -> list[Slot]:
        if not self.on_date:
            return group.by_date
        low = bisect_left(group.by_date, (row.date - self.date_tolerance, "", 0))
        # The first slot strictly after the window: a microsecond is a datetime's resolution.
        after = row.date + self.date_tolerance + timedelta(microseconds=1)
        high = bisect_left(group.by_date, (after, "", 0))
        return group.by_date[low:high]

    def _reference_sum(self, group: _Group, row: StatementRow) -> list[Slot]:
        """Every entry of the row's reference in its date window, when they add up to it."""
        if not self.on_reference:
            return []
        slots = self._window(group, row)
        if len(slots) > reference_entries_max or not self._sums_to(slots, row):
            return []
        return list(slots)

    def _subset_sum(self, group: _Group, row: StatementRow) -> list[Slot]:
        """The smallest set (2 or more) of the entries nearest in date that adds up to the row."""
        if row.amount == 0:
            return []
        pool = _nearest_by_date(group.by_date, row.date, subset_scan_max)
        limit = abs(row.amount) + self.rules.amount_tolerance
        fitting = [
            slot
            for slot in pool
            if self._in_window(slot, row)
            and (slot[2] > 0) == (row.amount > 0)
            and slot[2] != 0
            and abs(slot[2]) <= limit
        ][:subset_entries_max]
        fitting.sort()
        for size in range(2, len(fitting) + 1):
            for subset in combinations(fitting, size):
                if self._sums_to(subset, row):
                    return list(subset)
        return []

    def _take(self, group: _Group, slot: Slot) -> None:
        del group.by_date[bisect_left(group.by_date, slot)]
        key = self._bucket_key(slot[2])
        bucket = group.buckets[key]
        del bucket[bisect_left(bucket, slot)]
        if not bucket:
            del group.buckets[key]
            del group.amounts[bisect_left(group.amounts, key)]


def _closest(bucket: list[Slot], when: datetime) -> list[Slot]:
    """The slots of the nearest date before `when` and of the nearest on or after it."""
    position = bisect_left(bucket, (when, "", 0))
    out: list[Slot] = []
    index = position - 1
    while index >= 0 and bucket[index][0] == bucket[position - 1][0]:
        out.append(bucket[index])
        index -= 1
    index = position
    while index < len(bucket) and bucket[index][0] == bucket[position][0]:
        out.append(bucket[index])
        index += 1
    return out


def _nearest_by_date(by_date: list[Slot], when: datetime, count: int) -> list[Slot]:
    """Up to `count` slots nearest `when`, nearest first (earlier first on a tie)."""
    after = bisect_left(by_date, (when, "", 0))
    before = after - 1
    out: list[Slot] = []
    while len(out) < count and (before >= 0 or after < len(by_date)):
        take_before = after >= len(by_date) or (
            before >= 0 and when - by_date[before][0] <= by_date[after][0] - when
        )
        if take_before:
            out.append(by_date[before])
            before -= 1
        else:
            out.append(by_date[after])
            after += 1
    return out
