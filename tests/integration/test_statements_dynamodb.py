"""Statements and balances of the past on DynamoDB Local, over the history the consumer
wrote from the table's real stream: the edges a random model seldom reaches (empty ranges,
a range before the account existed, `from` equal to `to`, the first years and the first
instant) and pages of one line joining into the one-page statement."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from aws_lambda_powertools import Metrics
from test_history_consumer import stream_records

from ledger.consumers.history import HistoryConsumer
from ledger.domain.errors import ValidationError
from ledger.domain.results import Statement, StatementBalance, StatementLine
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from ledger.local.dynamodb_local import DynamoDBLocal

early = datetime(5, 3, 2, tzinfo=UTC)
first_instant = datetime.min.replace(tzinfo=UTC)
pages_max = 20


@pytest.fixture
def book(
    dynamodb_local: DynamoDBLocal, dynamodb_client: DynamoDBClient, local_table: str
) -> tuple[Ledger, str, str]:
    """A sharded account (3 items) with deposits effective in the year 5, a month ago and
    now, a transfer to alice, and their history written from the stream. Returns the
    ledger, the sharded account and alice."""
    ledger = Ledger(DynamoDBStore(local_table, client=dynamodb_client))
    ledger_id = ledger.create_ledger("Statements", world_shards=2).id
    hot = ledger.create_account(ledger_id, "hot", "liability", "USD", overdraft="allow", shards=3)
    alice = ledger.create_account(ledger_id, "alice", "liability", "USD")
    ledger.deposit(hot.id, "5.00", effective_at=early)
    ledger.deposit(hot.id, "7.00", effective_at=datetime.now(UTC) - timedelta(days=31))
    for amount in ("1.00", "2.00", "3.00"):
        ledger.deposit(hot.id, amount)
    ledger.transfer(hot.id, alice.id, "4.00")
    consumer = HistoryConsumer(local_table, dynamodb_client, metrics=Metrics(namespace="Test"))
    records = stream_records(dynamodb_local, dynamodb_client, local_table)
    assert consumer.handle({"Records": records}) == {"batchItemFailures": []}
    return ledger, hot.id, alice.id


def _walk(ledger: Ledger, account_id: str, basis: str, limit: int) -> list[Statement]:
    pages: list[Statement] = []
    cursor: str | None = None
    for _ in range(pages_max):
        pages.append(ledger.statement(account_id, basis=basis, limit=limit, cursor=cursor))
        cursor = pages[-1].next_cursor
        if cursor is None:
            return pages
    raise AssertionError("the statement never ended")


def _amounts(lines: list[StatementLine]) -> list[tuple[int, int]]:
    return [(line.amount, line.balance_after.posted) for line in lines]


@pytest.mark.parametrize("basis", ["recorded", "effective"])
def test_empty_ranges_give_no_line_and_no_error(book: tuple[Ledger, str, str], basis: str) -> None:
    ledger, hot, alice = book
    # WHEN statements are asked from a time still to come, with no end
    coming = ledger.statement(hot, start=datetime(3000, 1, 1, tzinfo=UTC), basis=basis)
    # THEN they have no line and open and close at the balance now
    assert (coming.lines, coming.opening, coming.closing) == (
        [],
        *[StatementBalance(1400, 1400)] * 2,
    )
    # WHEN one is asked over a range before the account existed
    long_ago = datetime(2, 1, 1, tzinfo=UTC)
    before = ledger.statement(alice, start=long_ago, end=long_ago + timedelta(days=1), basis=basis)
    # THEN it has no line and opens and closes at zero
    assert (before.lines, before.opening, before.closing) == ([], *[StatementBalance(0, 0)] * 2)
    # WHEN one is asked with `to` equal to `from` THEN it is refused, naming `to`
    with pytest.raises(ValidationError) as refused:
        ledger.statement(hot, start=long_ago, end=long_ago, basis=basis)
    assert refused.value.details["field"] == "to"


def test_the_first_years_and_the_first_instant_read_exactly(book: tuple[Ledger, str, str]) -> None:
    ledger, hot, _ = book
    # WHEN the balance is asked effective later in the month of the year-5 deposit, and on
    # its first day
    assert ledger.get_balance(hot, effective_at=datetime(5, 3, 20, tzinfo=UTC)).posted == 500
    assert ledger.get_balance(hot, effective_at=datetime(5, 3, 1, tzinfo=UTC)).posted == 0
    # WHEN the effective statement starts at the first instant there is
    statement = ledger.statement(hot, start=first_instant, basis="effective")
    # THEN it opens at zero and its first line is the year-5 deposit
    assert statement.opening == StatementBalance(0, 0)
    assert _amounts(statement.lines)[:2] == [(500, 500), (700, 1200)]


@pytest.mark.parametrize("basis", ["recorded", "effective"])
def test_pages_of_one_line_join_into_the_one_page_statement(
    book: tuple[Ledger, str, str], basis: str
) -> None:
    ledger, hot, _ = book
    # GIVEN the sharded account's whole statement on one page
    (whole,) = _walk(ledger, hot, basis, limit=100)
    # WHEN it is read one line a page
    pages = _walk(ledger, hot, basis, limit=1)
    # THEN the pages hold its lines, in order, once each, and the same opening and closing
    assert [line for page in pages for line in page.lines] == whole.lines
    assert [len(page.lines) for page in pages] == [1] * 6
    assert {(page.opening, page.closing) for page in pages} == {(whole.opening, whole.closing)}
    assert _amounts(whole.lines)[-1] == (400, 1400)
