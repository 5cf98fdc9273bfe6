"""The audit consumer on hand-made stream records: duplicates, a replayed batch, items out
of order, a missing previous record, a conflicting record, a poison record."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

import pytest
from aws_lambda_powertools import Metrics
from botocore.exceptions import ClientError
from store_fakes import account_record, now, usd

from ledger.consumers.audit import AuditConsumer
from ledger.domain.audit import first_break, genesis_hash
from ledger.domain.errors import AuditNotKept
from ledger.domain.ids import new_account_id, new_ledger_id
from ledger.domain.model import Account, AccountStatus, Side, Totals
from ledger.service import Ledger
from ledger.store.dynamodb.audit import link_of
from ledger.store.dynamodb.codec import encode
from ledger.store.memory import MemoryStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

table = "ledger-unit"


class TableClient:
    """Just enough of a DynamoDB client over a dict: get, conditional put, batch get."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.reads = 0

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        self.reads += 1
        key = (kwargs["Key"]["pk"]["S"], kwargs["Key"]["sk"]["S"])
        item = self.items.get(key)
        return {} if item is None else {"Item": item}

    def put_item(self, **kwargs: Any) -> dict[str, Any]:
        item = kwargs["Item"]
        key = (item["pk"]["S"], item["sk"]["S"])
        if key in self.items:
            error: Any = {"Error": {"Code": "ConditionalCheckFailedException", "Message": "x"}}
            raise ClientError(error, "PutItem")
        self.items[key] = item
        return {}

    def batch_get_item(self, **kwargs: Any) -> dict[str, Any]:
        return {"Responses": {table: []}, "UnprocessedKeys": {}}


def fresh_metrics() -> Metrics:
    """Metrics of one test: powertools shares a metric set between instances."""
    metrics = Metrics(namespace="Test")
    metrics.clear_metrics()
    return metrics


def consumer_on(client: TableClient) -> AuditConsumer:
    return AuditConsumer(table, cast("DynamoDBClient", client), metrics=fresh_metrics())


def account_id() -> str:
    return new_account_id(new_ledger_id(None, None), usd, Side.CREDIT, None)


counter = iter(range(10**6))


def stream_record(name: str, old: Account | None, new: Account | None) -> dict[str, Any]:
    sequence = f"{next(counter):021d}"
    any_image = new or old
    assert any_image is not None
    change: dict[str, Any] = {
        "Keys": {"pk": {"S": f"ACCOUNT#{any_image.id}"}, "sk": {"S": "ACCOUNT"}},
        "SequenceNumber": sequence,
        "SizeBytes": 100,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
        "ApproximateCreationDateTime": now.timestamp(),
    }
    if new is not None:
        change["NewImage"] = encode(new)
    if old is not None:
        change["OldImage"] = encode(old)
    return {
        "eventID": f"ev-{sequence}",
        "eventName": name,
        "eventSource": "aws:dynamodb",
        "dynamodb": change,
    }


def history(identifier: str) -> list[dict[str, Any]]:
    """An account opened, then suspended and reactivated: versions 0, 1, 2."""
    opened = account_record(identifier)
    suspended = replace(
        opened, version=1, status=AccountStatus.SUSPENDED, updated_at=now + timedelta(seconds=1)
    )
    active = replace(
        suspended, version=2, status=AccountStatus.ACTIVE, updated_at=now + timedelta(seconds=2)
    )
    return [
        stream_record("INSERT", None, opened),
        stream_record("MODIFY", opened, suspended),
        stream_record("MODIFY", suspended, active),
    ]


def chain_of(client: TableClient, identifier: str) -> list[Any]:
    return [
        link_of(item)
        for key, item in sorted(client.items.items())
        if key[0] == f"AUDIT#{identifier}"
    ]


def test_a_batch_chains_its_items_from_the_first_record_with_no_read() -> None:
    # GIVEN an account's three versions in one batch
    client, identifier = TableClient(), account_id()
    # WHEN the consumer takes them
    assert consumer_on(client).handle({"Records": history(identifier)}) == {"batchItemFailures": []}
    # THEN the chain is versions 0..2, the first after the genesis hash, intact
    chain = chain_of(client, identifier)
    assert [link.record.version for link in chain] == [0, 1, 2]
    assert [link.record.kind for link in chain] == ["open", "status", "status"]
    assert chain[0].previous_hash == genesis_hash
    assert chain[1].previous_hash == chain[0].hash
    assert first_break((link.record, link.hash) for link in chain) is None
    # AND no previous record was read: each came from the same batch
    assert client.reads == 0


def test_duplicates_and_a_replayed_batch_change_nothing() -> None:
    # GIVEN a chain written from one batch
    client, identifier = TableClient(), account_id()
    records = history(identifier)
    consumer = consumer_on(client)
    consumer.handle({"Records": records})
    written = dict(client.items)
    # WHEN the batch is replayed, and a record is delivered twice in one batch
    assert consumer.handle({"Records": records}) == {"batchItemFailures": []}
    twice = {"Records": [records[1], records[1], records[2]]}
    assert consumer.handle(twice) == {"batchItemFailures": []}
    # THEN the table is as it was and no conflict was counted
    assert client.items == written
    assert "AuditRecordConflict" not in consumer.metrics.metric_set


