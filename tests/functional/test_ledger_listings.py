"""Ledger listings of every ledger and of named ledgers, and cursors bound to their caller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

import pytest
from botocore.exceptions import ClientError

from ledger.domain.errors import ValidationError
from ledger.domain.ids import new_ledger_id
from ledger.domain.model import Page
from ledger.service import Ledger
from ledger.store.cursors import secret_bytes
from ledger.store.dynamodb import DynamoDBStore
from ledger.store.dynamodb.secret import ensure_secret, secret_item_key

from .conftest import MotoBackend, _started
from .helpers import Backend, NothingWritten, open_account, random_owner, walk_pages

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient


def _ids(pages: list[list[Any]]) -> list[str]:
    return [record.id for page in pages for record in page]


def test_every_ledger_is_listed_oldest_first_owned_or_not(ledger: Ledger) -> None:
    # GIVEN five ledgers, two without an owner, three of two owners
    owner = random_owner()
    created = [
        ledger.create_ledger("A").id,
        ledger.create_ledger("B", owner_id=owner).id,
        ledger.create_ledger("C", owner_id=random_owner()).id,
        ledger.create_ledger("D").id,
        ledger.create_ledger("E", owner_id=owner).id,
    ]
    # WHEN every ledger is listed two at a time
    pages = walk_pages(lambda cursor: ledger.list_ledgers(limit=2, cursor=cursor))
    # THEN the pages hold all five once, in creation order
    assert [len(page) for page in pages] == [2, 2, 1]
    assert _ids(pages) == created


def test_named_ledgers_are_listed_alone_page_by_page(ledger: Ledger) -> None:
    # GIVEN four ledgers of one owner and one of another; three of them named, with an id
    # no ledger has
    owner = random_owner()
    mine = [ledger.create_ledger(f"L{index}", owner_id=owner).id for index in range(4)]
    foreign = ledger.create_ledger("F", owner_id=random_owner()).id
    named = [mine[3], foreign, mine[1], new_ledger_id(None, None)]
    # WHEN the named ledgers are listed one at a time, then the owner's among them
    everything = walk_pages(
        lambda cursor: ledger.list_ledgers(ledger_ids=named, limit=1, cursor=cursor)
    )
    owned = walk_pages(
        lambda cursor: ledger.list_ledgers(owner, ledger_ids=named, limit=1, cursor=cursor)
    )
    # THEN only the named ledgers that exist come, in creation order; the owner's are theirs
    assert _ids(everything) == [mine[1], mine[3], foreign]
    assert _ids(owned) == [mine[1], mine[3]]


def test_no_named_ledger_of_an_owner_is_the_empty_listing(ledger: Ledger) -> None:
    # GIVEN an owner with two ledgers, and a ledger of another owner
    owner = random_owner()
    for index in range(2):
        ledger.create_ledger(f"L{index}", owner_id=owner)
    other = ledger.create_ledger("Other", owner_id=random_owner()).id
    # WHEN the owner's ledgers are listed among the other one only, or among none
    among_other = ledger.list_ledgers(owner, ledger_ids=[other], limit=1)
    among_none = ledger.list_ledgers(owner, ledger_ids=[], limit=1)
    # THEN both are empty and final, as for an owner with no ledger
    assert (among_other.items, among_other.next_cursor) == ([], None)
    assert (among_none.items, among_none.next_cursor) == ([], None)


def test_a_cursor_is_good_only_for_its_caller(ledger: Ledger, book: str) -> None:
    # GIVEN cursors of three listings handed to one caller
    owner = random_owner()
    for index in range(2):
        ledger.create_ledger(f"L{index}", owner_id=owner)
    open_account(ledger, book)
    ledger.deposit(open_account(ledger, book).id, "1")
    ledger.deposit(open_account(ledger, book).id, "1")
    listings: list[Callable[[str | None, str | None], Page[Any]]] = [
        lambda caller, cursor: ledger.list_ledgers(owner, limit=1, cursor=cursor, caller=caller),
        lambda caller, cursor: ledger.list_accounts(book, limit=1, cursor=cursor, caller=caller),
        lambda caller, cursor: ledger.list_entries(book, limit=1, cursor=cursor, caller=caller),
    ]
    for listing in listings:
        cursor = listing("key_one", None).next_cursor
        assert cursor is not None
        # WHEN another caller, or no caller, brings it back
        for other in ("key_two", None):
            with pytest.raises(ValidationError) as caught:
                listing(other, cursor)
            # THEN it is refused on `cursor`
            assert caught.value.details == {"field": "cursor"}
        # AND its own caller gets the next page
        assert len(listing("key_one", cursor).items) == 1


def test_a_cursor_of_named_ledgers_is_refused_by_other_names(ledger: Ledger) -> None:
    # GIVEN a cursor of a listing of two named ledgers
    named = [ledger.create_ledger(f"L{index}").id for index in range(2)]
    cursor = ledger.list_ledgers(ledger_ids=named, limit=1).next_cursor
    assert cursor is not None
    # WHEN it is used with one more name, with no names, or for every ledger
    for ledger_ids in ([*named, new_ledger_id(None, None)], None):
        with pytest.raises(ValidationError) as caught:
            ledger.list_ledgers(ledger_ids=ledger_ids, cursor=cursor)
        # THEN it is refused
        assert caught.value.details == {"field": "cursor"}


@pytest.mark.parametrize(
    "ledger_ids",
    ["ldg_abc", [""], [7], [new_ledger_id(None, None)] * 101],
    ids=["text", "blank", "not-text", "too-many"],
)
def test_malformed_named_ledgers_are_refused(ledger: Ledger, ledger_ids: Any) -> None:
    # GIVEN named ledgers that are text rather than a list, blank, not text, or too many
    # WHEN ledgers are listed among them
    with pytest.raises(ValidationError) as caught:
        ledger.list_ledgers(ledger_ids=ledger_ids)
    # THEN `ledger_ids` is named
    assert caught.value.details == {"field": "ledger_ids"}


def test_a_malformed_caller_is_refused(ledger: Ledger, book: str) -> None:
    # GIVEN a caller that is blank
    # WHEN any listing is asked for it
    for listing in (ledger.list_ledgers, lambda **kwargs: ledger.list_accounts(book, **kwargs)):
        with pytest.raises(ValidationError) as caught:
            listing(caller=" ")
        # THEN `caller` is named
        assert caught.value.details == {"field": "caller"}


def test_a_cursor_before_any_was_sealed_is_refused_without_writing(
    backend: Backend, nothing_written: NothingWritten
) -> None:
    # GIVEN a store that never sealed a cursor
    ledger = Ledger(backend.store)
    # WHEN a listing is asked to resume from a cursor
    with nothing_written(), pytest.raises(ValidationError) as caught:
        ledger.list_ledgers(cursor="AQ" + "A" * 60)
    # THEN it is refused, and nothing (no secret either) was written
    assert caught.value.details == {"field": "cursor"}


def test_currencies_are_listed_built_in_and_registered_by_code(ledger: Ledger, book: str) -> None:
    # GIVEN a ledger that registered two currencies
    ledger.register_currency(book, "POINTS", 0)
    ledger.register_currency(book, "MILES", 3)
    # WHEN its currencies are listed
    known = ledger.list_currencies(book)
    # THEN they come by code, each marked built in or not
    codes = [currency.code for currency, _ in known]
    assert codes == sorted(codes)
    assert {(currency.code, currency.scale, builtin) for currency, builtin in known} >= {
        ("POINTS", 0, False),
        ("MILES", 3, False),
        ("USD", 2, True),
        ("JPY", 0, True),
    }


@pytest.fixture
def table(monkeypatch: pytest.MonkeyPatch, moto_client: DynamoDBClient) -> Iterator[str]:
    """A fresh moto table's name."""
    with _started("moto", monkeypatch, moto_client) as started:
        assert isinstance(started, MotoBackend)
        yield started.table_name


