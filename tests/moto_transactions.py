"""moto's TransactWriteItems, rolled back by the items it touched, not by copies of tables.

moto backs up every table a transaction names with `copy.deepcopy` (once per action, stream
records included) so that it can restore the table when an action fails. The cost grows
with everything the table has ever held, which made each transaction of a long test
slower than the one before. This keeps moto's semantics (all or nothing, the same errors)
and backs up only what a transaction can change: the items its actions name, and the
length of each table's stream.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from moto.dynamodb import models as backend_module
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

TransactWrite = Callable[[DynamoDBBackend, list[dict[str, Any]]], None]
Slot = tuple[DynamoType, DynamoType | None]


class _TablesStayPut:
    """The `copy` module as moto's backend sees it during a transaction: tables not copied."""

    @staticmethod
    def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
        if isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


def _slot(table: Table, op_type: str, op: dict[str, Any]) -> Slot:
    """Where in `table.items` the item an action names lives."""
    attributes = op["Item"] if op_type == "Put" else op["Key"]
    hash_value = DynamoType(attributes[table.hash_key_attr])
    if table.range_key_attr is None:
        return hash_value, None
    return hash_value, DynamoType(attributes[table.range_key_attr])


class _Backup:
    """The items a transaction's actions name and each table's stream length, before it."""

    def __init__(self, backend: DynamoDBBackend, actions: list[dict[str, Any]]) -> None:
        self.items: dict[tuple[str, Slot], Item | None] = {}
        self.streams: dict[str, int] = {}
        for action in actions:
            op_type, op = next(iter(action.items()))
            table = backend.tables.get(op.get("TableName", ""))
            if table is None or op_type not in {"Put", "Update", "Delete"}:
                continue
            slot = _slot(table, op_type, op)
            if (table.name, slot) not in self.items:
                self.items[table.name, slot] = copy.deepcopy(table.get_item(*slot))
            if table.stream_shard is not None:
                self.streams.setdefault(table.name, len(table.stream_shard.items))

    def restore(self, backend: DynamoDBBackend) -> None:
        for (table_name, (hash_value, range_value)), item in self.items.items():
            items = backend.tables[table_name].items
            if range_value is None:
                if item is None:
                    items.pop(hash_value, None)
                else:
                    items[hash_value] = item  # type: ignore[assignment]
            elif item is None:
                items[hash_value].pop(range_value, None)
            else:
                items[hash_value][range_value] = item
        for table_name, length in self.streams.items():
            shard = backend.tables[table_name].stream_shard
            if shard is not None:
                del shard.items[length:]


def _by_touched_items(original: TransactWrite) -> TransactWrite:
    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        backup = _Backup(self, transact_items)
        vars(backend_module)["copy"] = _TablesStayPut
        try:
            original(self, transact_items)
        except Exception:
            backup.restore(self)
            raise
        finally:
            vars(backend_module)["copy"] = copy

    return transact_write_items


def install() -> None:
    """Replace moto's TransactWriteItems for this process (idempotent)."""
    current = DynamoDBBackend.transact_write_items
    if getattr(current, "rolls_back_touched_items", False):
        return
    replacement: Any = _by_touched_items(current)
    replacement.rolls_back_touched_items = True
    DynamoDBBackend.transact_write_items = replacement  # type: ignore[method-assign]
