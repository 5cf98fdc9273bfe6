"""Statement matching: rows of an outside statement paired with an account's entries."""

from __future__ import annotations

import random
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledger.domain.errors import ValidationError
from ledger.reporting.matching import (
    Candidate,
    MatchResult,
    MatchRules,
    StatementRow,
    match,
)

day = timedelta(days=1)
start = datetime(2026, 11, 2, 9, tzinfo=UTC)
exact = MatchRules()
loose = MatchRules(match_on=frozenset({"amount", "date"}), date_tolerance_s=2 * 86_400)


def uid(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


def row(amount: int, date: datetime = start, reference: str | None = "inv-1") -> StatementRow:
    return StatementRow(uid("row"), amount, date, reference, "card payout")


def entry(amount: int, at: datetime = start, reference: str | None = "inv-1") -> Candidate:
    return Candidate(uid("entry"), amount, at, reference)


def test_a_row_matches_the_entry_of_the_same_amount_reference_and_date() -> None:
    # GIVEN a row and an entry that agree on everything, and an entry that agrees on nothing
    paid, other = entry(1500), entry(-70, start + day, "inv-2")
    line = row(1500)
    # WHEN they are matched by the default rules
    result = match([line], [other, paid], exact)
    # THEN the row settles that entry and the other one is left
    assert result == MatchResult(((line.id, (paid.entry_id,)),), (), (other.entry_id,), ())


def test_a_date_tolerance_admits_a_nearby_entry_and_prefers_the_closest() -> None:
    # GIVEN two entries of the row's amount, one and two days after it, and one four days on
    near, far, out = (entry(900, start + days * day) for days in (1, 2, 4))
    line = row(900)
    # WHEN matched with no tolerance THEN nothing fits
    assert match([line], [near, far, out], exact).matched == ()
    # WHEN matched with two days of tolerance THEN the closest entry is chosen
    rules = MatchRules(date_tolerance_s=2 * 86_400)
    result = match([line], [far, out, near], rules)
    assert result.matched == ((line.id, (near.entry_id,)),)
    assert result.unmatched_entries == (far.entry_id, out.entry_id)
    # AND the window's edge is inclusive to the second
    edge, beyond = entry(900, start - day), entry(900, start + day + timedelta(seconds=1))
    one_day = MatchRules(date_tolerance_s=86_400)
    assert match([line], [edge], one_day).matched == ((line.id, (edge.entry_id,)),)
    assert match([line], [beyond], one_day).matched == ()


def test_an_amount_tolerance_admits_a_small_difference_and_prefers_the_smallest() -> None:
    # GIVEN entries 3 and 1 minor units off the row's amount, and one 10 off
    off_by_three, off_by_one, off_by_ten = entry(1003), entry(999), entry(1010)
    line = row(1000)
    # WHEN matched with 5 minor units of tolerance
    rules = MatchRules(amount_tolerance=5)
    result = match([line], [off_by_three, off_by_ten, off_by_one], rules)
    # THEN the entry closest in amount is chosen
    assert result.matched == ((line.id, (off_by_one.entry_id,)),)
    assert match([line], [off_by_ten], rules).unmatched_rows == (line.id,)


def test_a_reference_must_be_present_and_equal_when_it_is_matched_on() -> None:
    # GIVEN entries of the row's amount and date with another reference and with none
    other, missing = entry(400, reference="inv-2"), entry(400, reference=None)
    line = row(400)
    # WHEN matched on the reference THEN neither fits
    result = match([line, row(400, reference=None)], [other, missing], exact)
    assert result.matched == ()
    assert set(result.unmatched_entries) == {other.entry_id, missing.entry_id}
    # WHEN the reference is not matched on THEN one of them does
    rules = MatchRules(match_on=frozenset({"amount", "date"}))
    assert len(match([line], [other, missing], rules).matched) == 1


def test_one_to_many_settles_every_entry_of_the_reference_that_adds_up() -> None:
    # GIVEN a payout row and three charges of its reference within a day, and a stray charge
    charges = [entry(300, start - day), entry(450, start), entry(250, start + day)]
    stray = entry(300, start, reference="inv-9")
    line = row(1000)
    rules = MatchRules(date_tolerance_s=86_400, strategy="one_to_many")
    # WHEN matched one to many
    result = match([line], [stray, *charges], rules)
    # THEN the row settles the three charges, in date order
    assert result.matched == ((line.id, tuple(c.entry_id for c in charges)),)
    assert result.unmatched_entries == (stray.entry_id,)
    # AND one to one, no single charge fits
    assert match([line], charges, MatchRules(date_tolerance_s=86_400)).matched == ()


def test_one_to_many_finds_a_subset_that_adds_up_without_a_reference() -> None:
    # GIVEN a row of 700 and entries of 200, 500 and 650 nearby, without references
    parts = [entry(200, start, None), entry(500, start + day, None)]
    decoy = entry(650, start, None)
    line = row(700, reference=None)
    rules = MatchRules(
        match_on=frozenset({"amount", "date"}), date_tolerance_s=86_400, strategy="one_to_many"
    )
    # WHEN matched one to many THEN the two that add up are settled
    result = match([line], [decoy, *parts], rules)
    assert result.matched == ((line.id, tuple(p.entry_id for p in parts)),)
    # AND a single entry of the amount is preferred to a sum
    single = entry(700, start + day, None)
    assert match([line], [*parts, single], rules).matched == ((line.id, (single.entry_id,)),)
    # AND when no two add up, three may
    thirds = [entry(amount, start, None) for amount in (-100, -200, -300)]
    payout = row(-600, reference=None)
    assert match([payout], thirds, rules).matched == (
        (payout.id, tuple(sorted(t.entry_id for t in thirds))),
    )


def test_one_to_many_without_the_date_rule_sums_the_whole_reference() -> None:
    # GIVEN charges of a reference weeks apart, and a row of nothing
    charges = [entry(300, start - 20 * day), entry(700, start + 20 * day)]
    line, nothing = row(1000), row(0, reference=None)
    rules = MatchRules(match_on=frozenset({"amount", "reference"}), strategy="one_to_many")
    # WHEN matched one to many on amount and reference only
    result = match([line, nothing], charges, rules)
    # THEN the row settles both charges and the empty row nothing
    assert result.matched == ((line.id, tuple(c.entry_id for c in charges)),)
    assert result.unmatched_rows == (nothing.id,)
    anything = MatchRules(match_on=frozenset({"date"}), strategy="one_to_many")
    assert match([nothing], charges, anything).unmatched_rows == (nothing.id,)


def test_rows_already_matched_are_skipped_and_entries_already_matched_are_not_offered() -> None:
    # GIVEN a row and an entry matched by an earlier run, and a fresh row of the same amount
    done, fresh = row(100), row(100)
    used, free = entry(100), entry(100)
    # WHEN matched again, naming what was matched before
    result = match([done, fresh], [used, free], exact, {done.id}, {used.entry_id})
    # THEN the old row is reported as already matched and the fresh one takes the free entry
    assert result.already_matched == (done.id,)
    assert result.matched == ((fresh.id, (free.entry_id,)),)
    assert result.unmatched_entries == ()


def test_the_result_does_not_depend_on_the_order_of_the_inputs() -> None:
    # GIVEN many rows and entries competing for the same amounts and dates
    rng = random.Random(7)
    rows = [row(rng.choice((100, 200)), start + rng.randrange(5) * day) for _ in range(40)]
    entries = [entry(rng.choice((100, 200)), start + rng.randrange(5) * day) for _ in range(40)]
    rules = MatchRules(date_tolerance_s=2 * 86_400, strategy="one_to_many")
    # WHEN matched in their order and shuffled
    first = match(rows, entries, rules)
    rng.shuffle(rows)
    rng.shuffle(entries)
    # THEN the results are equal
    assert match(rows, entries, rules) == first
    assert first.matched


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"match_on": frozenset({"amount", "memo"})}, "rules.match_on"),
        ({"match_on": frozenset()}, "rules.match_on"),
        ({"date_tolerance_s": -1}, "rules.date_tolerance_s"),
        ({"date_tolerance_s": 400 * 86_400}, "rules.date_tolerance_s"),
        ({"amount_tolerance": -1}, "rules.amount_tolerance"),
        ({"strategy": "many_to_many"}, "rules.strategy"),
    ],
)
def test_rules_outside_the_contract_are_refused_naming_the_field(
    arguments: dict[str, object], field: str
) -> None:
    # WHEN rules are made with a bad value THEN a validation error names it
    with pytest.raises(ValidationError) as refused:
        MatchRules(**arguments)  # type: ignore[arg-type]
    assert refused.value.field == field


