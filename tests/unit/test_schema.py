"""The single-table key schema: item keys, index keys, listing queries and cursors."""

from __future__ import annotations

import base64
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from unit_builders import a_ledger, a_ledger_id, an_account, an_account_id, an_entry, created

from ledger.domain.errors import ValidationError
from ledger.domain.model import AccountType, LedgerRecord
from ledger.planning.steps import Claim, Target, claim_id
from ledger.store.cursors import CursorSeal, new_secret
from ledger.store.dynamodb.schema import (
    IndexQuery,
    decode_cursor,
    encode_cursor,
    index_keys,
    index_query,
    item_key,
    paged,
    timestamp,
)
from ledger.store.listings import AccountsOf, EntriesOf, LedgersOf

# --- timestamps ----------------------------------------------------------------------------


def test_timestamp_is_fixed_width_rfc3339_utc() -> None:
    # GIVEN a UTC time on a whole second
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    # WHEN rendering it
    # THEN the microseconds are still written, and it ends in Z
    assert timestamp(moment) == "2026-01-02T03:04:05.000000Z"


def test_timestamp_pads_years_before_1000() -> None:
    # GIVEN a business date in the year 441
    moment = datetime(441, 2, 25, 11, 12, 34, tzinfo=UTC)
    # WHEN rendering it
    # THEN the year has four digits, so the text still sorts and parses
    assert timestamp(moment) == "0441-02-25T11:12:34.000000Z"


@settings(max_examples=100, deadline=None)
@given(
    first=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
    second=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)),
)
def test_timestamp_text_order_is_time_order(first: datetime, second: datetime) -> None:
    # GIVEN any two UTC times
    a, b = first.replace(tzinfo=UTC), second.replace(tzinfo=UTC)
    # WHEN rendering them
    # THEN comparing the texts compares the times
    assert (timestamp(a) < timestamp(b)) == (a < b)
    assert len(timestamp(a)) == len(timestamp(b))


def test_timestamp_of_an_aware_non_utc_time_names_the_same_instant() -> None:
    # GIVEN one instant expressed in UTC and in UTC+02:00
    utc = datetime(2026, 1, 2, 10, 0, tzinfo=UTC)
    local = utc.astimezone(timezone(timedelta(hours=2)))
    # WHEN rendering both
    # THEN both texts name that instant (the text claims UTC with its Z)
    assert timestamp(local) == timestamp(utc)


# --- item keys -----------------------------------------------------------------------------


def test_item_keys_per_kind() -> None:
    # GIVEN one id of each kind
    ledger_id, account_id = a_ledger_id(), an_account_id()
    entry_id = an_entry().id
    # WHEN asking for their primary keys
    # THEN each follows the table of DESIGN.md §6
    assert item_key(Target("ledger", ledger_id)) == {"pk": f"LEDGER#{ledger_id}", "sk": "LEDGER"}
    assert item_key(Target("account", account_id)) == {
        "pk": f"ACCOUNT#{account_id}",
        "sk": "ACCOUNT",
    }
    assert item_key(Target("entry", entry_id)) == {"pk": f"ENTRY#{entry_id}", "sk": "ENTRY"}
    assert item_key(Target("code", claim_id(ledger_id, "1000.cash"))) == {
        "pk": f"LEDGER#{ledger_id}#CODE#1000.cash",
        "sk": "CODE",
    }
    assert item_key(Target("key", claim_id(ledger_id, "f" * 64))) == {
        "pk": f"LEDGER#{ledger_id}#KEY#{'f' * 64}",
        "sk": "KEY",
    }


# --- index keys ----------------------------------------------------------------------------


def test_a_ledger_without_owner_is_only_in_the_listing_of_every_ledger() -> None:
    # GIVEN a ledger without an owner
    ledger = a_ledger()
    keys = index_keys(ledger)
    query = index_query(LedgersOf(None, None, None))
    # WHEN asking for its index keys
    # THEN it is listed among every ledger, oldest first, and by no owner
    assert set(keys) == {"gsi1pk", "gsi1sk"}
    assert (keys["gsi1pk"], query.index, query.descending) == (query.partition, "gsi1", False)
    assert keys["gsi1sk"].startswith(query.sort_prefix)
    assert ledger.id in keys["gsi1sk"]


