"""The inbound consumer over the real ledger, on each store: an event posts once, however
often SQS delivers it; a refusal is dead-lettered and moves nothing; contention is retried."""

from __future__ import annotations

import json
import secrets
import uuid
from typing import TYPE_CHECKING, Any, cast

import pytest
from botocore.exceptions import ClientError
from functions.inbound.handler import lambda_handler

from ledger.consumers.dead_letters import FileDeadLetters, dead_letters, file_variable
from ledger.consumers.inbound import InboundConsumer, consumer
from ledger.environment import projections_variable, table_name_variable
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore

from .helpers import open_account

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from mypy_boto3_dynamodb.client import DynamoDBClient

    from ledger.domain.model import Account

    from .conftest import MotoBackend
    from .helpers import NothingWritten

expense_type = "expense.created"


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": secrets.token_hex(8),
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:000000000000:ledger-inbound",
                "awsRegion": "us-east-1",
            }
            for body in bodies
        ]
    }


def expense_books(ledger: Ledger, book: str, funded: str = "100") -> tuple[Account, Account]:
    """A cash account of code `cash` holding `funded`, an expense account, and the rule
    that books an expense from cash."""
    cash = open_account(ledger, book, "asset", code="cash")
    expense = open_account(ledger, book, "expense")
    ledger.deposit(cash.id, funded)
    lines = [
        {"account_code": "cash", "side": "credit", "amount": "{{data.amount}}"},
        {"account_id": "{{data.expense_id}}", "side": "debit", "amount": "{{data.amount}}"},
    ]
    ledger.put_rule(book, expense_type, lines, reference="{{data.invoice}}")
    return cash, expense


def expense(book: str, expense_id: str, amount: str = "12.50", **overrides: Any) -> dict[str, Any]:
    return {
        "id": f"evt-{secrets.token_hex(6)}",
        "type": expense_type,
        "ledger_id": book,
        "occurred_at": "2026-03-01T09:30:00Z",
        "data": {"amount": amount, "expense_id": expense_id, "invoice": "INV-7"},
        **overrides,
    }


def letters_of(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def failures(response: Mapping[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def test_an_event_posts_once_however_often_it_is_delivered(
    ledger: Ledger, book: str, tmp_path: Path
) -> None:
    # GIVEN books with an expense rule, and a message of one expense
    cash, spent = expense_books(ledger, book)
    letters = tmp_path / "inbound-dlq.jsonl"
    inbound = InboundConsumer(ledger, FileDeadLetters(letters))
    batch = sqs_event(json.dumps(expense(book, spent.id)))

    # WHEN SQS delivers it three times
    answers = [inbound.handle(batch) for _ in range(3)]

    # THEN none failed, and the balances moved once
    assert [failures(answer) for answer in answers] == [[], [], []]
    assert ledger.get_balance(cash.id).posted == 8750
    assert ledger.get_balance(spent.id).posted == 1250
    assert letters_of(letters) == []


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"amount": "100.01"}, "insufficient_funds"),
        ({"type": "income.received"}, "not_found"),
        ({"amount": "1.005"}, "validation_error"),
        ({"occurred_at": "yesterday"}, "validation_error"),
    ],
)
def test_a_refused_event_is_dead_lettered_and_moves_nothing(
    ledger: Ledger,
    book: str,
    tmp_path: Path,
    *,
    nothing_written: NothingWritten,
    change: dict[str, Any],
    code: str,
) -> None:
    # GIVEN books holding 100 with an expense rule, and an event the change spoils
    cash, spent = expense_books(ledger, book)
    letters = tmp_path / "inbound-dlq.jsonl"
    inbound = InboundConsumer(ledger, FileDeadLetters(letters))
    event = expense(book, spent.id)
    if "amount" in change:
        event["data"]["amount"] = change["amount"]
    else:
        event.update(change)

    # WHEN it is delivered
    with nothing_written():
        answer = inbound.handle(sqs_event(json.dumps(event)))

    # THEN it is not retried: its dead letter holds it as received, with the reason
    assert failures(answer) == []
    [letter] = letters_of(letters)
    assert letter["event"] == event
    assert letter["reason"]["code"] == code
    assert letter["reason"]["message"]
    assert ledger.get_balance(cash.id).posted == 10000


def test_another_event_under_a_posted_id_is_dead_lettered_as_a_reused_key(
    ledger: Ledger, book: str, tmp_path: Path
) -> None:
    # GIVEN an event posted once
    cash, spent = expense_books(ledger, book)
    letters = tmp_path / "inbound-dlq.jsonl"
    inbound = InboundConsumer(ledger, FileDeadLetters(letters))
    first = expense(book, spent.id)
    inbound.handle(sqs_event(json.dumps(first)))

    # WHEN another event comes under its id
    other = {**first, "data": {**first["data"], "amount": "1.00"}}
    answer = inbound.handle(sqs_event(json.dumps(other)))

    # THEN it is dead-lettered as a reused key, and only the first one moved money
    assert failures(answer) == []
    assert [letter["reason"]["code"] for letter in letters_of(letters)] == [
        "idempotency_key_reused"
    ]
    assert ledger.get_balance(cash.id).posted == 8750


class _Contended:
    """The table's client, except that every transaction is cancelled by a conflict."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def transact_write_items(self, **_request: Any) -> Any:
        raise ClientError(
            {
                "Error": {"Code": "TransactionCanceledException", "Message": "conflict"},
                "CancellationReasons": [{"Code": "TransactionConflict"}],
            },
            "TransactWriteItems",
        )


@pytest.mark.parametrize("backend", ["moto"], indirect=True)
def test_contention_fails_the_message_for_sqs_to_deliver_again(
    ledger: Ledger, book: str, backend: MotoBackend, tmp_path: Path
) -> None:
    # GIVEN books with an expense rule, on a table where every write meets contention
    cash, spent = expense_books(ledger, book)
    store = DynamoDBStore(
        backend.table_name,
        cast("DynamoDBClient", _Contended(backend.store.client)),
        sleep=lambda _s: None,
        projections=(),
    )
    letters = tmp_path / "inbound-dlq.jsonl"
    inbound = InboundConsumer(Ledger(store), FileDeadLetters(letters))
    batch = sqs_event(json.dumps(expense(book, spent.id)))

    # WHEN the message is delivered
    answer = inbound.handle(batch)

    # THEN it is reported failed, nothing is dead-lettered, and nothing moved
    assert failures(answer) == [batch["Records"][0]["messageId"]]
    assert letters_of(letters) == []
    assert ledger.get_balance(cash.id).posted == 10000


@pytest.mark.parametrize("backend", ["moto"], indirect=True)
def test_the_function_posts_from_its_environment(
    ledger: Ledger,
    book: str,
    backend: MotoBackend,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN the function's settings: its table, and a dead-letter file
    cash, spent = expense_books(ledger, book)
    letters = tmp_path / "inbound-dlq.jsonl"
    monkeypatch.setenv(table_name_variable, backend.table_name)
    monkeypatch.setenv(projections_variable, "")
    monkeypatch.setenv(file_variable, str(letters))
    consumer.cache_clear()
    dead_letters.cache_clear()

    # WHEN its handler takes a batch of a good event and a poison one
    try:
        answer = lambda_handler(sqs_event(json.dumps(expense(book, spent.id)), "{oops"), None)
    finally:
        consumer.cache_clear()
        dead_letters.cache_clear()

    # THEN the good one posted and the poison one is dead-lettered as its body
    assert failures(answer) == []
    assert ledger.get_balance(cash.id).posted == 8750
    assert [letter["event"] for letter in letters_of(letters)] == ["{oops"]
