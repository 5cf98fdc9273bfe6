"""The local ledger: DynamoDB Local on disk with the ledger's table, ready for the library."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.local.dynamodb_local import DynamoDBLocal
from ledger.store.dynamodb import ensure_table

if TYPE_CHECKING:
    from collections.abc import Callable

default_table_name = "ledger"
default_data_dir = Path(".ledger")
default_dynamodb_port = 8000


@dataclass(frozen=True)
class DevSettings:
    """Where the local ledger keeps its data and which table it serves."""

    data_dir: Path = default_data_dir
    table_name: str = default_table_name
    dynamodb_port: int | None = None


def usage(endpoint_url: str, table_name: str) -> str:
    """How to reach the local ledger from Python."""
    return f"""\
DynamoDB Local is listening on {endpoint_url} with table {table_name!r}.

Use the ledger from Python while this runs:

    import boto3
    from ledger import Ledger
    from ledger.store.dynamodb import DynamoDBStore

    client = boto3.client("dynamodb", endpoint_url="{endpoint_url}", region_name="us-east-1",
                          aws_access_key_id="local", aws_secret_access_key="local")
    ledger = Ledger(DynamoDBStore("{table_name}", client=client))
    book = ledger.create_ledger("main")
    alice = ledger.create_account(book.id, "Alice", "liability", "USD")
    ledger.deposit(alice.id, "100.00")
    print(ledger.get_balance(alice.id))

Data is kept under the data directory and survives a restart. Press Ctrl-C to stop."""


def run_dev(settings: DevSettings, wait: Callable[[], None], say: Callable[[str], None]) -> None:
    """Start DynamoDB Local on disk, create the table, announce it, and run until `wait` returns."""
    local = DynamoDBLocal(port=settings.dynamodb_port, data_dir=settings.data_dir / "dynamodb")
    with local:
        ensure_table(local.client(), settings.table_name)
        say(usage(local.endpoint_url, settings.table_name))
        wait()
    say("Stopped.")
