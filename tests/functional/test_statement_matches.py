"""Statement matching through the library on the memory store (which keeps history as it
applies plans): which entries are offered, how rows pair with them, matches recorded once
across runs, dry runs equal to real runs, and every refusal writing nothing."""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from ledger.domain import limits
from ledger.domain.errors import (
    HistoryNotKept,
    LedgerError,
    LedgerMismatch,
    MatchesNotKept,
    NotFound,
    ReportTooLarge,
    ValidationError,
)
from ledger.domain.matches import MatchRecord, MatchRefused, StatementMatchRun
from ledger.domain.model import Actor
from ledger.service import Ledger
from ledger.store import Store
from ledger.store.memory import MemoryStore

t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
day = timedelta(days=1)


class FixedClock:
    """Now is `now` until a test moves it."""

    def __init__(self) -> None:
        self.now = t0

    def __call__(self) -> datetime:
        return self.now


class Book:
    """A ledger on a memory store with one liability account (+ raises its balance)."""

    def __init__(self, store: MemoryStore | None = None) -> None:
        self.store = store or MemoryStore()
        self.clock = FixedClock()
        self.ledger = Ledger(self.store, clock=self.clock)
        self.ledger_id = self.ledger.create_ledger(
            "Matching", owner_id=f"owner-{secrets.token_hex(4)}"
        ).id
        self.account = self.ledger.create_account(self.ledger_id, "alice", "liability", "USD").id

    def deposit(self, amount: str, at: datetime, reference: str | None = None) -> str:
        return self.ledger.deposit(self.account, amount, effective_at=at, reference=reference).id

    def withdraw(self, amount: str, at: datetime, reference: str | None = None) -> str:
        return self.ledger.withdraw(self.account, amount, effective_at=at, reference=reference).id

    def run(
        self,
        rows: Sequence[dict[str, Any]],
        source: str = "bank",
        **options: Any,
    ) -> StatementMatchRun:
        return self.ledger.match_statement(self.ledger_id, self.account, source, rows, **options)

    def state(self) -> tuple[dict[Any, Any], dict[Any, Any]]:
        return dict(self.store._items), dict(self.store._matches)


@contextmanager
def nothing_written(book: Book) -> Iterator[None]:
    before = book.state()
    yield
    assert book.state() == before, "a refused request wrote something"


def row(
    row_id: str, amount: str, at: datetime, reference: str | None = None, **extra: Any
) -> dict[str, Any]:
    shown: dict[str, Any] = {"id": row_id, "amount": amount, "date": at.isoformat()}
    if reference is not None:
        shown["reference"] = reference
    return {**shown, **extra}


@pytest.fixture
def book() -> Book:
    return Book()


def test_one_to_one_pairs_each_row_with_its_entry_signed_as_the_account_sees_it(
    book: Book,
) -> None:
    # GIVEN a deposit and a withdrawal, and another deposit the statement does not show
    paid_in = book.deposit("10.00", t0, "r1")
    paid_out = book.withdraw("4.25", t0 + day, "r2")
    extra = book.deposit("1.00", t0 + day, "r3")
    # WHEN a statement shows the deposit as +10.00 and the withdrawal as -4.25
    rows = [row("s2", "-4.25", t0 + day, "r2"), row("s1", "10.00", t0, "r1")]
    run = book.run(rows, actor=Actor(key_id="key_1", role="operator"))
    # THEN each row has its entry, in date order, and the other entry is unmatched
    assert run.matched == (("s1", (paid_in,)), ("s2", (paid_out,)))
    assert (run.unmatched_external, run.unmatched_entries, run.already_matched) == (
        (),
        (extra,),
        (),
    )
    assert run.run_id.startswith("mrun_")
    assert not run.dry_run
    # AND the records name the run, the actor and the counterparts
    records = set(book.store._matches.values())
    assert {(each.row_id, each.entry_ids, each.run_id) for each in records} == {
        ("s1", (paid_in,), run.run_id),
        ("s2", (paid_out,), run.run_id),
    }
    assert {each.actor for each in records} == {Actor(key_id="key_1", role="operator")}


