"""`ledger keys create|list|show|revoke` against DynamoDB Local: the table holds a key's
sha256 only, and nothing the commands print is a secret but the one just created."""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner, Result

from ledger.cli import main

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

pytestmark = pytest.mark.dynamodb_local


def run(dynamodb_client: DynamoDBClient, table: str, *arguments: str) -> Result:
    """`ledger keys ARGUMENTS` on the table, through the session's DynamoDB Local."""
    endpoint = dynamodb_client.meta.endpoint_url
    return CliRunner().invoke(
        main,
        ["keys", *arguments],
        env={"LEDGER_TABLE_NAME": table, "AWS_ENDPOINT_URL_DYNAMODB": endpoint},
    )


def every_item(dynamodb_client: DynamoDBClient, table: str) -> list[dict[str, Any]]:
    """The whole (small) table."""
    return list(dynamodb_client.scan(TableName=table, ConsistentRead=True)["Items"])


def test_keys_create_prints_the_secret_and_stores_only_its_digest(
    dynamodb_client: DynamoDBClient, local_table: str
) -> None:
    # GIVEN an empty ledger table
    # WHEN creating an admin key from the CLI
    result = run(dynamodb_client, local_table, "create", "--role", "admin", "--json")
    # THEN the secret is printed once, with a note that it is not stored
    assert result.exit_code == 0, result.output
    created = json.loads(result.stdout)
    secret = created["key"]
    assert secret.startswith("lk_")
    assert created["role"] == "admin"
    assert "not shown again" in result.stderr
    # AND the table holds the key under its sha256, and the secret nowhere
    items = every_item(dynamodb_client, local_table)
    digest = hashlib.sha256(secret.encode()).hexdigest()
    assert {"S": f"KEY#{digest}"} in [item["pk"] for item in items]
    assert secret not in json.dumps(items)


def test_keys_create_with_a_scope_prints_key_value_lines(
    dynamodb_client: DynamoDBClient, local_table: str
) -> None:
    # GIVEN an empty ledger table
    # WHEN creating an operator key scoped to one owner, printed as text
    result = run(
        dynamodb_client, local_table, "create", "--role", "operator", "--owner-id", "owner-7"
    )
    # THEN its id, scope and secret are `key: value` lines
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.stdout.splitlines())
    assert lines["role"] == "operator"
    assert lines["owner_id"] == "owner-7"
    assert lines["id"].startswith("key_")
    assert lines["key"].startswith("lk_")


def test_keys_revoke_marks_the_key_revoked(
    dynamodb_client: DynamoDBClient, local_table: str
) -> None:
    # GIVEN a reader key
    created = json.loads(
        run(dynamodb_client, local_table, "create", "--role", "reader", "--json").stdout
    )
    # WHEN revoking it by id
    result = run(dynamodb_client, local_table, "revoke", created["id"], "--json")
    # THEN it is revoked, in the output and in the table
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["status"] == "revoked"
    statuses = [
        item["status"]["S"]
        for item in every_item(dynamodb_client, local_table)
        if item.get("key_id") == {"S": created["id"]}
    ]
    assert statuses == ["revoked"]


def test_keys_revoke_of_an_unknown_key_exits_1(
    dynamodb_client: DynamoDBClient, local_table: str
) -> None:
    # GIVEN a table without that key
    # WHEN revoking it
    result = run(dynamodb_client, local_table, "revoke", "key_unknown")
    # THEN not_found is reported on stderr with status 1
    assert result.exit_code == 1
    assert result.stderr.startswith("error: not_found: ")


def test_keys_create_on_a_missing_table_exits_1(dynamodb_client: DynamoDBClient) -> None:
    # GIVEN a table name that does not exist
    # WHEN creating a key in it
    result = run(dynamodb_client, "ledger-missing-table", "create", "--role", "admin")
    # THEN DynamoDB's refusal is reported with status 1, and no secret is printed
    assert result.exit_code == 1
    assert result.stderr.startswith("error: ResourceNotFoundException: ")
    assert "lk_" not in result.stdout


def test_keys_list_and_show_print_records_never_secrets(
    dynamodb_client: DynamoDBClient, local_table: str
) -> None:
    # GIVEN three keys, one of them revoked
    created = [
        json.loads(run(dynamodb_client, local_table, "create", "--role", role, "--json").stdout)
        for role in ("admin", "reader", "operator")
    ]
    run(dynamodb_client, local_table, "revoke", created[1]["id"])

    # WHEN the keys are listed two at a time, and one is shown
    first = run(dynamodb_client, local_table, "list", "--limit", "2", "--json")
    cursor = json.loads(first.stdout)["next_cursor"]
    rest = run(dynamodb_client, local_table, "list", "--cursor", cursor)
    shown = run(dynamodb_client, local_table, "show", created[1]["id"])

    # THEN the pages hold every key once, oldest first, as records without secrets
    assert (first.exit_code, rest.exit_code, shown.exit_code) == (0, 0, 0), first.output
    ids = [item["id"] for item in json.loads(first.stdout)["items"]]
    header, row = rest.stdout.splitlines()
    assert header.split() == ["ID", "ROLE", "STATUS", "LEDGER_IDS", "OWNER_ID", "CREATED_AT"]
    assert [*ids, row.split()[0]] == [key["id"] for key in created]
    printed = first.stdout + rest.stdout + shown.stdout
    assert all(key["key"] not in printed for key in created)
    # AND the key shown is revoked
    lines = dict(line.split(": ", 1) for line in shown.stdout.splitlines())
    assert (lines["id"], lines["status"]) == (created[1]["id"], "revoked")
