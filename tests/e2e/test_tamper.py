"""Tampering under `ledger dev`: one history record, one audit record or one account item
rewritten straight on its DynamoDB Local, past the API, is found by the integrity routes
(audit verify, digest verify, reconciliation), each naming where it is.

Each test takes a ledger of its own, so what it rewrites touches no other test's data.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from ledger.local.dynamodb_local import make_client

from .builders import call, deposit, new_account, new_ledger, ok, reconciled_soon
from .conftest import DevServer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.xdist_group("e2e")

# A rewrite adds this many minor units (100.00 USD) to one credit total.
forged_minor = 10000


@pytest.fixture(scope="module")
def table(dev_server: DevServer) -> DynamoDBClient:
    """A client of the dev server's own DynamoDB Local, for writes the API would never make."""
    return make_client(dev_server.dynamodb_endpoint)


def funded_wallet(server: DevServer, ledger_id: str, amounts: tuple[str, ...]) -> str:
    """A fresh wallet with one deposit per amount: version `len(amounts)`."""
    wallet = new_account(server, ledger_id)
    for amount in amounts:
        deposit(server, wallet, amount)
    return wallet


def caught_up(server: DevServer, ledger_id: str) -> None:
    """Wait (bounded) until the ledger's history and audit chains hold every item's version."""
    report = reconciled_soon(server, ledger_id)
    assert (report["ok"], report["mismatches"]) == (True, []), report
    assert report["checks"] == ["journal", "history", "audit"]


def forge_credits(table: DynamoDBClient, server: DevServer, pk: str, sk: str) -> int:
    """Add `forged_minor` to `posted_credits` of one item; the credits it held before."""
    answer = table.update_item(
        TableName=server.table_name,
        Key={"pk": {"S": pk}, "sk": {"S": sk}},
        UpdateExpression="ADD posted_credits :forged",
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues={":forged": {"N": str(forged_minor)}},
        ReturnValues="UPDATED_OLD",
    )
    return int(answer["Attributes"]["posted_credits"]["N"])


def verify(server: DevServer, account_id: str) -> dict[str, Any]:
    found: dict[str, Any] = ok(call(server, "GET", f"/v1/accounts/{account_id}/audit/verify"))
    return found


def reconcile(server: DevServer, ledger_id: str) -> dict[str, Any]:
    found: dict[str, Any] = ok(call(server, "POST", f"/v1/ledgers/{ledger_id}/reconciliations"))
    return found


def mismatches_of(report: dict[str, Any], account_id: str) -> list[dict[str, Any]]:
    return [each for each in report["mismatches"] if each["account_id"] == account_id]


def test_a_rewritten_history_record_is_found_by_reconciliation_and_audit_verify(
    dev_server: DevServer, table: DynamoDBClient
) -> None:
    # GIVEN two wallets of a fresh ledger with three deposits each, projections caught up
    ledger_id = new_ledger(dev_server)
    latest = funded_wallet(dev_server, ledger_id, ("10.00", "2.50", "5.00"))
    middle = funded_wallet(dev_server, ledger_id, ("10.00", "2.50", "5.00"))
    caught_up(dev_server, ledger_id)
    assert verify(dev_server, latest)["ok"] is True

    # WHEN the balance of one wallet's latest history record (version 3) and of the other's
    # version 2 are rewritten in the table
    before = forge_credits(table, dev_server, f"HISTORY#{latest}", f"{3:012d}")
    forge_credits(table, dev_server, f"HISTORY#{middle}", f"{2:012d}")
    assert before == 1750

    # THEN reconciliation reports the latest record against the item, as a history mismatch
    report = reconcile(dev_server, ledger_id)
    assert report["ok"] is False
    assert report["checks"] == ["journal", "history", "audit"]
    assert mismatches_of(report, latest) == [
        {
            "account_id": latest,
            "field": "posted_credits",
            "expected": "17.50",
            "actual": "117.50",
            "kind": "history",
            "shard": 0,
            "missing_versions": [],
        }
    ]
    # AND audit verify names the version rewritten in each wallet's history
    for wallet, version in ((latest, 3), (middle, 2)):
        verified = verify(dev_server, wallet)
        assert verified["ok"] is False, verified
        assert verified["first_bad_version"] == version
        assert verified["reason"] == "the history record is not the audit record's balance"
        assert verified["records"] == 4


