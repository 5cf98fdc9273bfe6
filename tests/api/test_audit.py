"""The audit routes over HTTP: shapes, cursors, verification, digests, 404s."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from aws_lambda_powertools import Metrics

from ledger.consumers.audit import AuditConsumer
from ledger.domain import limits
from ledger.domain.ids import new_ledger_id, parse_account_id

from .builders import new_account, new_ledger
from .harness import Api

record_fields = {
    "account_id",
    "shard",
    "version",
    "entry_id",
    "kind",
    "actor",
    "before",
    "after",
    "recorded_at",
    "status",
    "previous_hash",
    "hash",
}


def audited(api: Api, account_id: str) -> None:
    """The account item's INSERT through the audit consumer: its chain's first record."""
    client = api.key_store.client
    key = {"pk": {"S": f"ACCOUNT#{account_id}"}, "sk": {"S": "ACCOUNT"}}
    item = client.get_item(TableName=api.table_name, Key=key, ConsistentRead=True)["Item"]
    record: dict[str, Any] = {
        "eventID": secrets.token_hex(8),
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "Keys": key,
            "NewImage": item,
            "SequenceNumber": str(secrets.randbelow(10**20)),
            "SizeBytes": 100,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
            "ApproximateCreationDateTime": 1.0,
        },
    }
    metrics = Metrics(namespace="Test")
    metrics.clear_metrics()
    consumer = AuditConsumer(api.table_name, client, metrics=metrics)
    assert consumer.handle({"Records": [record]}) == {"batchItemFailures": []}


def test_an_account_s_audit_lists_its_records_and_verifies(api: Api) -> None:
    # GIVEN an account whose opening the audit consumer recorded
    ledger_id = new_ledger(api)
    wallet = new_account(api, ledger_id)
    audited(api, wallet)
    # WHEN its audit is listed
    reply = api.call("GET", f"/v1/accounts/{wallet}/audit")
    # THEN the one record has every canonical field and its hashes
    assert reply.status == 200, reply.json
    assert reply.json["next_cursor"] is None
    (record,) = reply.json["items"]
    assert set(record) == record_fields
    assert (record["version"], record["kind"], record["shard"]) == ("0", "open", "0")
    assert record["previous_hash"] == "0" * 64
    assert record["after"]["posted"] == "0.00"
    # AND it verifies, its head being that record
    verified = api.call("GET", f"/v1/accounts/{wallet}/audit/verify")
    assert (verified.status, verified.json) == (
        200,
        {
            "ok": True,
            "records": 1,
            "head_hash": record["hash"],
            "first_bad_version": None,
            "reason": None,
        },
    )


def test_an_account_without_records_does_not_verify(api: Api) -> None:
    # GIVEN an account the consumer has not recorded yet
    wallet = new_account(api, new_ledger(api))
    # WHEN it is verified
    reply = api.call("GET", f"/v1/accounts/{wallet}/audit/verify")
    # THEN it is not ok, from its version 0
    assert reply.status == 200
    assert (reply.json["ok"], reply.json["first_bad_version"]) == (False, 0)
    assert reply.json["reason"] == "the item has no audit record"


def test_a_ledger_digest_verifies_at_its_time_and_another_does_not(api: Api) -> None:
    # GIVEN a ledger of two recorded accounts
    ledger_id = new_ledger(api)
    for _ in range(2):
        audited(api, new_account(api, ledger_id))
    # WHEN its digest is taken
    reply = api.call("GET", f"/v1/ledgers/{ledger_id}/audit/digest")
    # THEN it names the ledger, its accounts (and the world) and a time
    assert reply.status == 200, reply.json
    assert set(reply.json) == {"ledger_id", "digest", "accounts", "at"}
    assert (reply.json["ledger_id"], reply.json["accounts"]) == (ledger_id, 3)
    kept = {"digest": reply.json["digest"], "at": reply.json["at"]}
    # AND it verifies, and another digest does not
    path = f"/v1/ledgers/{ledger_id}/audit/digest/verify"
    assert api.call("POST", path, kept).json == {"ok": True, "first_bad_account_id": None}
    other = api.call("POST", path, {**kept, "digest": "f" * 64})
    assert (other.status, other.json) == (200, {"ok": False, "first_bad_account_id": None})


def test_a_digest_that_is_not_one_is_refused(api: Api) -> None:
    # GIVEN a ledger
    ledger_id = new_ledger(api)
    # WHEN a digest of the wrong form is verified
    reply = api.call(
        "POST",
        f"/v1/ledgers/{ledger_id}/audit/digest/verify",
        {"digest": "xyz", "at": "2026-01-01T00:00:00Z"},
    )
    # THEN it is a validation error naming the digest
    status, code, details = reply.error()
    assert (status, code, details.get("field")) == (400, "validation_error", "digest")


def test_the_audit_of_an_unknown_account_or_ledger_is_404(api: Api) -> None:
    # GIVEN an account id of a real ledger that was never opened, and an unknown ledger
    ledger_id = new_ledger(api)
    wallet = new_account(api, ledger_id)
    ref = parse_account_id(wallet)
    missing = wallet[:-4] + ("aaaa" if not wallet.endswith("aaaa") else "bbbb")
    unknown_ledger = new_ledger_id(None, None)
    assert parse_account_id(missing).ledger_id == ref.ledger_id
    # WHEN / THEN each audit route answers 404
    for method, path, body in (
        ("GET", f"/v1/accounts/{missing}/audit", None),
        ("GET", f"/v1/accounts/{missing}/audit/verify", None),
        ("GET", f"/v1/ledgers/{unknown_ledger}/audit/digest", None),
        (
            "POST",
            f"/v1/ledgers/{unknown_ledger}/audit/digest/verify",
            {"digest": "0" * 64, "at": "2026-01-01T00:00:00Z"},
        ),
    ):
        reply = api.call(method, path, body)
        assert reply.error()[:2] == (404, "not_found"), (path, reply.json)


def test_a_chain_longer_than_the_bound_is_refused_naming_it(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a recorded account, and a bound of no record at all
    wallet = new_account(api, new_ledger(api))
    audited(api, wallet)
    monkeypatch.setattr(limits, "audit_chain_records_max", 0)
    # WHEN it is verified
    reply = api.call("GET", f"/v1/accounts/{wallet}/audit/verify")
    # THEN it is refused as too large, naming the bound and the item
    status, code, details = reply.error()
    assert (status, code) == (422, "report_too_large")
    assert details == {"limit": 0, "account_id": wallet, "shard": 0}
