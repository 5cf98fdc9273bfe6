"""Statement matching on DynamoDB Local, over the history the consumer wrote from the
table's real stream: four runs of the same statement at once record every row and every
entry at most once, and together exactly the matches of one run."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from aws_lambda_powertools import Metrics
from test_history_consumer import stream_records

from ledger.consumers.history import HistoryConsumer
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from ledger.local.dynamodb_local import DynamoDBLocal

t0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
runs = 4


def test_concurrent_runs_of_one_statement_match_each_row_and_entry_once(
    dynamodb_local: DynamoDBLocal, dynamodb_client: DynamoDBClient, local_table: str
) -> None:
    # GIVEN an account with 30 deposits, their history written from the stream
    ledger = Ledger(DynamoDBStore(local_table, client=dynamodb_client))
    ledger_id = ledger.create_ledger("Matching").id
    account = ledger.create_account(ledger_id, "alice", "liability", "USD").id
    rows = []
    for n in range(30):
        at = t0 + timedelta(minutes=n)
        amount = f"{1 + n % 4}.00"
        ledger.deposit(account, amount, effective_at=at, reference=f"ref-{n % 5}")
        rows.append(
            {
                "id": f"row-{n}",
                "amount": amount,
                "date": at.isoformat(),
                "reference": f"ref-{n % 5}",
            }
        )
    consumer = HistoryConsumer(local_table, dynamodb_client, metrics=Metrics(namespace="Test"))
    records = stream_records(dynamodb_local, dynamodb_client, local_table)
    assert consumer.handle({"Records": records}) == {"batchItemFailures": []}
    rules = {"date_tolerance_s": 600}
    expected = ledger.match_statement(ledger_id, account, "bank", rows, rules=rules, dry_run=True)
    assert len(expected.matched) == 30

    # WHEN four runs of the same statement record their matches at once
    def run(_index: int) -> tuple[tuple[str, tuple[str, ...]], ...]:
        return ledger.match_statement(ledger_id, account, "bank", rows, rules=rules).matched

    with ThreadPoolExecutor(runs) as pool:
        results = list(pool.map(run, range(runs)))

    # THEN every row and every entry is in one run's matches at most
    matched = [each for result in results for each in result]
    assert len({row_id for row_id, _ in matched}) == len(matched)
    entries = [entry_id for _, entry_ids in matched for entry_id in entry_ids]
    assert len(set(entries)) == len(entries)
    # AND together they are the matches of one run
    assert sorted(matched) == sorted(expected.matched)
    # AND a later run finds every row matched already
    after = ledger.match_statement(ledger_id, account, "bank", rows, rules=rules)
    assert (after.matched, len(after.already_matched)) == ((), 30)
