"""The history consumer on DynamoDB Local's real stream: one record per item version,
idempotent, order-proof, with effective-time aggregates equal to the sum of deltas."""

from __future__ import annotations

import copy
import secrets
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from aws_lambda_powertools import Metrics

from ledger.consumers.history import HistoryConsumer
from ledger.domain.model import AccountStatus, totals_fields
from ledger.local.stream_batches import lambda_record
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from ledger.local.dynamodb_local import DynamoDBLocal

Record = dict[str, Any]
records_max = 500


def stream_records(server: DynamoDBLocal, client: DynamoDBClient, table: str) -> list[Record]:
    """Every record of the table's stream so far, as Lambda hands them over."""
    streams = boto3.client(
        "dynamodbstreams",
        endpoint_url=server.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    arn = client.describe_table(TableName=table)["Table"]["LatestStreamArn"]
    records: list[Record] = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        for _ in range(20):
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            records += [lambda_record(record, arn) for record in page["Records"]]
            iterator = page.get("NextShardIterator")
            if not page["Records"] or iterator is None:
                break
    assert len(records) < records_max
    return records


def table_items(client: DynamoDBClient, table: str, prefix: str) -> list[dict[str, Any]]:
    """The items whose pk starts with `prefix` (a test-sized scan)."""
    items = client.scan(TableName=table, ConsistentRead=True)["Items"]
    return sorted(
        (item for item in items if item["pk"]["S"].startswith(prefix)),
        key=lambda item: (item["pk"]["S"], item["sk"]["S"]),
    )


@pytest.fixture
def ledger(dynamodb_client: DynamoDBClient, local_table: str) -> Ledger:
    return Ledger(DynamoDBStore(local_table, client=dynamodb_client))


@pytest.fixture
def consumer(dynamodb_client: DynamoDBClient, local_table: str) -> HistoryConsumer:
    return HistoryConsumer(local_table, dynamodb_client, metrics=Metrics(namespace="Test"))


def busy_book(ledger: Ledger) -> tuple[str, str, str]:
    """A ledger with a world of 8 shards: deposits (one backdated), a transfer, a hold
    posted, a hold voided, a suspension and a reactivation. Returns (alice, bob, world)."""
    book = ledger.create_ledger("History", owner_id=f"owner-{secrets.token_hex(4)}")
    alice = ledger.create_account(book.id, "alice", "liability", "USD")
    bob = ledger.create_account(book.id, "bob", "liability", "USD")
    backdated = datetime.now(UTC) - timedelta(days=45)
    ledger.deposit(alice.id, "100.00", effective_at=backdated)
    ledger.deposit(alice.id, "5.00")
    ledger.transfer(alice.id, bob.id, "30.00")
    held = ledger.hold(alice.id, "10.00")
    ledger.post_entry(held.id, "4.00")
    ledger.void_entry(ledger.hold(bob.id, "2.00").id)
    ledger.update_account(bob.id, status=AccountStatus.SUSPENDED)
    ledger.update_account(bob.id, status=AccountStatus.ACTIVE)
    world = next(line.account_id for line in held.lines if line.account_id != alice.id)
    return alice.id, bob.id, world


def history_by_item(items: list[dict[str, Any]]) -> dict[str, list[int]]:
    versions: dict[str, list[int]] = defaultdict(list)
    for item in items:
        versions[item["pk"]["S"]].append(int(item["version"]["N"]))
    return versions


def check_aggregates(history: list[dict[str, Any]], aggregates: list[dict[str, Any]]) -> None:
    """Each day and month aggregate is the sum of the deltas of the records dated in it."""
    expected: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for item in history:
        if all(int(item[f"delta_{name}"]["N"]) == 0 for name in totals_fields):
            continue
        partition = item["pk"]["S"].replace("HISTORY#", "EFFECTIVE#", 1)
        effective = item["effective_at"]["S"]
        for period in (f"DAY#{effective[:10]}", f"MONTH#{effective[:7]}"):
            for name in totals_fields:
                expected[(partition, period)][name] += int(item[f"delta_{name}"]["N"])
    found = {
        (item["pk"]["S"], item["sk"]["S"]): {name: int(item[name]["N"]) for name in totals_fields}
        for item in aggregates
    }
    assert found == {
        key: {name: value[name] for name in totals_fields} for key, value in expected.items()
    }


def test_history_is_one_record_per_item_version_and_a_replay_changes_nothing(
    dynamodb_local: DynamoDBLocal,
    dynamodb_client: DynamoDBClient,
    local_table: str,
    ledger: Ledger,
    consumer: HistoryConsumer,
) -> None:
    # GIVEN a busy ledger's stream, with a world of 8 shards
    alice, bob, world = busy_book(ledger)
    records = stream_records(dynamodb_local, dynamodb_client, local_table)
    # WHEN the consumer takes it as one batch
    assert consumer.handle({"Records": records}) == {"batchItemFailures": []}
    history = table_items(dynamodb_client, local_table, "HISTORY#")
    # THEN each balance item has versions 1..N, none a mismatch
    versions = history_by_item(history)
    assert versions[f"HISTORY#{alice}"] == [1, 2, 3, 4, 5]
    assert versions[f"HISTORY#{bob}"] == [1, 2, 3, 4, 5]
    assert all(not item["mismatch"]["BOOL"] for item in history)
    kinds = [item["kind"]["S"] for item in history if item["pk"]["S"] == f"HISTORY#{bob}"]
    assert kinds == ["transfer", "hold", "void", "status", "status"]
    # AND the world's changes are histories of its shard items, each from version 1
    world_items = [pk for pk in versions if pk.startswith(f"HISTORY#{world}")]
    assert world_items
    assert all(versions[pk] == list(range(1, len(versions[pk]) + 1)) for pk in world_items)
    # AND the aggregates are the sums of the deltas per day and month, the backdated
    # deposit in its own month
    aggregates = table_items(dynamodb_client, local_table, "EFFECTIVE#")
    check_aggregates(history, aggregates)
    backdated_month = (datetime.now(UTC) - timedelta(days=45)).strftime("MONTH#%Y-%m")
    assert f"EFFECTIVE#{alice}" in {
        item["pk"]["S"] for item in aggregates if item["sk"]["S"] == backdated_month
    }
    # WHEN the same batch is delivered again, and then each record alone, newest first
    assert consumer.handle({"Records": records}) == {"batchItemFailures": []}
    for record in reversed(records):
        assert consumer.handle({"Records": [record]}) == {"batchItemFailures": []}
    # THEN nothing changed
    assert table_items(dynamodb_client, local_table, "HISTORY#") == history
    assert table_items(dynamodb_client, local_table, "EFFECTIVE#") == aggregates


def test_split_and_out_of_order_batches_give_the_same_history(
    dynamodb_local: DynamoDBLocal,
    dynamodb_client: DynamoDBClient,
    local_table: str,
    ledger: Ledger,
    consumer: HistoryConsumer,
) -> None:
    # GIVEN a busy ledger's stream, cut into batches of 3 taken last batch first
    busy_book(ledger)
    records = stream_records(dynamodb_local, dynamodb_client, local_table)
    batches = [records[start : start + 3] for start in range(0, len(records), 3)]
    # WHEN the consumer takes them
    for batch in reversed(batches):
        assert consumer.handle({"Records": batch}) == {"batchItemFailures": []}
    # THEN every item's versions are contiguous and match, and aggregates add up
    history = table_items(dynamodb_client, local_table, "HISTORY#")
    for versions in history_by_item(history).values():
        assert versions == list(range(1, len(versions) + 1))
    assert all(not item["mismatch"]["BOOL"] for item in history)
    check_aggregates(history, table_items(dynamodb_client, local_table, "EFFECTIVE#"))


def test_a_poison_record_fails_alone_and_a_mismatch_is_marked_and_counted(
    dynamodb_local: DynamoDBLocal,
    dynamodb_client: DynamoDBClient,
    local_table: str,
    ledger: Ledger,
    consumer: HistoryConsumer,
) -> None:
    # GIVEN a stream in which one record's image does not decode and another's account
    # image shows one more posted credit than its entry moved
    alice, _, _ = busy_book(ledger)
    records = stream_records(dynamodb_local, dynamodb_client, local_table)
    moves = [
        index
        for index, record in enumerate(records)
        if record["dynamodb"]["Keys"]["pk"]["S"] == f"ACCOUNT#{alice}"
        and record["eventName"] == "MODIFY"
    ]
    poison, tampered = copy.deepcopy(records[moves[0]]), copy.deepcopy(records[moves[-1]])
    poison["dynamodb"]["NewImage"]["version"] = {"S": "not a number"}
    image = tampered["dynamodb"]["NewImage"]
    image["posted_credits"] = {"N": str(int(image["posted_credits"]["N"]) + 1)}
    records[moves[0]], records[moves[-1]] = poison, tampered
    # WHEN the consumer takes the batch
    response = consumer.handle({"Records": records})
    # THEN only the poison record failed, by its sequence number
    sequence = poison["dynamodb"]["SequenceNumber"]
    assert response == {"batchItemFailures": [{"itemIdentifier": sequence}]}
    # AND the tampered version is written, marked as a mismatch with what was expected, and
    # counted once
    history = table_items(dynamodb_client, local_table, f"HISTORY#{alice}")
    marked = [item for item in history if item["mismatch"]["BOOL"]]
    assert [item["version"]["N"] for item in marked] == [image["version"]["N"]]
    assert int(marked[0]["delta_posted_credits"]["N"]) == (
        int(marked[0]["expected_posted_credits"]["N"]) + 1
    )
    assert consumer.metrics.metric_set["HistoryMismatch"]["Value"] == [1.0]
    # AND every other version of the account is there
    assert len(history) == len(moves) - 1