def test_a_ledger_with_owner_is_listed_by_owner() -> None:
    # GIVEN an owned ledger
    ledger = a_ledger(owner_id="org-7")
    keys = index_keys(ledger)
    query = index_query(LedgersOf("org-7", None, None))
    # WHEN listing the owner's ledgers
    # THEN the ledger's keys fall in that query, oldest first, and among every ledger
    assert set(keys) == {"gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"}
    assert keys["gsi2pk"] == query.partition
    assert keys["gsi2sk"].startswith(query.sort_prefix)
    assert keys["gsi2sk"] == keys["gsi1sk"]
    assert ledger.id in keys["gsi2sk"]
    assert (query.index, query.descending) == ("gsi2", False)


def test_code_claims_are_in_no_index() -> None:
    # GIVEN a code claim
    claim = Claim(a_ledger_id(), "code", "x", an_account_id())
    # WHEN asking for its index keys
    # THEN there are none
    assert index_keys(claim) == {}


def _in(keys: dict[str, str], query: IndexQuery) -> bool:
    partition = keys.get(f"{query.index}pk")
    sort = keys.get(f"{query.index}sk", "")
    return partition == query.partition and sort.startswith(query.sort_prefix)


def test_a_plain_account_is_listed_by_ledger_and_type_only() -> None:
    # GIVEN an account without owner or parent
    account = an_account(account_type=AccountType.REVENUE)
    keys = index_keys(account)
    ledger_id = account.ledger_id
    # WHEN matching its keys against listings
    # THEN it is in its ledger's listing, with or without its type, and in no other
    assert set(keys) == {"gsi1pk", "gsi1sk"}
    assert _in(keys, index_query(AccountsOf(ledger_id, None, None, None)))
    assert _in(keys, index_query(AccountsOf(ledger_id, AccountType.REVENUE, None, None)))
    assert not _in(keys, index_query(AccountsOf(ledger_id, AccountType.EXPENSE, None, None)))
    assert not _in(keys, index_query(AccountsOf(a_ledger_id(), None, None, None)))
    assert not _in(keys, index_query(EntriesOf(ledger_id, None)))


def test_an_owned_account_is_listed_by_owner() -> None:
    # GIVEN an account with an owner
    account = an_account(owner_id="user-9")
    keys = index_keys(account)
    # WHEN matching its keys against listings by owner
    # THEN it is in its owner's listing within its ledger, and only there
    assert _in(keys, index_query(AccountsOf(account.ledger_id, None, "user-9", None)))
    assert _in(keys, index_query(AccountsOf(account.ledger_id, AccountType.ASSET, "user-9", None)))
    assert not _in(keys, index_query(AccountsOf(account.ledger_id, None, "user-8", None)))
    assert not _in(keys, index_query(AccountsOf(a_ledger_id(), None, "user-9", None)))
    assert "gsi3pk" not in keys


def test_a_child_account_is_listed_by_parent() -> None:
    # GIVEN an account with a parent
    parent_id = an_account_id()
    account = an_account(parent_id=parent_id)
    keys = index_keys(account)
    # WHEN matching its keys against listings by parent
    # THEN it is in its parent's listing, and only there
    assert _in(keys, index_query(AccountsOf(account.ledger_id, None, None, parent_id)))
    assert not _in(keys, index_query(AccountsOf(account.ledger_id, None, None, an_account_id())))
    assert "gsi2pk" not in keys


def test_an_account_with_owner_and_parent_is_in_all_three_indexes() -> None:
    # GIVEN an account with owner and parent
    account = an_account(owner_id="u", parent_id=an_account_id())
    # WHEN asking for its index keys
    # THEN all three indexes carry it
    assert set(index_keys(account)) == {"gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk", "gsi3pk", "gsi3sk"}


def test_account_sort_keys_order_by_type_then_creation() -> None:
    # GIVEN two accounts of one type created a second apart
    older = an_account()
    newer = replace(
        an_account(ledger_id=older.ledger_id), created_at=created + timedelta(seconds=1)
    )
    # WHEN comparing their sort keys in the ledger index
    # THEN the older sorts first
    assert index_keys(older)["gsi1sk"] < index_keys(newer)["gsi1sk"]