def test_a_wrong_sign_or_amount_or_reference_is_unmatched(book: Book) -> None:
    # GIVEN a deposit of 10.00 with reference r1
    entry = book.deposit("10.00", t0, "r1")
    # WHEN rows show it with the wrong sign, amount or reference
    rows = [
        row("sign", "-10.00", t0, "r1"),
        row("amount", "10.01", t0, "r1"),
        row("ref", "10.00", t0, "r9"),
    ]
    run = book.run(rows)
    # THEN nothing matches and nothing is recorded
    assert run.matched == ()
    assert set(run.unmatched_external) == {"sign", "amount", "ref"}
    assert run.unmatched_entries == (entry,)
    assert book.store._matches == {}


def test_one_to_many_settles_the_entries_of_one_reference(book: Book) -> None:
    # GIVEN three deposits of one payout reference within an hour
    ids = [
        book.deposit(amount, t0 + timedelta(minutes=20 * n), "payout-7")
        for n, amount in enumerate(("5.00", "7.50", "2.50"))
    ]
    # WHEN one row of 15.00 with that reference is matched one to many, an hour of tolerance
    rules = {"strategy": "one_to_many", "date_tolerance_s": 3600}
    run = book.run([row("p7", "15.00", t0 + timedelta(minutes=20), "payout-7")], rules=rules)
    # THEN the row settles all three
    assert run.matched == (("p7", tuple(ids)),)
    assert run.unmatched_entries == ()


def test_one_to_many_by_sum_without_references(book: Book) -> None:
    # GIVEN two deposits without references and one unrelated
    first = book.deposit("4.00", t0)
    second = book.deposit("6.00", t0 + timedelta(hours=2))
    other = book.deposit("50.00", t0 + timedelta(hours=1))
    # WHEN a row of 10.00 is matched on amount and date, one to many
    rules = {"strategy": "one_to_many", "match_on": ["amount", "date"], "date_tolerance_s": 86400}
    run = book.run([row("sum", "10.00", t0 + timedelta(hours=1))], rules=rules)
    # THEN the two that add up to it are its match
    assert run.matched == (("sum", (first, second)),)
    assert run.unmatched_entries == (other,)


def test_tolerances_widen_amount_and_date(book: Book) -> None:
    # GIVEN a deposit of 10.00 two hours after the statement's date
    entry = book.deposit("10.00", t0 + timedelta(hours=2))
    statement = [row("near", "10.03", t0)]
    # WHEN matched exactly, THEN it is not matched (nor even offered: out of the window)
    exact = book.run(statement, dry_run=True, rules={"match_on": ["amount", "date"]})
    assert (exact.matched, exact.unmatched_entries) == ((), ())
    # WHEN matched with 0.05 of amount and 3 hours of date tolerance
    rules = {"match_on": ["amount", "date"], "amount_tolerance": "0.05", "date_tolerance_s": 10800}
    loose = book.run(statement, rules=rules)
    # THEN it is matched
    assert loose.matched == (("near", (entry,)),)


