"""The five posting rules shipped in docs/posting-rules/, applied as `ledger rules apply`
reads them, each posting one event."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ledger.cli.commands.rules import read_rules
from ledger.domain.posting_rules import parse_inbound_event
from ledger.service import Ledger

from .helpers import open_account

shipped = Path(__file__).resolve().parents[2] / "docs" / "posting-rules"


def post(ledger: Ledger, book: str, event_type: str, data: dict[str, Any]) -> None:
    """Post one event of the type with the data."""
    event = {
        "id": f"{event_type}-1",
        "type": event_type,
        "ledger_id": book,
        "occurred_at": "2026-04-01T12:00:00Z",
        "data": data,
    }
    ledger.post_event(parse_inbound_event(event))


def test_the_five_shipped_rules_each_post_their_event(ledger: Ledger, book: str) -> None:
    # GIVEN the shipped rules applied to books with the accounts they name
    files = sorted(shipped.glob("*.json"))
    for rule in (rule for path in files for rule in read_rules(path)):
        ledger.put_rule(
            book,
            rule["event_type"],
            rule["lines"],
            reference=rule.get("reference"),
            description=rule.get("description"),
        )
    cash = open_account(ledger, book, "asset", code="cash")
    bank = open_account(ledger, book, "asset")
    investments = open_account(ledger, book, "asset")
    loan = open_account(ledger, book, "liability")
    salary = open_account(ledger, book, "revenue", code="income.salary")
    food = open_account(ledger, book, "expense", code="expense.food")

    # WHEN one event of each type comes in
    post(
        ledger,
        book,
        "loan.created",
        {"loan_id": "L1", "principal": "1000.00", "loan_account_id": loan.id},
    )
    post(
        ledger,
        book,
        "income.received",
        {"income_id": "I1", "amount": "500", "source": "salary", "deposit_account_id": bank.id},
    )
    post(
        ledger,
        book,
        "expense.created",
        {"expense_id": "E1", "amount": "40.00", "category": "food", "payment_account_id": bank.id},
    )
    post(
        ledger,
        book,
        "investment.transaction.created",
        {
            "transaction_id": "T1",
            "amount": "300.00",
            "symbol": "ACME",
            "quantity": 3,
            "investment_account_id": investments.id,
        },
    )
    post(
        ledger,
        book,
        "payment.made",
        {"payment_id": "P1", "amount": "200.00", "liability_account_id": loan.id},
    )

    # THEN every balance moved as the rules say
    posted = {
        name: ledger.get_balance(account.id).posted
        for name, account in {
            "cash": cash,
            "bank": bank,
            "investments": investments,
            "loan": loan,
            "salary": salary,
            "food": food,
        }.items()
    }
    assert len(files) == 5
    assert posted == {
        "cash": 50000,
        "bank": 46000,
        "investments": 30000,
        "loan": 80000,
        "salary": 50000,
        "food": 4000,
    }
    assert [rule.event_type for rule in ledger.list_rules(book).items] == [
        "expense.created",
        "income.received",
        "investment.transaction.created",
        "loan.created",
        "payment.made",
    ]