def test_filtering_by_owner_and_parent_at_once_is_refused() -> None:
    # GIVEN both filters
    # WHEN building the query
    with pytest.raises(ValidationError) as raised:
        index_query(AccountsOf(a_ledger_id(), None, "u", an_account_id()))
    # THEN the owner_id filter is named
    assert raised.value.field == "owner_id"


def test_account_listings_are_ascending() -> None:
    # GIVEN every shape of account listing
    ledger_id = a_ledger_id()
    queries = [
        index_query(AccountsOf(ledger_id, None, None, None)),
        index_query(AccountsOf(ledger_id, AccountType.ASSET, "u", None)),
        index_query(AccountsOf(ledger_id, None, None, an_account_id())),
    ]
    # WHEN looking at their order and indexes
    # THEN they read oldest first from gsi1, gsi2 and gsi3
    assert [query.descending for query in queries] == [False, False, False]
    assert [query.index for query in queries] == ["gsi1", "gsi2", "gsi3"]


def test_entries_are_listed_by_ledger_and_by_reference_newest_first() -> None:
    # GIVEN an entry with a reference and one without
    ledger_id = a_ledger_id()
    referenced = an_entry(ledger_id=ledger_id, reference="inv-1")
    plain = an_entry(ledger_id=ledger_id)
    # WHEN matching their keys against entry listings
    by_ledger, by_reference = (
        index_query(EntriesOf(ledger_id, None)),
        index_query(EntriesOf(ledger_id, "inv-1")),
    )
    # THEN both are in the ledger's listing, only the first in its reference's
    assert _in(index_keys(referenced), by_ledger)
    assert _in(index_keys(plain), by_ledger)
    assert _in(index_keys(referenced), by_reference)
    assert not _in(index_keys(plain), by_reference)
    assert not _in(index_keys(referenced), index_query(EntriesOf(ledger_id, "inv-2")))
    assert not _in(index_keys(referenced), index_query(AccountsOf(ledger_id, None, None, None)))
    assert by_ledger.descending
    assert by_reference.descending


# --- cursors -------------------------------------------------------------------------------

seal = CursorSeal(new_secret())


def _account_cursor_key(query: IndexQuery, ledger_id: str) -> dict[str, str]:
    account = an_account(ledger_id=ledger_id)
    keys = index_keys(account)
    partition, sort = f"{query.index}pk", f"{query.index}sk"
    return {
        "pk": f"ACCOUNT#{account.id}",
        "sk": "ACCOUNT",
        partition: keys[partition],
        sort: keys[sort],
    }


def test_a_cursor_round_trips_and_shows_nothing_of_its_key() -> None:
    # GIVEN the keys of the last account of a page
    ledger_id = a_ledger_id()
    query = index_query(AccountsOf(ledger_id, None, None, None))
    key = _account_cursor_key(query, ledger_id=ledger_id)
    # WHEN encoding a cursor and decoding it for the same listing
    cursor = encode_cursor(seal, query, key)
    # THEN the same key comes back, from url-safe, unpadded text
    assert decode_cursor(seal, cursor, query) == key
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    # AND neither the cursor nor its base64 decoding shows the account or the ledger
    decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    token = ledger_id.split("_", 1)[1].encode()
    assert token not in decoded
    assert ledger_id not in cursor
    assert b"ACCOUNT" not in decoded


@settings(max_examples=50, deadline=None)
@given(partition=st.text(max_size=40), pk=st.text(max_size=40), sk=st.text(max_size=40))
def test_cursor_round_trip_for_any_text(partition: str, pk: str, sk: str) -> None:
    # GIVEN any key of a gsi2 listing
    query = IndexQuery("gsi2", partition, "", descending=False)
    key = {"pk": pk, "sk": sk, "gsi2pk": partition, "gsi2sk": sk + pk}
    # WHEN encoding and decoding it
    # THEN it survives unchanged
    assert decode_cursor(seal, encode_cursor(seal, query, key), query) == key