def test_every_store_on_a_table_opens_the_cursors_of_every_other(
    table: str, moto_client: DynamoDBClient
) -> None:
    # GIVEN three stores on one table (three containers), each sealing a cursor of its own
    stores = [Ledger(DynamoDBStore(table, client=moto_client)) for _ in range(3)]
    ids = [stores[0].create_ledger(f"L{index}").id for index in range(3)]
    cursors = [store.list_ledgers(limit=1).next_cursor or "" for store in stores]
    # WHEN each resumes from the cursor of the next one
    pages = [
        store.list_ledgers(limit=1, cursor=cursors[(index + 1) % 3])
        for index, store in enumerate(stores)
    ]
    # THEN each gets the second ledger: the secret is the table's, made once
    assert [record.id for page in pages for record in page.items] == [ids[1]] * 3
    secret = moto_client.get_item(TableName=table, Key=secret_item_key)["Item"]["secret"]["B"]
    assert len(secret) == secret_bytes


class _LateReader:
    """A client whose first read of the secret misses it, as if another store were
    creating it at that moment."""

    def __init__(self, client: DynamoDBClient) -> None:
        self._client = client
        self._missed = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def get_item(self, **arguments: Any) -> Any:
        if not self._missed:
            self._missed = True
            return {}
        return self._client.get_item(**arguments)


def test_a_store_that_loses_the_race_to_create_the_secret_uses_the_winners(
    table: str, moto_client: DynamoDBClient
) -> None:
    # GIVEN a secret another store made, and a client that does not see it on its first read
    winner = ensure_secret(moto_client, table)
    late = cast("DynamoDBClient", _LateReader(moto_client))
    # WHEN this store needs the secret
    secret = ensure_secret(late, table)
    # THEN its own attempt to create one is refused, and it takes the winner's
    assert secret == winner
    assert (
        moto_client.get_item(TableName=table, Key=secret_item_key)["Item"]["secret"]["B"] == winner
    )


def test_a_failure_to_store_the_secret_is_not_taken_for_a_race(
    table: str, moto_client: DynamoDBClient
) -> None:
    # GIVEN a table name that does not exist
    # WHEN a store needs the secret there
    # THEN DynamoDB's own error comes through
    with pytest.raises(ClientError) as caught:
        ensure_secret(cast("DynamoDBClient", _MissingOnRead(moto_client)), f"{table}-absent")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


class _MissingOnRead(_LateReader):
    """A client that never finds the secret item."""

    def get_item(self, **arguments: Any) -> Any:
        return {}