def test_duplicate_ids_and_naive_dates_are_refused() -> None:
    # GIVEN a row twice, an entry twice, and a row without a time zone
    line, paid = row(5), entry(5)
    # THEN each is refused
    with pytest.raises(ValidationError, match="unique"):
        match([line, line], [paid], exact)
    with pytest.raises(ValueError, match="unique"):
        match([line], [paid, paid], exact)
    with pytest.raises(ValidationError) as naive:
        StatementRow(uid("row"), 5, datetime(2026, 11, 2))
    assert naive.value.field == "rows.date"


amounts = st.integers(-3, 3).map(lambda units: units * 100)
offsets_h = st.integers(0, 48)
references = st.sampled_from([None, "a"])
rule_sets = st.builds(
    MatchRules,
    match_on=st.frozensets(st.sampled_from(["amount", "reference", "date"]), min_size=1),
    date_tolerance_s=st.sampled_from([0, 3600, 86_400]),
    amount_tolerance=st.sampled_from([0, 50, 100]),
    strategy=st.sampled_from(["one_to_one", "one_to_many"]),
)
row_lists = st.lists(st.tuples(amounts, offsets_h, references), max_size=12).map(
    lambda drawn: [
        StatementRow(f"row-{index}", amount, start + timedelta(hours=hours), reference)
        for index, (amount, hours, reference) in enumerate(drawn)
    ]
)
entry_lists = st.lists(st.tuples(amounts, offsets_h, references), max_size=16).map(
    lambda drawn: [
        Candidate(f"entry-{index}", amount, start + timedelta(hours=hours), reference)
        for index, (amount, hours, reference) in enumerate(drawn)
    ]
)


