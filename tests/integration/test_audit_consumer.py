"""The audit consumer on DynamoDB Local's real stream: one chained record per item version,
from version 0, idempotent under replay, and a removal recorded as a critical event."""

from __future__ import annotations

import json
import re
import secrets
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from aws_lambda_powertools import Metrics
from test_history_consumer import stream_records, table_items

from ledger.api.audit_views import audit_record_view
from ledger.consumers.audit import AuditConsumer
from ledger.consumers.history import HistoryConsumer
from ledger.domain.audit import first_break
from ledger.domain.errors import ValidationError
from ledger.domain.ids import parse_account_id
from ledger.domain.model import AccountStatus, Actor
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore
from ledger.store.dynamodb.audit import link_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from ledger.local.dynamodb_local import DynamoDBLocal


def fresh_metrics() -> Metrics:
    """Metrics of one test: powertools shares a metric set between instances."""
    metrics = Metrics(namespace="Test")
    metrics.clear_metrics()
    return metrics


@pytest.fixture
def ledger(dynamodb_client: DynamoDBClient, local_table: str) -> Ledger:
    return Ledger(DynamoDBStore(local_table, client=dynamodb_client))


@pytest.fixture
def consumer(dynamodb_client: DynamoDBClient, local_table: str) -> AuditConsumer:
    return AuditConsumer(local_table, dynamodb_client, metrics=fresh_metrics())


def audited_book(ledger: Ledger) -> dict[str, str]:
    """Deposits, transfers, a sharded revenue account, a hold and its confirm, and a
    suspension. Returns the account ids by name."""
    book = ledger.create_ledger("Audit", owner_id=f"owner-{secrets.token_hex(4)}")
    alice = ledger.create_account(book.id, "alice", "liability", "USD")
    bob = ledger.create_account(book.id, "bob", "liability", "USD")
    revenue = ledger.create_account(
        book.id, "revenue", "revenue", "USD", overdraft="allow", shards=4
    )
    actor = Actor(key_id="key_test", role="operator", request_id="req-1")
    ledger.deposit(alice.id, "100.00", actor=actor)
    ledger.transfer(alice.id, bob.id, "30.00")
    for _ in range(3):
        ledger.transfer(alice.id, revenue.id, "1.00")
    held = ledger.hold(alice.id, "10.00")
    ledger.confirm_hold(held.id, "4.00")
    ledger.update_account(bob.id, status=AccountStatus.SUSPENDED)
    return {"alice": alice.id, "bob": bob.id, "revenue": revenue.id}


def chains(client: DynamoDBClient, table: str) -> dict[str, list[Any]]:
    by_item: dict[str, list[Any]] = defaultdict(list)
    for item in table_items(client, table, "AUDIT#"):
        if not item["pk"]["S"].startswith("AUDIT#LEDGER#"):
            by_item[item["pk"]["S"]].append(link_of(item))
    return by_item


def test_every_item_version_is_one_chained_record_and_a_replay_changes_nothing(
    dynamodb_local: DynamoDBLocal,
    dynamodb_client: DynamoDBClient,
    local_table: str,
    ledger: Ledger,
    consumer: AuditConsumer,
) -> None:
    # GIVEN a busy ledger's stream
    ids = audited_book(ledger)
    records = stream_records(dynamodb_local, dynamodb_client, local_table)
    # WHEN the consumer takes it as one batch
    assert consumer.handle({"Records": records}) == {"batchItemFailures": []}
    found = chains(dynamodb_client, local_table)
    # THEN alice's chain is versions 0..7, opened, with the deposit's actor, intact
    alice = found[f"AUDIT#{ids['alice']}"]
    assert [link.record.version for link in alice] == [0, 1, 2, 3, 4, 5, 6, 7]
    assert [link.record.kind for link in alice] == [
        "open",
        "deposit",
        "transfer",
        "transfer",
        "transfer",
        "transfer",
        "hold",
        "post",
    ]
    assert alice[1].record.actor == {
        "key_id": "key_test",
        "role": "operator",
        "request_id": "req-1",
        "source_ip": None,
        "user_agent": None,
    }
    assert alice[1].record.before["posted"] == "0.00"
    assert alice[1].record.after["posted"] == "100.00"
    assert alice[-1].record.after["posted"] == "63.00"
    # AND bob's suspension is a status record without an actor
    bob = found[f"AUDIT#{ids['bob']}"]
    assert (bob[-1].record.kind, bob[-1].record.status, bob[-1].record.actor) == (
        "status",
        "suspended",
        None,
    )
    # AND the sharded account has a chain per item, each from version 0
    revenue_items = [pk for pk in found if pk.startswith(f"AUDIT#{ids['revenue']}")]
    assert len(revenue_items) == 4
    for links in found.values():
        assert first_break((link.record, link.hash) for link in links) is None
    # WHEN the batch is delivered again, and then each record alone, newest first
    assert consumer.handle({"Records": records}) == {"batchItemFailures": []}
    for record in reversed(records):
        assert consumer.handle({"Records": [record]}) == {"batchItemFailures": []}
    # THEN nothing changed and nothing was counted as a conflict
    assert chains(dynamodb_client, local_table) == found
    assert "AuditRecordConflict" not in consumer.metrics.metric_set


