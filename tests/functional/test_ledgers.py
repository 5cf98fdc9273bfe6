"""Ledgers through the facade: create, get, list by owner page by page, idempotent create."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledger.service import Ledger

from .helpers import Backend, random_owner, walk_pages


def test_created_ledger_reads_back_with_every_field(ledger: Ledger) -> None:
    # GIVEN an owner
    owner = random_owner()
    # WHEN a ledger is created with a name and metadata
    created = ledger.create_ledger("Main books", owner_id=owner, metadata={"region": "eu"})
    # THEN it is fresh and reads back identically
    assert (created.name, created.owner_id, created.metadata) == (
        "Main books",
        owner,
        {"region": "eu"},
    )
    assert created.currencies == {}
    assert created.replayed is False
    assert ledger.get_ledger(created.id) == created


def test_ledger_without_owner_is_readable(ledger: Ledger) -> None:
    # GIVEN a ledger created without an owner
    created = ledger.create_ledger("Unowned")
    # WHEN it is read
    fetched = ledger.get_ledger(created.id)
    # THEN it has no owner
    assert fetched.owner_id is None
    assert fetched == created


@pytest.mark.parametrize(("count", "sizes"), [(7, [3, 3, 1]), (6, [3, 3]), (2, [2])])
def test_list_ledgers_walks_every_page_oldest_first(
    ledger: Ledger, count: int, sizes: list[int]
) -> None:
    # GIVEN an owner with `count` ledgers, and another owner with ledgers of their own
    owner = random_owner()
    created = [ledger.create_ledger(f"L{index}", owner_id=owner).id for index in range(count)]
    ledger.create_ledger("Other", owner_id=random_owner())
    # WHEN the owner's ledgers are listed three at a time
    pages = walk_pages(lambda cursor: ledger.list_ledgers(owner, limit=3, cursor=cursor))
    # THEN the pages hold every ledger once, in creation order, and nothing else
    assert [len(page) for page in pages] == sizes
    assert [record.id for page in pages for record in page] == created


def test_owner_without_ledgers_gets_an_empty_last_page(ledger: Ledger) -> None:
    # GIVEN an owner who has no ledger
    # WHEN their ledgers are listed
    page = ledger.list_ledgers(random_owner())
    # THEN the page is empty and final
    assert (page.items, page.next_cursor) == ([], None)


def test_same_key_and_body_replays_the_ledger(ledger: Ledger) -> None:
    # GIVEN a ledger created with an idempotency key
    owner = random_owner()
    first = ledger.create_ledger("Books", owner_id=owner, metadata={"a": "1"}, idempotency_key="k1")
    # WHEN the same request comes again
    again = ledger.create_ledger("Books", owner_id=owner, metadata={"a": "1"}, idempotency_key="k1")
    # THEN the original comes back marked as a replay, and only one ledger exists
    assert again.replayed is True
    assert (again.id, again.created_at, again.name) == (first.id, first.created_at, first.name)
    assert [record.id for record in ledger.list_ledgers(owner).items] == [first.id]


def test_longest_name_is_accepted(ledger: Ledger) -> None:
    # GIVEN a name of exactly the maximum length
    name = "n" * 200
    # WHEN a ledger is created with it
    created = ledger.create_ledger(name)
    # THEN it is kept whole
    assert ledger.get_ledger(created.id).name == name


def test_default_clock_stamps_the_current_utc_time(backend: Backend) -> None:
    # GIVEN a ledger facade with its default clock
    facade = Ledger(backend.store)
    before = datetime.now(UTC)
    # WHEN a ledger is created
    created = facade.create_ledger("Clocked")
    # THEN it is stamped with the current time, in UTC
    assert before <= created.created_at <= datetime.now(UTC)
    assert facade.get_ledger(created.id).created_at == created.created_at
