"""What DynamoDB bills for a write: an item's size, and the write request units it costs.

Item size, per "DynamoDB item sizes and formats"
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
the sum of every attribute's name (UTF-8 bytes) and value, where a string is its UTF-8 bytes,
a number 1 byte per two significant digits (leading and trailing zeroes trimmed) plus 1, a
binary its raw bytes, a boolean or null 1 byte, a list or map 3 bytes plus its elements
(a map's element names included) plus 1 byte per element, and a set the sum of its elements.

Write units: 1 per 1 KB (1,024 bytes) of the item, rounded up per item; a transactional
write costs twice that. A global secondary index costs its own write of the projected item
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.Writes) when a
Put stores an item that carries the index's keys, or when an Update sets or removes one of
its projected attributes; an Update that leaves them alone costs the index nothing. The
ledger's indexes are keys-only, so the projection is the table's key and the index's key,
and only an Update naming an index key attribute writes to the index.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping
from typing import Any

from ledger.store.dynamodb.schema import indexes
from ledger.store.dynamodb.table import partition_key, sort_key

kilobyte = 1024
transactional_factor = 2
container_overhead = 3
element_overhead = 1
scalar_one_byte = ("BOOL", "NULL")


def number_size(text: str) -> int:
    """Bytes of a number: 1 per two significant digits, rounded up, plus 1."""
    mantissa = text.strip().lstrip("+-").lower().split("e")[0]
    digits = mantissa.replace(".", "").strip("0")
    return math.ceil(max(len(digits), 1) / 2) + 1


def value_size(value: Mapping[str, Any]) -> int:
    """Bytes of one attribute value in the low-level format (`{"S": "x"}`), name excluded."""
    ((kind, content),) = value.items()
    if kind == "S":
        return len(content.encode())
    if kind == "N":
        return number_size(content)
    if kind == "B":
        return len(content)
    if kind in scalar_one_byte:
        return 1
    if kind == "SS":
        return sum(len(element.encode()) for element in content)
    if kind == "NS":
        return sum(number_size(element) for element in content)
    if kind == "BS":
        return sum(len(element) for element in content)
    if kind == "L":
        return container_overhead + sum(
            value_size(element) + element_overhead for element in content
        )
    if kind == "M":
        return container_overhead + sum(
            len(name.encode()) + value_size(element) + element_overhead
            for name, element in content.items()
        )
    raise ValueError(f"unknown attribute type {kind!r}")


def item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """Bytes of an item: every attribute's name and value."""
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def units_of(size: int, factor: int = 1) -> int:
    """Write units of one item of `size` bytes: `factor` per started KB, at least one KB."""
    return factor * max(1, math.ceil(size / kilobyte))


# An attribute path's names in an update expression: `#alias` or a bare name, not `:value`.
_expression_name = re.compile(r"(?<![:\w#])#?[A-Za-z_]\w*")
_expression_keywords = frozenset({"SET", "REMOVE", "ADD", "DELETE", "if_not_exists", "list_append"})


def updated_attributes(expression: str, names: Mapping[str, str] | None = None) -> frozenset[str]:
    """The attribute names an UpdateExpression sets, removes, adds or reads."""
    aliases = names or {}
    return frozenset(
        aliases.get(token, token)
        for token in _expression_name.findall(expression)
        if token not in _expression_keywords
    )


def index_writes(
    item: Mapping[str, Mapping[str, Any]],
    updated: Collection[str] | None = None,
    names: Iterable[str] = indexes,
) -> list[int]:
    """Bytes of each index write: every index of a Put's item, or of an Update the indexes
    whose keys it names (a removal deletes the entry, sized as empty)."""
    sizes = []
    for index in names:
        keys = (f"{index}pk", f"{index}sk")
        if updated is not None and not any(key in updated for key in keys):
            continue
        if all(key in item for key in keys):
            projected = (partition_key, sort_key, *keys)
            sizes.append(item_size({name: item[name] for name in projected if name in item}))
        elif updated is not None:
            sizes.append(0)
    return sizes


def write_units(
    item: Mapping[str, Mapping[str, Any]],
    transactional: bool,
    updated: Collection[str] | None = None,
) -> int:
    """Units to write the item (after the write) and its index entries; `updated` is None
    for a Put, else the attributes the Update names."""
    factor = transactional_factor if transactional else 1
    table = units_of(item_size(item), factor)
    return table + sum(units_of(size) for size in index_writes(item, updated))


def write_units_floor(
    item: Mapping[str, Mapping[str, Any]],
    transactional: bool,
    updated: Collection[str] | None = None,
) -> int:
    """What the write would cost if every item fit in 1 KB: 2 (1 outside a transaction),
    +1 per index write."""
    factor = transactional_factor if transactional else 1
    return factor + len(index_writes(item, updated))
