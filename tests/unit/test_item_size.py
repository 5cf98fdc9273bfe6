"""Item sizes and write units as DynamoDB bills them, on small hand-made items."""

from __future__ import annotations

from typing import Any

import pytest

from bench.counting import OperationResult, Written, targets_of
from bench.item_size import (
    index_writes,
    item_size,
    number_size,
    units_of,
    value_size,
    write_units,
    write_units_floor,
)
from bench.report import format_item_sizes


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("0", 2),
        ("7", 2),
        ("12", 2),
        ("123", 3),
        ("-123", 3),
        ("1000", 2),
        ("0.0012", 2),
        ("12.345", 4),
        ("1.5E+3", 2),
    ],
)
def test_a_number_is_one_byte_per_two_significant_digits_plus_one(text: str, size: int) -> None:
    assert number_size(text) == size


def test_scalars_are_their_bytes_and_booleans_and_null_one() -> None:
    assert value_size({"S": "abc"}) == 3
    assert value_size({"S": "é"}) == 2
    assert value_size({"B": b"\x00\x01"}) == 2
    assert value_size({"BOOL": False}) == 1
    assert value_size({"NULL": True}) == 1
    assert value_size({"SS": ["ab", "c"]}) == 3
    assert value_size({"NS": ["1", "123"]}) == 5
    assert value_size({"BS": [b"a", b"bc"]}) == 3


def test_lists_and_maps_cost_three_bytes_and_one_per_element() -> None:
    assert value_size({"L": []}) == 3
    assert value_size({"M": {}}) == 3
    # 3 + ("x" 1 + 1 element) + ("yz" 2 + 1 element)
    assert value_size({"L": [{"S": "x"}, {"S": "yz"}]}) == 8
    # 3 + (name "a" 1 + "xy" 2 + 1) + (name "n" 1 + number 12 -> 2 + 1)
    assert value_size({"M": {"a": {"S": "xy"}, "n": {"N": "12"}}}) == 11
    # nested: 3 + (name "m" 1 + empty map 3 + 1)
    assert value_size({"M": {"m": {"M": {}}}}) == 8


def test_an_item_is_its_names_and_values() -> None:
    item: dict[str, Any] = {
        "pk": {"S": "ACCOUNT#a1"},  # 2 + 10
        "sk": {"S": "ACCOUNT"},  # 2 + 7
        "posted": {"N": "-1500"},  # 6 + 2
        "open": {"BOOL": True},  # 4 + 1
    }
    assert item_size(item) == 34
    assert item_size({}) == 0
    with pytest.raises(ValueError, match="unknown attribute type"):
        value_size({"X": "?"})


def test_units_round_up_per_started_kilobyte() -> None:
    assert [units_of(size) for size in (0, 1, 1024, 1025, 2048)] == [1, 1, 1, 2, 2]
    assert units_of(1025, factor=2) == 4


entry: dict[str, Any] = {
    "pk": {"S": "ENTRY#e1"},
    "sk": {"S": "ENTRY"},
    "gsi1pk": {"S": "LEDGER#l1"},
    "gsi1sk": {"S": "e1"},
    "gsi4pk": {"S": "EXPIRY#3"},  # no gsi4sk: not in gsi4
    "memo": {"S": "x" * 1100},
}


# the projected gsi1 entry: pk 2 + 8, sk 2 + 5, gsi1pk 6 + 9, gsi1sk 6 + 2
gsi1_entry = 40


def test_a_new_item_enters_every_index_whose_keys_it_carries() -> None:
    assert index_writes(None, entry) == [gsi1_entry]
    # 2 KB in a transaction: 4, plus the index put: 1; the floor counts 2 + 1
    assert write_units(None, entry, transactional=True) == 5
    assert write_units(None, entry, transactional=False) == 3
    assert write_units_floor(None, entry, transactional=True) == 3


def test_an_update_that_keeps_the_index_keys_writes_no_index() -> None:
    changed = {**entry, "memo": {"S": "short"}}
    assert index_writes(entry, changed) == []
    assert write_units(entry, changed, transactional=True) == 2
    assert write_units_floor(entry, changed, transactional=True) == 2


def test_leaving_an_index_deletes_and_changing_its_keys_deletes_and_puts() -> None:
    left = {name: value for name, value in entry.items() if not name.startswith("gsi1")}
    assert index_writes(entry, left) == [gsi1_entry]
    moved = {**entry, "gsi1sk": {"S": "e22"}}
    assert index_writes(entry, moved) == [gsi1_entry, gsi1_entry + 1]
    assert write_units_floor(entry, moved, transactional=True) == 4
    # a deleted item costs its size before the delete, and leaves its indexes
    assert write_units(entry, None, transactional=True) == 5


def test_the_targets_of_each_write_call_are_keyed_items() -> None:
    key = {"pk": {"S": "A"}, "sk": {"S": "B"}}
    transaction = {
        "TransactItems": [
            {"Put": {"TableName": "t", "Item": {**key, "x": {"N": "1"}}}},
            {"Update": {"TableName": "t", "Key": key, "UpdateExpression": "SET y = :y"}},
            {"Delete": {"TableName": "t", "Key": key}},
            {"ConditionCheck": {"TableName": "t", "Key": key}},
        ]
    }
    assert targets_of("TransactWriteItems", transaction) == [
        Written("t", key, True),
        Written("t", key, True),
        Written("t", key, True, deleted=True),
    ]
    assert targets_of("PutItem", {"TableName": "t", "Item": key}) == [Written("t", key, False)]
    assert targets_of("DeleteItem", {"TableName": "t", "Key": key}) == [
        Written("t", key, False, deleted=True)
    ]
    batch = {
        "RequestItems": {"t": [{"PutRequest": {"Item": key}}, {"DeleteRequest": {"Key": key}}]}
    }
    assert targets_of("BatchWriteItem", batch) == [
        Written("t", key, False),
        Written("t", key, False, deleted=True),
    ]
    assert targets_of("GetItem", {"TableName": "t", "Key": key}) == []


def test_the_bench_says_when_a_transfers_items_exceed_one_kilobyte() -> None:
    def transfer(sizes: tuple[int, ...]) -> dict[str, OperationResult]:
        result = OperationResult({"TransactWriteItems": 1}, 1, 3, 3, 1.0, 1, item_bytes=sizes)
        return {"transfer": result}

    assert format_item_sizes(transfer((1100, 700, 1025))) == (
        "transfer: 2 of 3 items exceed 1 KB (1100, 700, 1025 bytes); each costs more than the floor"
    )
    assert format_item_sizes(transfer((649, 701, 697))) == (
        "transfer: every item fits in 1 KB (649, 701, 697 bytes)"
    )
