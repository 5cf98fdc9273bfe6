"""Posting rules on each store: versions, inbound events posted once, dry runs that write
nothing and refuse as a post would."""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.domain.errors import (
    IdempotencyKeyReused,
    InsufficientFunds,
    NotFound,
    ValidationError,
)
from ledger.domain.model import Account, EntryKind, RuleOrigin, Side
from ledger.domain.posting_rules import InboundEvent, parse_inbound_event
from ledger.service import Ledger

from .helpers import NothingWritten, missing_account_id, open_account

expense_type = "expense.created"


def expense_lines() -> list[dict[str, str]]:
    """Credit the payment account (by code), debit the expense account (by id)."""
    return [
        {"account_code": "{{data.payment_code}}", "side": "credit", "amount": "{{data.amount}}"},
        {"account_id": "{{data.expense.account_id}}", "side": "debit", "amount": "{{data.amount}}"},
    ]


def funded_books(ledger: Ledger, book: str, funded: str = "100") -> tuple[Account, Account]:
    """A cash account of code `cash` holding `funded`, and an expense account."""
    cash = open_account(ledger, book, "asset", code="cash")
    expense = open_account(ledger, book, "expense")
    ledger.deposit(cash.id, funded)
    return cash, expense


def expense_event(book: str, expense_id: str, amount: str = "12.50", **data: Any) -> InboundEvent:
    """An expense of `amount` booked on `expense_id`, paid from the `cash` account."""
    return parse_inbound_event(
        {
            "id": f"evt-{secrets.token_hex(6)}",
            "type": expense_type,
            "ledger_id": book,
            "occurred_at": "2026-03-01T09:30:00Z",
            "data": {
                "amount": amount,
                "payment_code": "cash",
                "expense": {"account_id": expense_id},
                "invoice": "INV-7",
                **data,
            },
        }
    )


def put_expense_rule(ledger: Ledger, book: str) -> None:
    """The ledger's expense rule, with a reference and a description."""
    ledger.put_rule(
        book,
        expense_type,
        expense_lines(),
        reference="{{data.invoice}}",
        description="Expense {{data.invoice}}",
    )


def test_an_event_posts_one_entry_from_its_rule(ledger: Ledger, book: str) -> None:
    # GIVEN books with an expense rule
    cash, expense = funded_books(ledger, book)
    put_expense_rule(ledger, book)
    event = expense_event(book, expense.id)

    # WHEN the event is posted
    entry = ledger.post_event(event)

    # THEN one entry moved the amount, recording its rule and event, dated when it happened
    assert ledger.get_balance(cash.id).posted == 8750
    assert ledger.get_balance(expense.id).posted == 1250
    assert entry.kind is EntryKind.ENTRY
    assert entry.posting_rule == RuleOrigin(expense_type, 1, event.id)
    assert (entry.reference, entry.description) == ("INV-7", "Expense INV-7")
    assert entry.effective_at == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert entry.metadata == {"event_id": event.id, "event_type": expense_type}
    assert ledger.get_entry(entry.id) == entry


def test_a_redelivered_event_posts_nothing_more_even_after_its_rule_changed(
    ledger: Ledger, book: str
) -> None:
    # GIVEN an event posted once, then a new version of its rule
    cash, expense = funded_books(ledger, book)
    put_expense_rule(ledger, book)
    event = expense_event(book, expense.id)
    first = ledger.post_event(event)
    ledger.put_rule(book, expense_type, expense_lines(), description="changed")

    # WHEN the same event comes again
    again = ledger.post_event(event)

    # THEN the entry first posted is answered as a replay, and the balance moved once
    assert again == replace(first, replayed=True)
    assert ledger.get_balance(cash.id).posted == 8750


def test_another_event_under_a_used_id_is_refused(ledger: Ledger, book: str) -> None:
    # GIVEN an event posted once
    _, expense = funded_books(ledger, book)
    put_expense_rule(ledger, book)
    event = expense_event(book, expense.id)
    ledger.post_event(event)

    # WHEN an event of the same id but other data is posted
    # THEN it is refused as a reused key
    with pytest.raises(IdempotencyKeyReused):
        ledger.post_event(replace(event, data={**event.data, "amount": "1.00"}))


