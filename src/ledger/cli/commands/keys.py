"""`ledger keys create|list|show|revoke`: API keys on the table itself, so the first admin
key can exist before any API key does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click
from botocore.exceptions import BotoCoreError, ClientError

from ledger.auth.api_keys import ApiKey, KeyStore, Role
from ledger.cli.commands.common import reporting
from ledger.cli.commands.output import echo_object, echo_page, field
from ledger.cli.commands.table import table_client
from ledger.domain import limits
from ledger.local.dev import default_table_name

F = TypeVar("F", bound=Callable[..., object])

dynamodb_errors = (BotoCoreError, ClientError)
key_columns = [
    field(name) for name in ("id", "role", "status", "ledger_ids", "owner_id", "created_at")
]


def table_options(command: F) -> F:
    """--table-name and --endpoint-url: which table, and where (AWS or DynamoDB Local)."""
    command = click.option(
        "--endpoint-url",
        envvar="AWS_ENDPOINT_URL_DYNAMODB",
        help="A DynamoDB Local endpoint, as `ledger dev` prints it "
        "(env AWS_ENDPOINT_URL_DYNAMODB; default: AWS with your credentials).",
    )(command)
    command = click.option(
        "--table-name",
        envvar="LEDGER_TABLE_NAME",
        default=default_table_name,
        show_default=True,
        help="The ledger's table (env LEDGER_TABLE_NAME).",
    )(command)
    return click.option("--json", "as_json", is_flag=True, help="Print JSON.")(command)


def key_store(table_name: str, endpoint_url: str | None) -> KeyStore:
    """The table's keys, on AWS or, given an endpoint, on DynamoDB Local."""
    return KeyStore(table_name, table_client(endpoint_url))


def key_record(key: ApiKey) -> dict[str, Any]:
    """What the table knows of a key, never its secret."""
    return {
        "id": key.id,
        "role": key.role.value,
        "ledger_ids": list(key.ledger_ids),
        "owner_id": key.owner_id,
        "status": key.status.value,
        "created_at": key.created_at.isoformat(),
    }


@click.group()
def keys() -> None:
    """Create, list, show and revoke API keys in the ledger's table."""


@keys.command("create")
@click.option("--role", type=click.Choice([role.value for role in Role]), required=True)
@click.option("--ledger-id", "ledger_ids", multiple=True, help="A ledger in scope; repeatable.")
@click.option("--owner-id", help="Limit the key to one owner's accounts.")
@table_options
def create_key(
    *,
    role: str,
    ledger_ids: tuple[str, ...],
    owner_id: str | None,
    table_name: str,
    endpoint_url: str | None,
    as_json: bool,
) -> None:
    """Create an API key and print its secret, this once."""
    with reporting(dynamodb_errors):
        key, secret = key_store(table_name, endpoint_url).create(
            role, ledger_ids=ledger_ids, owner_id=owner_id, created_by="cli"
        )
    echo_object({**key_record(key), "key": secret}, as_json)
    click.echo(
        "Store the key now: it is not shown again, the table keeps only its sha256.", err=True
    )


@keys.command("revoke")
@click.argument("key_id")
@table_options
def revoke_key(key_id: str, table_name: str, endpoint_url: str | None, as_json: bool) -> None:
    """Revoke the API key KEY_ID for good."""
    with reporting(dynamodb_errors):
        key = key_store(table_name, endpoint_url).revoke(key_id)
    echo_object(key_record(key), as_json)


@keys.command("list")
@click.option(
    "--limit",
    type=click.IntRange(1, limits.page_size_max),
    default=limits.page_size_default,
    show_default=True,
)
@click.option("--cursor", help="Continue where the last page ended.")
@table_options
def list_keys(
    *, limit: int, cursor: str | None, table_name: str, endpoint_url: str | None, as_json: bool
) -> None:
    """List the table's API keys, oldest first, active and revoked; never a secret."""
    with reporting(dynamodb_errors):
        page = key_store(table_name, endpoint_url).list_keys(limit=limit, cursor=cursor)
    echo_page(
        {"items": [key_record(key) for key in page.items], "next_cursor": page.next_cursor},
        key_columns,
        as_json,
    )


@keys.command("show")
@click.argument("key_id")
@table_options
def show_key(key_id: str, table_name: str, endpoint_url: str | None, as_json: bool) -> None:
    """Show the API key KEY_ID; never its secret."""
    with reporting(dynamodb_errors):
        key = key_store(table_name, endpoint_url).get(key_id)
    echo_object(key_record(key), as_json)
