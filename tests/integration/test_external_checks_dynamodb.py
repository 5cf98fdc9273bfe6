"""External balance checks on DynamoDB Local, which applies conditional transactions as
DynamoDB does: racing sends of one check under one key store it once, with its mismatch
event, and every sender is answered with that one check."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import pytest
from test_history_consumer import table_items

from ledger.domain import events
from ledger.domain.errors import IdempotencyKeyReused
from ledger.domain.external import ExternalCheck
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

senders = 6


def test_racing_sends_of_one_check_store_it_and_its_event_once(
    dynamodb_client: DynamoDBClient, local_table: str
) -> None:
    # GIVEN a wallet of 10.00, and a bank report of 12.00 for it, outside its tolerance
    ledger = Ledger(DynamoDBStore(local_table, client=dynamodb_client, projections=()))
    book = ledger.create_ledger("Checked", owner_id=f"owner-{secrets.token_hex(4)}").id
    wallet = ledger.create_account(book, "wallet", "liability", "USD").id
    ledger.deposit(wallet, "10.00")
    key = f"bank-{secrets.token_hex(4)}"

    def send(_: int) -> ExternalCheck:
        return ledger.check_external_balance(
            book, "bank", "USD", "12.00", account_ids=[wallet], idempotency_key=key
        )

    # WHEN several senders make that check under one key at once
    with ThreadPoolExecutor(senders) as pool:
        answers = list(pool.map(send, range(senders)))

    # THEN every sender has the one check, one of them as its maker, the rest as replays
    assert len({answer.id for answer in answers}) == 1
    assert sum(not answer.replayed for answer in answers) == 1
    assert {(answer.difference, answer.within_tolerance) for answer in answers} == {(200, False)}
    # AND it is stored once (its listing item and its id item) with one mismatch event
    ledger_items = table_items(dynamodb_client, local_table, f"LEDGER#{book}")
    kept = [item["sk"]["S"] for item in ledger_items if "EXTERNAL" in item["sk"]["S"]]
    assert len(kept) == 2, kept
    outbox = table_items(dynamodb_client, local_table, f"OUTBOX#{book}")
    mismatches = [
        item for item in outbox if item["detail_type"]["S"] == events.reconciliation_mismatch
    ]
    assert len(mismatches) == 1
    assert answers[0].id in mismatches[0]["detail"]["S"]
    # AND the same key with another amount is refused, writing nothing more
    with pytest.raises(IdempotencyKeyReused):
        ledger.check_external_balance(
            book, "bank", "USD", "13.00", account_ids=[wallet], idempotency_key=key
        )
    assert len(table_items(dynamodb_client, local_table, f"OUTBOX#{book}")) == len(outbox)
    assert [check.id for check in ledger.list_external_checks(book).items] == [answers[0].id]