def test_a_dry_run_answers_the_entry_and_writes_nothing(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN books with an expense rule
    cash, expense = funded_books(ledger, book)
    put_expense_rule(ledger, book)
    event = expense_event(book, expense.id)

    # WHEN the event is dry-run, then posted
    with nothing_written():
        dry = ledger.dry_run_event(event)
    posted = ledger.post_event(event)

    # THEN the dry run showed the entry the post wrote
    assert replace(dry, created_at=posted.created_at) == posted
    # AND a dry run of an event already posted answers its entry
    assert ledger.dry_run_event(event) == replace(posted, replayed=True)
    with pytest.raises(IdempotencyKeyReused):
        ledger.dry_run_event(replace(event, data={**event.data, "amount": "2.00"}))
    assert ledger.get_balance(cash.id).posted == 8750


@pytest.mark.parametrize(
    ("data", "refusal", "field"),
    [
        ({"amount": "10.01"}, InsufficientFunds, None),
        ({"amount": "1.005"}, ValidationError, "lines[0].amount"),
        ({"amount": 5}, ValidationError, "data.amount"),
        ({"amount": 5.5}, ValidationError, "data.amount"),
        ({"payment_code": "nope"}, NotFound, None),
        ({"expense": {}}, ValidationError, "data.expense.account_id"),
    ],
)
def test_a_dry_run_and_a_post_refuse_alike(
    ledger: Ledger,
    book: str,
    *,
    nothing_written: NothingWritten,
    data: dict[str, Any],
    refusal: type[Exception],
    field: str | None,
) -> None:
    # GIVEN books holding 10 with an expense rule, and an event the data spoils
    _, expense = funded_books(ledger, book, funded="10")
    put_expense_rule(ledger, book)
    event = expense_event(book, expense.id, **data)

    # WHEN it is dry-run and posted
    # THEN both refuse alike, and nothing is written
    with nothing_written():
        with pytest.raises(refusal) as dry:
            ledger.dry_run_event(event)
        with pytest.raises(refusal) as real:
            ledger.post_event(event)
    assert dry.value.args == real.value.args
    if field is not None:
        assert isinstance(dry.value, ValidationError)
        assert dry.value.field == field


def test_an_unknown_account_is_not_found_in_a_dry_run_as_in_a_post(
    ledger: Ledger, book: str
) -> None:
    # GIVEN an expense rule, and an event naming an account nobody opened
    funded_books(ledger, book)
    put_expense_rule(ledger, book)
    event = expense_event(book, missing_account_id(book, side=Side.DEBIT))

    # WHEN / THEN both refuse it as not found
    for attempt in (ledger.dry_run_event, ledger.post_event):
        with pytest.raises(NotFound) as refused:
            attempt(event)
        assert refused.value.details["resource"] == "account"


def test_a_dry_run_counts_a_sharded_account_by_its_shard(ledger: Ledger, book: str) -> None:
    # GIVEN a rule crediting a sharded revenue account (no floor) by id
    revenue = open_account(ledger, book, "revenue", overdraft="allow", shards=4)
    cash = open_account(ledger, book, "asset")
    ledger.put_rule(
        book,
        "income.received",
        [
            {"account_id": cash.id, "side": "debit", "amount": "{{data.amount}}"},
            {"account_id": revenue.id, "side": "credit", "amount": "{{data.amount}}"},
        ],
    )
    event = parse_inbound_event(
        {
            "id": "inc-1",
            "type": "income.received",
            "ledger_id": book,
            "occurred_at": "2026-03-01T00:00:00+02:00",
            "data": {"amount": "3"},
        }
    )

    # WHEN it is dry-run and posted
    dry = ledger.dry_run_event(event)
    posted = ledger.post_event(event)

    # THEN both agree, and the revenue rose
    assert dry.lines == posted.lines
    assert ledger.get_balance(revenue.id).posted == 300


def test_an_event_without_a_rule_is_not_found(ledger: Ledger, book: str) -> None:
    # GIVEN books without a rule
    _, expense = funded_books(ledger, book)

    # WHEN / THEN its event is not found, as no rule is
    with pytest.raises(NotFound) as refused:
        ledger.post_event(expense_event(book, expense.id))
    assert refused.value.details == {"resource": "posting_rule", "id": expense_type}
    with pytest.raises(ValidationError):
        ledger.post_event({"id": "x"})  # type: ignore[arg-type]