def breaks_a_rule(line: StatementRow, settled: list[Candidate], rules: MatchRules) -> bool:
    """Whether a match of `line` with `settled` breaks one of `rules`."""
    total = sum(candidate.amount for candidate in settled)
    amount_checked = "amount" in rules.match_on or len(settled) > 1
    return (
        (amount_checked and abs(total - line.amount) > rules.amount_tolerance)
        or (rules.strategy == "one_to_one" and len(settled) != 1)
        or any(
            "reference" in rules.match_on
            and (line.reference is None or candidate.reference != line.reference)
            for candidate in settled
        )
        or any(
            "date" in rules.match_on
            and abs(candidate.effective_at - line.date) > timedelta(seconds=rules.date_tolerance_s)
            for candidate in settled
        )
    )


@settings(max_examples=50, deadline=None)
@given(rows=row_lists, entries=entry_lists, rules=rule_sets, data=st.data())
def test_matches_keep_the_rules_use_each_entry_once_and_partition_the_inputs(
    rows: list[StatementRow],
    entries: list[Candidate],
    rules: MatchRules,
    data: st.DataObject,
) -> None:
    # GIVEN some rows and entries already matched by an earlier run
    done = data.draw(st.frozensets(st.sampled_from([r.id for r in rows]))) if rows else frozenset()
    used = (
        data.draw(st.frozensets(st.sampled_from([e.entry_id for e in entries])))
        if entries
        else frozenset()
    )
    # WHEN the rest are matched
    result = match(rows, entries, rules, done, used)
    # THEN no entry is settled twice, and every match keeps the rules
    by_id = {candidate.entry_id: candidate for candidate in entries}
    settled = [entry_id for _, entry_ids in result.matched for entry_id in entry_ids]
    assert len(settled) == len(set(settled))
    assert not set(settled) & used
    rows_by_id = {line.id: line for line in rows}
    for row_id, entry_ids in result.matched:
        assert not breaks_a_rule(rows_by_id[row_id], [by_id[e] for e in entry_ids], rules)
    # AND matched, unmatched and already matched partition the rows and the entries
    row_ids = [row_id for row_id, _ in result.matched]
    assert sorted([*row_ids, *result.unmatched_rows, *result.already_matched]) == sorted(rows_by_id)
    assert set(result.already_matched) == done
    assert sorted([*settled, *result.unmatched_entries, *used]) == sorted(by_id)


@settings(max_examples=50, deadline=None)
@given(rows=row_lists, entries=entry_lists, rules=rule_sets, shuffle=st.randoms())
def test_shuffled_inputs_give_the_same_result(
    rows: list[StatementRow], entries: list[Candidate], rules: MatchRules, shuffle: random.Random
) -> None:
    # GIVEN the result for the rows and entries in one order
    first = match(rows, entries, rules)
    # WHEN they come in another order
    shuffle.shuffle(rows)
    shuffle.shuffle(entries)
    # THEN the result is the same
    assert match(rows, entries, rules) == first