def test_a_record_before_its_previous_fails_and_succeeds_on_retry() -> None:
    # GIVEN an account's versions delivered newest first
    client, identifier = TableClient(), account_id()
    records = history(identifier)
    consumer = consumer_on(client)
    # WHEN the consumer takes version 2 before 0 and 1
    response = consumer.handle({"Records": [records[2], records[0], records[1]]})
    # THEN version 2 is a partial failure, as its previous record was not there yet
    failed = records[2]["dynamodb"]["SequenceNumber"]
    assert response == {"batchItemFailures": [{"itemIdentifier": failed}]}
    assert [link.record.version for link in chain_of(client, identifier)] == [0, 1]
    # AND the retry reads version 1 and completes the chain
    assert consumer.handle({"Records": [records[2]]}) == {"batchItemFailures": []}
    chain = chain_of(client, identifier)
    assert [link.record.version for link in chain] == [0, 1, 2]
    assert first_break((link.record, link.hash) for link in chain) is None


def test_a_missing_previous_record_is_a_partial_failure() -> None:
    # GIVEN a version whose previous record was never written
    client, identifier = TableClient(), account_id()
    records = history(identifier)
    # WHEN the consumer takes version 1 alone
    response = consumer_on(client).handle({"Records": [records[1]]})
    # THEN it fails and nothing is written
    failed = records[1]["dynamodb"]["SequenceNumber"]
    assert response == {"batchItemFailures": [{"itemIdentifier": failed}]}
    assert chain_of(client, identifier) == []


def test_a_record_that_differs_from_the_stored_one_is_logged_and_counted() -> None:
    # GIVEN a chain, and a version-1 image with other totals than the one recorded
    client, identifier = TableClient(), account_id()
    records = history(identifier)
    consumer = consumer_on(client)
    consumer.handle({"Records": records})
    opened = account_record(identifier)
    other = replace(opened, version=1, totals=Totals(posted_credits=500))
    # WHEN it is delivered
    response = consumer.handle({"Records": [stream_record("MODIFY", opened, other)]})
    # THEN the record succeeds (a retry cannot help), the stored one stays, and it counts
    assert response == {"batchItemFailures": []}
    assert chain_of(client, identifier)[1].record.after["posted"] == "0.00"
    assert consumer.metrics.metric_set["AuditRecordConflict"]["Value"] == [1.0]


def test_a_poison_record_fails_alone() -> None:
    # GIVEN a batch in which one image does not decode
    client, identifier = TableClient(), account_id()
    records = history(identifier)
    records[1]["dynamodb"]["NewImage"]["version"] = {"S": "not a number"}
    # WHEN the consumer takes it
    response = consumer_on(client).handle({"Records": records})
    # THEN the poison record fails, and the one after it too (its previous is missing)
    sequences = [records[index]["dynamodb"]["SequenceNumber"] for index in (1, 2)]
    assert response == {"batchItemFailures": [{"itemIdentifier": s} for s in sequences]}
    assert [link.record.version for link in chain_of(client, identifier)] == [0]


def test_a_removed_account_is_a_critical_event_counted_once() -> None:
    # GIVEN the removal of an account item
    client, identifier = TableClient(), account_id()
    removal = stream_record("REMOVE", account_record(identifier), None)
    consumer = consumer_on(client)
    # WHEN it is delivered twice
    consumer.handle({"Records": [removal]})
    consumer.handle({"Records": [removal]})
    # THEN one event of the account's ledger records it, counted once
    events = [item for key, item in client.items.items() if key[0].startswith("AUDIT#LEDGER#")]
    assert [(item["severity"]["S"], item["removed_pk"]["S"]) for item in events] == [
        ("critical", f"ACCOUNT#{identifier}")
    ]
    assert consumer.metrics.metric_set["FinancialItemRemoved"]["Value"] == [1.0]


def test_records_of_two_items_interleaved_and_out_of_order_settle_on_retry() -> None:
    # GIVEN two accounts' versions, each item's newest first, interleaved in one batch
    client = TableClient()
    first, second = account_id(), account_id()
    ones, twos = history(first), history(second)
    batch = [ones[2], twos[1], ones[0], twos[0], ones[1], twos[2]]
    consumer = consumer_on(client)
    # WHEN the consumer takes it, then Lambda retries from the first failure as it does
    response = consumer.handle({"Records": batch})
    failed = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
    retry = [
        record
        for position, record in enumerate(batch)
        if position
        >= min(
            index
            for index, each in enumerate(batch)
            if each["dynamodb"]["SequenceNumber"] in failed
        )
    ]
    assert consumer.handle({"Records": retry}) == {"batchItemFailures": []}
    # THEN the records whose previous was not written yet failed the first time (the
    # second account's last one too, as its previous had failed), and both chains are
    # whole and intact
    sequences = {batch[index]["dynamodb"]["SequenceNumber"] for index in (0, 1, 5)}
    assert failed == sequences
    for identifier in (first, second):
        chain = chain_of(client, identifier)
        assert [link.record.version for link in chain] == [0, 1, 2]
        assert first_break((link.record, link.hash) for link in chain) is None


def test_a_store_that_keeps_no_audit_says_so() -> None:
    # GIVEN the library on the memory store, which has no stream and so no audit chain
    ledger = Ledger(MemoryStore())
    book = ledger.create_ledger("Books")
    wallet = ledger.create_account(book.id, "wallet", "liability", "USD")
    # WHEN / THEN every audit read refuses with audit_not_kept
    with pytest.raises(AuditNotKept):
        ledger.verify_audit(wallet.id)
    with pytest.raises(AuditNotKept):
        ledger.audit_digest(book.id)