def test_a_removed_financial_item_is_a_critical_event_of_its_ledger(
    dynamodb_local: DynamoDBLocal,
    dynamodb_client: DynamoDBClient,
    local_table: str,
    ledger: Ledger,
    consumer: AuditConsumer,
) -> None:
    # GIVEN an account whose item someone deletes
    ids = audited_book(ledger)
    dynamodb_client.delete_item(
        TableName=local_table,
        Key={"pk": {"S": f"ACCOUNT#{ids['bob']}"}, "sk": {"S": "ACCOUNT"}},
    )
    records = stream_records(dynamodb_local, dynamodb_client, local_table)
    # WHEN the consumer takes the stream, twice
    assert consumer.handle({"Records": records}) == {"batchItemFailures": []}
    assert consumer.handle({"Records": records}) == {"batchItemFailures": []}
    # THEN one critical event of its ledger names the removed item, counted once
    ledger_id = parse_account_id(ids["bob"]).ledger_id
    events = table_items(dynamodb_client, local_table, "AUDIT#LEDGER#")
    assert [
        (item["pk"]["S"], item["removed_pk"]["S"], item["severity"]["S"]) for item in events
    ] == [(f"AUDIT#LEDGER#{ledger_id}", f"ACCOUNT#{ids['bob']}", "critical")]
    assert consumer.metrics.metric_set["FinancialItemRemoved"]["Value"] == [1.0]


def consumed(
    server: DynamoDBLocal, client: DynamoDBClient, table: str, consumer: AuditConsumer
) -> None:
    """Everything on the stream so far through the consumer, as one batch."""
    records = stream_records(server, client, table)
    assert consumer.handle({"Records": records}) == {"batchItemFailures": []}


def rewrite(client: DynamoDBClient, table: str, key: dict[str, str], name: str, value: Any) -> None:
    client.update_item(
        TableName=table,
        Key={part: {"S": text} for part, text in key.items()},
        UpdateExpression="SET #name = :value",
        ExpressionAttributeNames={"#name": name},
        ExpressionAttributeValues={":value": value},
    )


def test_verify_holds_then_finds_a_rewritten_record_and_a_rewritten_balance(
    dynamodb_local: DynamoDBLocal,
    dynamodb_client: DynamoDBClient,
    local_table: str,
    ledger: Ledger,
    consumer: AuditConsumer,
) -> None:
    # GIVEN a busy ledger, its stream through the consumer
    ids = audited_book(ledger)
    consumed(dynamodb_local, dynamodb_client, local_table, consumer)
    # THEN every account verifies, the sharded one over its four chains
    for account_id in ids.values():
        result = ledger.verify_audit(account_id)
        assert (result.ok, result.first_bad_version) == (True, None), result
    assert ledger.verify_audit(ids["alice"]).records == 8
    # WHEN alice's version-3 audit record is rewritten to say more was left
    amounts = {"M": {"posted": {"S": "99.00"}}}
    rewrite(
        dynamodb_client,
        local_table,
        {"pk": f"AUDIT#{ids['alice']}", "sk": f"{3:012d}"},
        "after",
        amounts,
    )
    # THEN verification finds version 3
    broken = ledger.verify_audit(ids["alice"])
    assert (broken.ok, broken.first_bad_version) == (False, 3)
    # WHEN the history consumer has written bob's history and his version-2 record is
    # rewritten
    history = HistoryConsumer(local_table, dynamodb_client, metrics=fresh_metrics())
    records = stream_records(dynamodb_local, dynamodb_client, local_table)
    assert history.handle({"Records": records}) == {"batchItemFailures": []}
    assert ledger.verify_audit(ids["bob"]).ok
    history_key = {"pk": f"HISTORY#{ids['bob']}", "sk": f"{2:012d}"}
    rewrite(dynamodb_client, local_table, history_key, "posted_credits", {"N": "1"})
    # THEN verification finds version 2
    result = ledger.verify_audit(ids["bob"])
    assert (result.ok, result.first_bad_version) == (False, 2)
    rewrite(dynamodb_client, local_table, history_key, "posted_credits", {"N": "3000"})
    assert ledger.verify_audit(ids["bob"]).ok
    # WHEN bob's balance is rewritten on his account item
    rewrite(
        dynamodb_client,
        local_table,
        {"pk": f"ACCOUNT#{ids['bob']}", "sk": "ACCOUNT"},
        "posted_credits",
        {"N": "999999"},
    )
    # THEN verification finds bob's current version, the one the chain's head records
    bob = ledger.get_account(ids["bob"])
    result = ledger.verify_audit(ids["bob"])
    assert (result.ok, result.first_bad_version) == (False, bob.version)
    assert result.reason == "the item's balance is not the chain head's"