def test_pending_voided_and_expired_are_not_offered_but_postings_and_reversals_are(
    book: Book,
) -> None:
    # GIVEN funds from the day before, a hold still pending, a hold voided, a hold expired,
    # a hold confirmed, and a reversed deposit
    book.deposit("100.00", t0 - day)
    book.ledger.hold(book.account, "3.00", effective_at=t0)
    voided = book.ledger.hold(book.account, "4.00", effective_at=t0)
    book.ledger.release_hold(voided.id)
    book.ledger.hold(book.account, "6.00", effective_at=t0, expires_in=1)
    book.clock.now = t0 + timedelta(seconds=2)
    assert book.ledger.expire_pending() == 1
    confirmed = book.ledger.hold(book.account, "5.00", effective_at=t0)
    posting_id = book.ledger.confirm_hold(confirmed.id).posting_entry_id
    deposit = book.deposit("8.00", t0)
    reversal = book.ledger.reverse_entry(deposit)
    # WHEN the window around t0 is matched with nothing that fits
    rules = {"match_on": ["amount", "date"], "date_tolerance_s": 60}
    run = book.run([row("none", "1.23", t0)], rules=rules)
    # THEN the offered entries are the hold's posting, the deposit and its reversal only
    assert set(run.unmatched_entries) == {posting_id, deposit, reversal.id}
    # AND a row of the confirmed hold (-5.00) and of the reversal (-8.00) match them
    rows = [row("held", "-5.00", t0), row("back", "-8.00", t0), row("in", "8.00", t0)]
    matched = dict(book.run(rows, rules=rules).matched)
    assert matched == {"held": (posting_id,), "back": (reversal.id,), "in": (deposit,)}


def test_only_entries_within_the_rows_dates_are_considered(book: Book) -> None:
    # GIVEN deposits two days before, on, and two days after the statement's only date
    before = book.deposit("1.00", t0 - 2 * day)
    inside = book.deposit("1.00", t0)
    after = book.deposit("1.00", t0 + 2 * day)
    # WHEN matched with a day of tolerance
    run = book.run([row("x", "9.99", t0)], dry_run=True, rules={"date_tolerance_s": 86400})
    # THEN only the one within the window is considered
    assert run.unmatched_entries == (inside,)
    assert {before, after}.isdisjoint(run.unmatched_entries)
    # AND a row at each end widens the window to them all
    wide = book.run([row("a", "9.99", t0 - 2 * day), row("b", "9.99", t0 + 2 * day)], dry_run=True)
    assert wide.unmatched_entries == (before, inside, after)


def test_matches_are_recorded_once_across_runs(book: Book) -> None:
    # GIVEN a statement matched once
    both = {book.deposit("10.00", t0, "r1"), book.deposit("10.00", t0, "r1")}
    statement = [row("s1", "10.00", t0, "r1")]
    earlier = book.run(statement)
    # WHEN the same statement is run again, and a new row with the same amount comes
    again = book.run([*statement, row("s2", "10.00", t0, "r1")])
    # THEN the row matched before is already matched, and its entry is never offered again
    assert again.already_matched == ("s1",)
    [(earlier_row, (first,))] = earlier.matched
    [(row_id, (entry_id,))] = again.matched
    assert (earlier_row, row_id, {first, entry_id}) == ("s1", "s2", both)
    # AND another source's row of the same id is its own row
    other = book.run(statement, source="processor")
    assert (other.already_matched, other.matched) == ((), ())
    assert other.unmatched_external == ("s1",)


def _random_book(seed: int) -> tuple[Book, list[dict[str, Any]], dict[str, Any]]:
    generator = random.Random(seed)
    book = Book()
    rows: list[dict[str, Any]] = []
    for index in range(30):
        at = t0 + timedelta(hours=generator.randrange(0, 72))
        amount = f"{generator.randrange(1, 6)}.00"
        reference = generator.choice(["a", "b", None])
        book.deposit(amount, at, reference)
        if generator.random() < 0.7:
            shift = timedelta(minutes=generator.randrange(-90, 90))
            rows.append(row(f"r{index}", amount, at + shift, reference))
    rows.append(row("sum", "7.00", t0 + day))
    rules = {
        "strategy": generator.choice(["one_to_one", "one_to_many"]),
        "match_on": generator.choice([["amount", "date"], ["amount", "reference", "date"]]),
        "date_tolerance_s": generator.choice([0, 3600, 7200]),
    }
    return book, rows, rules


