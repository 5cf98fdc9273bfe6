"""The DynamoDB store and its single-table schema."""

from ledger.store.dynamodb.store import DynamoDBStore
from ledger.store.dynamodb.table import ensure_table, table_definition

__all__ = ["DynamoDBStore", "ensure_table", "table_definition"]
