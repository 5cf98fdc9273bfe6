"""Records to DynamoDB items and back: exact numbers, optional fields absent when unset."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unit_builders import (
    ETH,
    JPY,
    USD,
    a_ledger,
    a_ledger_id,
    an_account,
    an_account_id,
    an_entry,
    an_entry_id,
    created,
    later,
)

from ledger.domain.model import (
    Account,
    AccountStatus,
    AccountType,
    Entry,
    EntryKind,
    EntryStatus,
    LedgerRecord,
    Line,
    Overdraft,
    OverdraftMode,
    Side,
    Totals,
    totals_fields,
)
from ledger.domain.money import Currency
from ledger.planning.accounts import world_account
from ledger.planning.steps import Claim, ItemKind, Target, claim_id
from ledger.store.dynamodb.codec import decode, encode, number, string
from ledger.store.dynamodb.schema import index_keys, item_key

Record = LedgerRecord | Account | Entry | Claim

# 1.5 ETH plus one wei, and amounts no float can hold.
eth_amount = 1_500_000_000_000_000_001
huge = 10**30


def _full_account() -> Account:
    ledger_id = a_ledger_id()
    return an_account(
        ledger_id=ledger_id,
        account_type=AccountType.LIABILITY,
        currency=ETH,
        status=AccountStatus.SUSPENDED,
        overdraft=Overdraft(OverdraftMode.LIMIT, huge),
        totals=Totals(
            posted_debits=huge - 1,
            posted_credits=huge,
            pending_debits=eth_amount,
            pending_credits=eth_amount + 1,
            held=eth_amount - 7,
            escrowed=7,
        ),
        headroom=-(huge + 3),
        code="2000.wallets:eth",
        parent_id=an_account_id(ledger_id, ETH, Side.CREDIT),
        owner_id="user-42",
        metadata={"tier": "gold", "note": "ünïcode ✓", "": ""},
        last_entry_id=an_entry_id(ledger_id),
        version=123_456_789_012,
    )


def _records() -> list[tuple[str, Record]]:
    ledger_id = a_ledger_id()
    three_lines = Entry(
        id=an_entry_id(ledger_id),
        ledger_id=ledger_id,
        kind=EntryKind.ENTRY,
        status=an_entry().status,
        lines=(
            Line(an_account_id(ledger_id, ETH), Side.DEBIT, eth_amount, "ETH"),
            Line(an_account_id(ledger_id, ETH), Side.CREDIT, huge, "ETH"),
            Line(an_account_id(ledger_id, ETH), Side.CREDIT, eth_amount - huge, "ETH"),
        ),
        effective_at=later,
        created_at=created,
        request_hash="h" * 64,
        description="multi ✓",
        reference="ref#1",
        metadata={"a": "b"},
    )
    return [
        ("ledger-minimal", a_ledger()),
        (
            "ledger-full",
            a_ledger(owner_id="org-1", currencies={"PTS": 0, "GEMS": 18}, metadata={"k": "v"}),
        ),
        ("account-minimal", an_account()),
        ("account-full", _full_account()),
        ("account-world", world_account(a_ledger_id(), JPY, created)),
        ("entry-minimal", an_entry()),
        ("entry-full", an_entry(description="d", reference="r", metadata={"x": "y"})),
        ("entry-eth", three_lines),
        (
            "entry-resolved",
            replace(
                an_entry(),
                status=EntryStatus.POSTED,
                posting_entry_id=an_entry_id(ledger_id),
                posted_amount=huge,
                released_amount=0,
            ),
        ),
        ("code-claim", Claim(ledger_id, "code", "1000.cash", an_account_id(ledger_id))),
        ("key-claim", Claim(ledger_id, "key", "e" * 64, an_account_id(ledger_id))),
    ]


records = _records()


@pytest.mark.parametrize("record", [record for _, record in records], ids=[n for n, _ in records])
def test_every_record_survives_a_round_trip(record: Record) -> None:
    # GIVEN a record of any kind, with optional fields present or absent
    # WHEN encoding it as an item and decoding the item
    decoded = decode(encode(record))
    # THEN the same record comes back, to the last minor unit
    assert decoded == record
    assert type(decoded) is type(record)


@pytest.mark.parametrize("record", [record for _, record in records], ids=[n for n, _ in records])
def test_items_carry_their_primary_and_index_keys(record: Record) -> None:
    # GIVEN a record
    if isinstance(record, Claim):
        target = Target(record.kind, claim_id(record.ledger_id, record.value))
    else:
        kinds: dict[type, ItemKind] = {LedgerRecord: "ledger", Account: "account", Entry: "entry"}
        target = Target(kinds[type(record)], record.id)
    # WHEN encoding it
    item = encode(record)
    # THEN its primary key and every index key it has are string attributes
    expected = {**item_key(target), **index_keys(record)}
    assert {name: item[name] for name in expected} == {
        name: {"S": value} for name, value in expected.items()
    }
    # AND it carries no index key it does not have
    gsi_attributes = {name for name in item if name.startswith("gsi")}
    assert gsi_attributes == set(index_keys(record))


def _walk(value: Any) -> list[Any]:
    """Every nested attribute value of an item."""
    found = [value]
    if isinstance(value, dict):
        for inner in value.values():
            found += _walk(inner)
    elif isinstance(value, list):
        for inner in value:
            found += _walk(inner)
    return found


@pytest.mark.parametrize("record", [record for _, record in records], ids=[n for n, _ in records])
def test_items_hold_no_floats(record: Record) -> None:
    # GIVEN a record
    # WHEN encoding it
    values = _walk(encode(record))
    # THEN no float is anywhere and every number travels as an N string
    assert not any(isinstance(value, float) for value in values)
    numbers = [value["N"] for value in values if isinstance(value, dict) and "N" in value]
    assert all(isinstance(text, str) and text.lstrip("-").isdigit() for text in numbers)


def test_large_amounts_are_exact_number_strings() -> None:
    # GIVEN an account whose totals exceed float precision
    account = _full_account()
    # WHEN encoding it
    item = encode(account)
    # THEN each total is the exact decimal text of the integer
    assert item["posted_credits"] == {"N": "1" + "0" * 30}
    assert item["posted_debits"] == {"N": "9" * 30}
    assert item["pending_debits"] == {"N": str(eth_amount)}
    assert item["headroom"] == {"N": "-1" + "0" * 29 + "3"}
    assert item["credit_limit"] == {"N": str(huge)}
    assert float(item["pending_debits"]["N"]) != eth_amount  # a float would lose the wei


def test_account_items_hold_the_attributes_the_conditions_compare() -> None:
    # GIVEN an account
    account = _full_account()
    # WHEN encoding it
    item = encode(account)
    # THEN status, currency, ledger, overdraft mode and headroom are plain attributes
    assert item["status"] == {"S": "suspended"}
    assert item["currency"] == {"S": "ETH"}
    assert item["scale"] == {"N": "18"}
    assert item["ledger_id"] == {"S": account.ledger_id}
    assert item["overdraft_mode"] == {"S": "limit"}
    assert item["entity"] == {"S": "account"}
    assert set(totals_fields) <= set(item)


@pytest.mark.parametrize(
    ("record", "absent"),
    [
        (a_ledger(), {"owner_id"}),
        (an_account(), {"code", "parent_id", "owner_id", "last_entry_id"}),
        (an_entry(), {"description", "reference", "posted_amount", "released_amount"}),
    ],
    ids=["ledger", "account", "entry"],
)
def test_unset_optional_fields_are_absent_not_null(record: Record, absent: set[str]) -> None:
    # GIVEN a record without its optional fields
    # WHEN encoding it
    item = encode(record)
    # THEN those attributes are missing (DynamoDB indexes and conditions need absence)
    assert absent.isdisjoint(item)
    assert not any(isinstance(value, dict) and "NULL" in value for value in item.values())


def test_timestamps_keep_microseconds() -> None:
    # GIVEN an entry created at a time with microseconds
    entry = an_entry()
    # WHEN encoding it
    item = encode(entry)
    # THEN the stored text has them all
    assert item["created_at"] == {"S": "2026-01-02T03:04:05.678901Z"}


def test_decode_refuses_an_unknown_entity() -> None:
    # GIVEN an item of an entity the codec does not know
    item = {"pk": {"S": "X#1"}, "sk": {"S": "X"}, "entity": {"S": "monitor"}}
    # WHEN decoding it
    # THEN it is a ValueError naming the entity
    with pytest.raises(ValueError, match="monitor"):
        decode(item)


def test_attribute_helpers() -> None:
    # GIVEN a string and integers of every size
    # WHEN wrapping them as attributes
    # THEN strings are S and numbers are exact N text
    assert string("a#b") == {"S": "a#b"}
    assert number(0) == {"N": "0"}
    assert number(-5) == {"N": "-5"}
    assert number(10**37) == {"N": "1" + "0" * 37}


totals_values = st.integers(-(10**37), 10**37)


@settings(max_examples=75, deadline=None)
@given(
    values=st.tuples(*[totals_values] * 6),
    headroom=totals_values,
    credit_limit=st.integers(0, 10**30),
    version=st.integers(0, 2**63),
    scale=st.integers(0, 18),
)
def test_account_numbers_survive_at_any_size(
    values: tuple[int, ...], headroom: int, credit_limit: int, version: int, scale: int
) -> None:
    # GIVEN an account with arbitrary totals, headroom, limit, version and scale
    account = an_account(
        currency=Currency("XTS", scale),
        totals=Totals(*values),
        headroom=headroom,
        overdraft=Overdraft(OverdraftMode.LIMIT, credit_limit),
        version=version,
    )
    # WHEN it goes through the codec
    # THEN it comes back equal
    assert decode(encode(account)) == account


@settings(max_examples=50, deadline=None)
@given(amounts=st.lists(st.integers(1, 10**30), min_size=1, max_size=5))
def test_entry_amounts_survive_at_any_size(amounts: list[int]) -> None:
    # GIVEN an entry whose lines carry arbitrary amounts, debits and credits alike
    ledger_id = a_ledger_id()
    lines = tuple(
        Line(an_account_id(ledger_id, USD), side, amount, "USD")
        for amount in amounts
        for side in Side
    )
    entry = replace(an_entry(ledger_id=ledger_id), lines=lines)
    # WHEN it goes through the codec
    # THEN it comes back equal, lines in order
    assert decode(encode(entry)) == entry