@pytest.mark.parametrize("seed", range(8))
def test_a_dry_run_writes_nothing_and_answers_what_the_real_run_does(seed: int) -> None:
    # GIVEN a random book, statement and rules, matched once before in part
    book, rows, rules = _random_book(seed)
    book.run(rows[:5], rules=rules)
    # WHEN it is matched dry, then for real
    with nothing_written(book):
        dry = book.run(rows, rules=rules, dry_run=True)
    real = book.run(rows, rules=rules)
    # THEN both answer the same, but for the run's id and the dry run flag
    assert replace(dry, run_id=real.run_id, dry_run=False) == real
    assert dry.dry_run
    # AND no entry and no row is in two matches, across both runs
    recorded = list(book.store._matches.values())
    assert len({each.row_id for each in recorded}) == len({(r.row_id, r.run_id) for r in recorded})


class TakenFirst(MemoryStore):
    """A store on which another run records its matches between this run's reads and its
    write."""

    def __init__(self) -> None:
        super().__init__()
        self.other: list[MatchRecord] = []

    def record_matches(self, records: Sequence[MatchRecord]) -> dict[str, MatchRefused]:
        super().record_matches(self.other)
        self.other = []
        return super().record_matches(records)


def test_matches_another_run_recorded_first_are_reported_as_such() -> None:
    # GIVEN three rows each with its entry, and one row settling two entries
    store = TakenFirst()
    book = Book(store)
    a, b, c = (book.deposit("1.00", t0 + timedelta(minutes=n), f"r{n}") for n in range(3))
    d1 = book.deposit("2.00", t0, "pair")
    d2 = book.deposit("3.00", t0, "pair")
    rows = [
        row("ra", "1.00", t0, "r0"),
        row("rb", "1.00", t0 + timedelta(minutes=1), "r1"),
        row("rc", "1.00", t0 + timedelta(minutes=2), "r2"),
        row("rd", "5.00", t0, "pair"),
    ]
    # AND another run that records row ra, and entry b and entry d1 with other rows
    other = [
        MatchRecord(book.ledger_id, book.account, "bank", "ra", ("ent_x",), "mrun_x", t0),
        MatchRecord(book.ledger_id, book.account, "bank", "zz", (b,), "mrun_x", t0),
        MatchRecord(book.ledger_id, book.account, "bank", "yy", (d1,), "mrun_x", t0),
    ]
    store.other = other
    # WHEN the statement is matched one to many
    run = book.run(rows, rules={"strategy": "one_to_many"})
    # THEN the match of the taken row is already matched, and its entry free again
    assert run.already_matched == ("ra",)
    # AND the rows whose entries were taken are unmatched, their other entries free again
    assert run.matched == (("rc", (c,)),)
    assert run.unmatched_external == ("rd", "rb")
    assert sorted(run.unmatched_entries) == sorted([a, d2])


