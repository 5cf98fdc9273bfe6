"""Commands that work on the ledger's table directly, in this process, instead of through
the API: `--table` (which table), `--endpoint-url` (DynamoDB Local, as `ledger dev` prints
it) and `--region` (on AWS), and the store over that table.

They are for operators with access to the table itself: `ledger dev`'s DynamoDB Local, or
AWS credentials allowed to read (and, for commands that write, write) the table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import click

from ledger.environment import projections
from ledger.store.dynamodb.client import default_client
from ledger.store.dynamodb.store import DynamoDBStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

F = TypeVar("F", bound=Callable[..., object])


def table_options(command: F) -> F:
    """--table, --endpoint-url and --region; without --table the command uses the API."""
    options = (
        click.option(
            "--table",
            "table_name",
            metavar="NAME",
            help="Work on the ledger's table NAME directly, in this process, instead of "
            "through the API (`ledger dev`'s table is `ledger`).",
        ),
        click.option(
            "--endpoint-url",
            help="With --table: a DynamoDB Local endpoint, as `ledger dev` prints it "
            "(default: AWS, with your credentials).",
        ),
        click.option("--region", help="With --table on AWS: the table's region."),
    )
    for option in reversed(options):
        command = option(command)
    return command


@dataclass(frozen=True)
class TableAccess:
    """Which table to work on, and where: DynamoDB Local at `endpoint_url`, else AWS."""

    table_name: str
    endpoint_url: str | None = None
    region: str | None = None


def table_access(
    table_name: str | None, endpoint_url: str | None, region: str | None
) -> TableAccess | None:
    """The table the options name; None without --table (the command uses the API)."""
    if table_name is None:
        if endpoint_url is not None or region is not None:
            raise click.UsageError("--endpoint-url and --region go with --table")
        return None
    return TableAccess(table_name, endpoint_url, region)


def table_client(endpoint_url: str | None, region: str | None = None) -> DynamoDBClient:
    """A client for DynamoDB Local at `endpoint_url` (its dummy credentials and region),
    or for AWS in `region` (default: your AWS configuration's)."""
    if endpoint_url is not None:
        # Imported here: boto3 costs most of a second that AWS access does without.
        from ledger.local.dynamodb_local import make_client  # noqa: PLC0415

        return make_client(endpoint_url)
    return default_client(region=region)


def table_store(access: TableAccess) -> DynamoDBStore:
    """The store over the table, checking the projections `LEDGER_PROJECTIONS` names
    (unset: history and audit, as deployed and under `ledger dev`)."""
    client = table_client(access.endpoint_url, access.region)
    return DynamoDBStore(access.table_name, client, projections=projections())
