"""Posting rules under races on DynamoDB Local, which (unlike moto) applies conditional
transactions atomically: concurrent PUTs never share a version, and one event delivered to
many consumers at once posts one entry.

Every race is bounded: a pool whose calls must all finish before a deadline.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, TypeVar

import boto3
import pytest
from botocore.config import Config

from ledger.domain.errors import LedgerError
from ledger.domain.posting_rules import parse_inbound_event
from ledger.local.dynamodb_local import credentials_dummy, region
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from ledger.local.dynamodb_local import DynamoDBLocal

T = TypeVar("T")

race_deadline_s = 60.0
threads = 6
lines = [
    {"account_code": "cash", "side": "credit", "amount": "{{data.amount}}"},
    {"account_id": "{{data.expense_id}}", "side": "debit", "amount": "{{data.amount}}"},
]


@pytest.fixture(scope="module")
def pooled_client(dynamodb_local: DynamoDBLocal) -> DynamoDBClient:
    """A client whose connection pool fits every racing thread."""
    return boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_local.endpoint_url,
        region_name=region,
        aws_access_key_id=credentials_dummy,
        aws_secret_access_key=credentials_dummy,
        config=Config(max_pool_connections=threads + 4, retries={"max_attempts": 2}),
    )


@pytest.fixture
def ledger(pooled_client: DynamoDBClient, local_table: str) -> Ledger:
    """The library on a fresh DynamoDB Local table, without stream consumers."""
    return Ledger(DynamoDBStore(local_table, client=pooled_client, projections=()))


def race(calls: list[Callable[[], T]]) -> list[T | str]:
    """Run every call at once; each result, or the code of the ledger error it raised."""

    def outcome(call: Callable[[], T]) -> T | str:
        try:
            return call()
        except LedgerError as error:
            return error.code

    pool = ThreadPoolExecutor(max_workers=threads)
    try:
        futures = [pool.submit(outcome, call) for call in calls]
        _, not_done = wait(futures, timeout=race_deadline_s)
        assert not not_done, f"{len(not_done)} calls still running after {race_deadline_s}s"
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def test_concurrent_puts_never_share_a_version(ledger: Ledger) -> None:
    # GIVEN a ledger
    book = ledger.create_ledger("Rules").id

    # WHEN many PUTs of its rule race
    outcomes = race(
        [lambda: ledger.put_rule(book, "expense.created", lines) for _ in range(threads)]
    )

    # THEN each one that succeeded has its own version, from 1 without a gap; the others
    # gave up with 503 conflict; the latest is the highest
    versions = sorted(outcome.version for outcome in outcomes if not isinstance(outcome, str))
    assert versions == list(range(1, len(versions) + 1))
    assert all(outcome == "conflict" for outcome in outcomes if isinstance(outcome, str))
    assert ledger.get_rule(book, "expense.created").version == versions[-1]


def test_one_event_delivered_many_times_at_once_posts_one_entry(ledger: Ledger) -> None:
    # GIVEN books with an expense rule, and one event
    book = ledger.create_ledger("Rules").id
    cash = ledger.create_account(book, "Cash", "asset", "USD", code="cash")
    expense = ledger.create_account(book, "Food", "expense", "USD")
    ledger.deposit(cash.id, "100.00")
    ledger.put_rule(book, "expense.created", lines)
    event = parse_inbound_event(
        {
            "id": "exp-1",
            "type": "expense.created",
            "ledger_id": book,
            "occurred_at": "2026-03-01T09:30:00Z",
            "data": {"amount": "10.00", "expense_id": expense.id},
        }
    )

    # WHEN it is posted by many consumers at once
    outcomes = race([lambda: ledger.post_event(event) for _ in range(threads)])

    # THEN one entry was written and every other answer replays it (or gave up, writing
    # nothing); the cash moved once
    entries = [outcome for outcome in outcomes if not isinstance(outcome, str)]
    assert len({entry.id for entry in entries}) == 1
    assert Counter(entry.replayed for entry in entries)[False] <= 1
    assert all(outcome == "conflict" for outcome in outcomes if isinstance(outcome, str))
    assert ledger.get_balance(cash.id).posted == 9000