def test_a_wide_window_is_refused_as_too_large(book: Book, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN more changes in the rows' dates than a run may read
    monkeypatch.setattr(limits, "statement_candidates_max", 2)
    for _ in range(3):
        book.deposit("1.00", t0)
    # WHEN matched, THEN it is refused, and nothing is written
    with nothing_written(book), pytest.raises(ReportTooLarge):
        book.run([row("x", "1.00", t0)])


class NoHistory(MemoryStore):
    """A store whose history is not kept."""

    @property
    def projections(self) -> tuple[str, ...]:
        return ()


def test_a_store_without_history_or_matches_is_refused() -> None:
    # GIVEN a store without history, WHEN matched, THEN 501 history_not_kept
    book = Book(NoHistory())
    with nothing_written(book), pytest.raises(HistoryNotKept):
        book.run([row("x", "1.00", t0)])
    # GIVEN a store without matches, WHEN matched, THEN 501 matches_not_kept
    with pytest.raises(MatchesNotKept) as refused:
        Ledger(cast(Store, object())).match_statement(
            book.ledger_id, book.account, "bank", [row("x", "1.00", t0)]
        )
    assert refused.value.status == 501


good = {"id": "x", "amount": "1.00", "date": "2026-03-02T09:00:00Z"}


@pytest.mark.parametrize(
    ("source", "rows", "rules", "field"),
    [
        ("bad name", [good], None, "source"),
        ("", [good], None, "source"),
        ("bank", [], None, "rows"),
        ("bank", "rows", None, "rows"),
        ("bank", [good, "row"], None, "rows[1]"),
        ("bank", [good, {**good, "id": "y", "amount": "1.001"}], None, "rows[1].amount"),
        ("bank", [{**good, "amount": 1}], None, "rows[0].amount"),
        ("bank", [{**good, "amount": "0"}], None, "rows[0].amount"),
        ("bank", [{**good, "amount": "-"}], None, "rows[0].amount"),
        ("bank", [{**good, "date": "2026-03-02T09:00:00"}], None, "rows[0].date"),
        ("bank", [{**good, "date": "2026-13-02T09:00:00Z"}], None, "rows[0].date"),
        ("bank", [{**good, "date": None}], None, "rows[0].date"),
        ("bank", [{**good, "date": datetime(2026, 3, 2)}], None, "rows[0].date"),
        ("bank", [{**good, "id": "x" * 201}], None, "rows[0].id"),
        ("bank", [{**good, "id": "a\x00b"}], None, "rows[0].id"),
        ("bank", [{**good, "reference": "r" * 201}], None, "rows[0].reference"),
        ("bank", [{**good, "description": 5}], None, "rows[0].description"),
        ("bank", [{**good, "note": "x"}], None, "rows[0].note"),
        ("bank", [good, good], None, "rows[1].id"),
        ("bank", [good], "rules", "rules"),
        ("bank", [good], {"speed": 1}, "rules.speed"),
        ("bank", [good], {"match_on": "amount"}, "rules.match_on"),
        ("bank", [good], {"match_on": [1]}, "rules.match_on"),
        ("bank", [good], {"match_on": []}, "rules.match_on"),
        ("bank", [good], {"match_on": ["colour"]}, "rules.match_on"),
        ("bank", [good], {"date_tolerance_s": "60"}, "rules.date_tolerance_s"),
        ("bank", [good], {"date_tolerance_s": True}, "rules.date_tolerance_s"),
        ("bank", [good], {"date_tolerance_s": -1}, "rules.date_tolerance_s"),
        ("bank", [good], {"amount_tolerance": "0.001"}, "rules.amount_tolerance"),
        ("bank", [good], {"amount_tolerance": "-1"}, "rules.amount_tolerance"),
        ("bank", [good], {"strategy": 1}, "rules.strategy"),
        ("bank", [good], {"strategy": "all"}, "rules.strategy"),
    ],
)
def test_bad_input_is_refused_naming_its_field_and_writes_nothing(
    book: Book, source: str, rows: Any, rules: Any, field: str
) -> None:
    book.deposit("1.00", t0)
    with nothing_written(book), pytest.raises(ValidationError) as refused:
        book.run(rows, source=source, rules=rules)
    assert refused.value.field == field


def test_too_many_rows_are_refused_with_the_limit(book: Book) -> None:
    rows = [{**good, "id": f"r{n}"} for n in range(limits.statement_rows_max + 1)]
    with nothing_written(book), pytest.raises(ValidationError) as refused:
        book.run(rows)
    assert refused.value.details == {"field": "rows", "limit": limits.statement_rows_max}


def test_unknown_accounts_and_other_ledgers_are_refused(book: Book) -> None:
    other = Book(book.store)
    foreign = book.ledger.create_account(other.ledger_id, "bob", "liability", "USD").id
    unknown = foreign[:-4] + "aaaa"
    cases: list[tuple[str, str, type[LedgerError]]] = [
        (book.ledger_id, foreign, LedgerMismatch),
        (book.ledger_id, "acc_nope", NotFound),
        (other.ledger_id, unknown, NotFound),
        ("ldg_nope", book.account, NotFound),
    ]
    for ledger_id, account_id, error in cases:
        with nothing_written(book), pytest.raises(error):
            book.ledger.match_statement(ledger_id, account_id, "bank", [good])
