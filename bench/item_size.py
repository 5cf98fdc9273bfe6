"""What DynamoDB bills for a write: an item's size, and the write request units it costs.

Item size, per "DynamoDB item sizes and formats"
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
the sum of every attribute's name (UTF-8 bytes) and value, where a string is its UTF-8 bytes,
a number 1 byte per two significant digits (leading and trailing zeroes trimmed) plus 1, a
binary its raw bytes, a boolean or null 1 byte, a list or map 3 bytes plus its elements
(a map's element names included) plus 1 byte per element, and a set the sum of its elements.

Write units: 1 per 1 KB (1,024 bytes) of the item, rounded up per item; a transactional
write costs twice that. A global secondary index costs its own write of the projected item
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.Writes), 1 per
KB and never transactional: a put when the item enters the index, a delete when it leaves,
both when its index key changes, nothing when the projected attributes stay the same. The
ledger's indexes are keys-only (the table's key and the index's key), so an update that
leaves an item's index keys alone costs its indexes nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
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


Item = Mapping[str, Mapping[str, Any]]


def _projection(item: Item | None, index: str) -> dict[str, Mapping[str, Any]] | None:
    """The keys-only entry the index holds for the item, or None if the item is not in it."""
    keys = (f"{index}pk", f"{index}sk")
    if item is None or not all(key in item for key in keys):
        return None
    return {name: item[name] for name in (partition_key, sort_key, *keys) if name in item}


def index_writes(
    before: Item | None, after: Item | None, names: Iterable[str] = indexes
) -> list[int]:
    """Bytes of each index write a write makes, from the item before and after it (None: no
    item): entering an index is a put, leaving it a delete, changing its keys both; keeping
    them (the projection is keys only) writes nothing."""
    sizes = []
    for index in names:
        old, new = _projection(before, index), _projection(after, index)
        if old == new:
            continue
        if old is not None:
            sizes.append(item_size(old))
        if new is not None:
            sizes.append(item_size(new))
    return sizes


def write_units(before: Item | None, after: Item | None, transactional: bool) -> int:
    """Units of one item's write: the item (after it, or before it for a delete) and its index
    writes."""
    factor = transactional_factor if transactional else 1
    table = units_of(item_size(after if after is not None else before or {}), factor)
    return table + sum(units_of(size) for size in index_writes(before, after))


def write_units_floor(before: Item | None, after: Item | None, transactional: bool) -> int:
    """What the write would cost if every item fit in 1 KB: 2 (1 outside a transaction),
    +1 per index write."""
    factor = transactional_factor if transactional else 1
    return factor + len(index_writes(before, after))