def test_a_digest_verifies_at_its_time_after_more_writes_and_fails_after_a_rewrite(
    dynamodb_local: DynamoDBLocal,
    dynamodb_client: DynamoDBClient,
    local_table: str,
    ledger: Ledger,
    consumer: AuditConsumer,
) -> None:
    # GIVEN a ledger's digest taken once the consumer caught up
    ids = audited_book(ledger)
    consumed(dynamodb_local, dynamodb_client, local_table, consumer)
    ledger_id = parse_account_id(ids["alice"]).ledger_id
    digest = ledger.audit_digest(ledger_id)
    # (alice, bob, revenue and the USD world)
    assert digest.accounts == 4
    # WHEN more entries land and are audited
    ledger.transfer(ids["alice"], ids["revenue"], "2.00")
    ledger.deposit(ids["alice"], "1.00")
    consumed(dynamodb_local, dynamodb_client, local_table, consumer)
    # THEN the digest still verifies at its time, and today's differs
    assert ledger.verify_audit_digest(ledger_id, digest.digest, digest.at).ok
    assert ledger.audit_digest(ledger_id).digest != digest.digest
    # WHEN an old record of alice is rewritten
    rewrite(
        dynamodb_client,
        local_table,
        {"pk": f"AUDIT#{ids['alice']}", "sk": f"{1:012d}"},
        "kind",
        {"S": "transfer"},
    )
    # THEN the digest no longer verifies, naming alice
    result = ledger.verify_audit_digest(ledger_id, digest.digest, digest.at)
    assert (result.ok, result.first_bad_account_id) == (False, ids["alice"])


def test_audit_pages_follow_each_item_oldest_first_with_sealed_cursors(
    dynamodb_local: DynamoDBLocal,
    dynamodb_client: DynamoDBClient,
    local_table: str,
    ledger: Ledger,
    consumer: AuditConsumer,
) -> None:
    # GIVEN a busy ledger's stream through the consumer
    ids = audited_book(ledger)
    consumed(dynamodb_local, dynamodb_client, local_table, consumer)
    for name, expected in (("alice", 8), ("revenue", None)):
        # WHEN an account's audit is read three records a page
        seen: list[tuple[str, str]] = []
        cursor = None
        for _ in range(20):
            page = ledger.audit_records(ids[name], limit=3, cursor=cursor, caller="key_a")
            seen += [
                (link.record.account_id, f"{link.record.shard}/{link.record.version}")
                for link in page.links
            ]
            cursor = page.next_cursor
            if cursor is None:
                break
        # THEN every record comes once, item by item, each oldest first
        everything = ledger.audit_records(ids[name], limit=100)
        assert seen == [
            (link.record.account_id, f"{link.record.shard}/{link.record.version}")
            for link in everything.links
        ]
        keys = [(link.record.shard, link.record.version) for link in everything.links]
        assert keys == sorted(keys)
        if expected is not None:
            assert len(seen) == expected
    # AND a cursor opens only for its account and caller
    page = ledger.audit_records(ids["alice"], limit=3, caller="key_a")
    assert page.next_cursor is not None
    for account, caller in ((ids["alice"], "key_b"), (ids["bob"], "key_a")):
        with pytest.raises(ValidationError):
            ledger.audit_records(account, limit=3, cursor=page.next_cursor, caller=caller)


def test_the_doc_s_verifier_holds_on_a_chain_the_ledger_wrote_and_finds_a_rewrite(
    dynamodb_local: DynamoDBLocal,
    dynamodb_client: DynamoDBClient,
    local_table: str,
    ledger: Ledger,
    consumer: AuditConsumer,
) -> None:
    # GIVEN alice's chain as the audit route answers it, through JSON
    ids = audited_book(ledger)
    consumed(dynamodb_local, dynamodb_client, local_table, consumer)
    page = ledger.audit_records(ids["alice"], limit=100)
    answered = json.loads(json.dumps([audit_record_view(link) for link in page.links]))
    block = re.search(
        r"<!-- audit: verifier -->\n```python\n(?P<code>.*?)^```$",
        (Path(__file__).parents[2] / "docs" / "audit.md").read_text(),
        re.S | re.M,
    )
    assert block is not None
    namespace: dict[str, Any] = {"__name__": "audit_verifier"}
    exec(compile(block.group("code"), "docs/audit.md", "exec"), namespace)
    # WHEN / THEN the standalone script finds it intact
    assert namespace["verify"](answered) is None
    # AND finds a record rewritten in the saved copy at its version
    answered[4]["after"]["posted"] = "1000000.00"
    assert namespace["verify"](answered) == 4