@pytest.mark.parametrize(
    "cursor",
    ["", "a", "!!!!", "not a cursor", "é", "e30", base64.urlsafe_b64encode(b"{}" * 40).decode()],
    ids=["empty", "bad-length", "not-base64", "spaces", "non-ascii", "json-object", "padded"],
)
def test_garbage_cursors_are_validation_errors(cursor: str) -> None:
    # GIVEN a cursor no listing returned
    query = index_query(AccountsOf(a_ledger_id(), None, None, None))
    # WHEN decoding it
    with pytest.raises(ValidationError) as raised:
        decode_cursor(seal, cursor, query)
    # THEN the cursor field is invalid
    assert raised.value.field == "cursor"


def _moved_queries(ledger_id: str) -> dict[str, IndexQuery]:
    plain = index_query(AccountsOf(ledger_id, None, None, None))
    return {
        "another ledger": index_query(AccountsOf(a_ledger_id(), None, None, None)),
        "another index": index_query(AccountsOf(ledger_id, None, "u", None)),
        "the entry listing": index_query(EntriesOf(ledger_id, None)),
        "another type": index_query(AccountsOf(ledger_id, AccountType.ASSET, None, None)),
        "another caller": replace(plain, caller="key_other"),
        "named ledgers": replace(plain, named_ledgers=frozenset({ledger_id})),
    }


@pytest.mark.parametrize("moved_to", list(_moved_queries(a_ledger_id())))
def test_a_cursor_moved_to_another_listing_is_refused(moved_to: str) -> None:
    # GIVEN a cursor from a ledger's plain account listing
    ledger_id = a_ledger_id()
    query = index_query(AccountsOf(ledger_id, None, None, None))
    cursor = encode_cursor(seal, query, _account_cursor_key(query, ledger_id))
    # WHEN using it for another ledger, index, listing, type, caller or scope
    with pytest.raises(ValidationError) as raised:
        decode_cursor(seal, cursor, _moved_queries(ledger_id)[moved_to])
    # THEN the cursor field is invalid
    assert raised.value.field == "cursor"


def test_a_cursor_of_one_caller_is_refused_to_another() -> None:
    # GIVEN a cursor handed to one key of a ledger listing
    query = index_query(LedgersOf("org-7", None, "key_one"))
    key = {"pk": "LEDGER#x", "sk": "LEDGER", "gsi2pk": "OWNER#org-7", "gsi2sk": "LEDGER#t#x"}
    cursor = encode_cursor(seal, query, key)
    # WHEN another key, or no key, brings it back
    # THEN it is refused; the caller it was for gets the position
    for caller in ("key_two", None):
        with pytest.raises(ValidationError):
            decode_cursor(seal, cursor, index_query(LedgersOf("org-7", None, caller)))
    assert decode_cursor(seal, cursor, query) == key


def test_a_page_in_memory_resumes_after_its_cursor_and_stops_at_the_end() -> None:
    # GIVEN three ledgers of one owner, held as rows
    ledgers = [a_ledger(owner_id="org-7") for _ in range(3)]
    query = index_query(LedgersOf("org-7", None, None))
    rows = query.rows(
        [((f"LEDGER#{ledger.id}", "LEDGER"), ledger) for ledger in ledgers], LedgerRecord
    )
    ordered = sorted(ledgers, key=lambda ledger: index_keys(ledger)["gsi2sk"])
    # WHEN paging two at a time
    first, after = paged(rows, query, 2, None)
    second, end = paged(rows, query, 2, after)
    # THEN the pages hold them in index order, and the last has no position to resume at
    assert (first, second, end) == (ordered[:2], ordered[2:], None)
    assert after is not None
    assert after["gsi2sk"] == index_keys(ordered[1])["gsi2sk"]


def test_named_ledgers_leave_every_other_ledger_out_of_the_rows() -> None:
    # GIVEN two ledgers of one owner, and a query naming one
    named, other = a_ledger(owner_id="org-7"), a_ledger(owner_id="org-7")
    query = index_query(LedgersOf("org-7", frozenset({named.id}), None))
    items = [((f"LEDGER#{ledger.id}", "LEDGER"), ledger) for ledger in (named, other)]
    # WHEN taking the query's rows
    rows = query.rows(items, LedgerRecord)
    # THEN only the named ledger is among them
    assert [record for _, record in rows] == [named]