def test_a_rewritten_audit_record_is_found_by_audit_verify_and_a_digest_kept_before(
    dev_server: DevServer, table: DynamoDBClient
) -> None:
    # GIVEN a wallet with three deposits, its chain caught up, and the ledger's digest kept
    ledger_id = new_ledger(dev_server)
    wallet = funded_wallet(dev_server, ledger_id, ("10.00", "2.50", "5.00"))
    caught_up(dev_server, ledger_id)
    digest = ok(call(dev_server, "GET", f"/v1/ledgers/{ledger_id}/audit/digest"))
    kept = {"digest": digest["digest"], "at": digest["at"]}
    digest_path = f"/v1/ledgers/{ledger_id}/audit/digest/verify"
    assert ok(call(dev_server, "POST", digest_path, kept))["ok"] is True
    head_hash = verify(dev_server, wallet)["head_hash"]

    # WHEN the `after` balance of its version 2 audit record is rewritten in the table
    answer = table.update_item(
        TableName=dev_server.table_name,
        Key={"pk": {"S": f"AUDIT#{wallet}"}, "sk": {"S": f"{2:012d}"}},
        UpdateExpression="SET #after.#posted = :forged",
        ConditionExpression="#after.#posted = :recorded",
        ExpressionAttributeNames={"#after": "after", "#posted": "posted"},
        ExpressionAttributeValues={":forged": {"S": "112.50"}, ":recorded": {"S": "12.50"}},
        ReturnValues="UPDATED_NEW",
    )
    assert answer["Attributes"]["after"]["M"]["posted"] == {"S": "112.50"}

    # THEN audit verify finds the chain broken at version 2, the stored head unchanged
    verified = verify(dev_server, wallet)
    assert verified["ok"] is False, verified
    assert verified["first_bad_version"] == 2
    assert verified["records"] == 4
    assert verified["head_hash"] == head_hash
    # AND the digest kept before no longer verifies, naming the wallet
    assert ok(call(dev_server, "POST", digest_path, kept)) == {
        "ok": False,
        "first_bad_account_id": wallet,
    }


def test_a_rewritten_account_balance_is_found_by_reconciliation_and_audit_verify(
    dev_server: DevServer, table: DynamoDBClient
) -> None:
    # GIVEN a wallet with two deposits, projections caught up
    ledger_id = new_ledger(dev_server)
    wallet = funded_wallet(dev_server, ledger_id, ("10.00", "2.50"))
    caught_up(dev_server, ledger_id)

    # WHEN its account item's posted credits are rewritten in the table, its version kept
    assert forge_credits(table, dev_server, f"ACCOUNT#{wallet}", "ACCOUNT") == 1250
    assert ok(call(dev_server, "GET", f"/v1/accounts/{wallet}/balance"))["posted"] == "112.50"

    # THEN reconciliation reports it against the journal, its history and its audit chain
    report = reconcile(dev_server, ledger_id)
    assert report["ok"] is False
    assert report["totals"]["USD"]["balanced"] is False
    found = {(each["kind"], each["field"]): each for each in mismatches_of(report, wallet)}
    assert {kind for kind, _ in found} == {"journal", "history", "audit"}
    journal = found["journal", "posted_credits"]
    assert (journal["expected"], journal["actual"]) == ("12.50", "112.50")
    history = found["history", "posted_credits"]
    assert (history["expected"], history["actual"]) == ("112.50", "12.50")
    audit = found["audit", "posted"]
    assert (audit["expected"], audit["actual"]) == ("112.50", "12.50")
    # AND audit verify finds the head's balance is not the item's, at the item's version
    verified = verify(dev_server, wallet)
    assert verified["ok"] is False, verified
    assert verified["first_bad_version"] == 2
    assert verified["reason"] == "the item's balance is not the chain head's"
