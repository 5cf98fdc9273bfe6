"""The DynamoDB store and its single-table schema."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ledger.store.dynamodb.store import DynamoDBStore
    from ledger.store.dynamodb.table import ensure_table, table_definition

# Loaded on first use: the authorizer imports `ledger.store.dynamodb.client` alone, and
# the store would bring the codec, the plan's steps and the records into its cold start.
_homes = {
    "DynamoDBStore": "ledger.store.dynamodb.store",
    "ensure_table": "ledger.store.dynamodb.table",
    "table_definition": "ledger.store.dynamodb.table",
}

__all__ = ["DynamoDBStore", "ensure_table", "table_definition"]

if not TYPE_CHECKING:
    # Hidden from type checkers, which see the imports above: a misspelt name stays an error.

    def __getattr__(name: str) -> Any:
        """A re-exported name, imported from its module on first use."""
        home = _homes.get(name)
        if home is None:
            raise AttributeError(f"module 'ledger.store.dynamodb' has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        globals()[name] = value
        return value
