"""One account's entries, read from its history: newest first, in full pages however busy
the rest of the ledger is, each entry once.

The memory store keeps history as it applies plans; a moto table keeps none (no stream
consumers run on it), and refuses the listing once below."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from ledger.domain import limits
from ledger.domain.errors import HistoryNotKept, LedgerMismatch, NotFound, ValidationError
from ledger.domain.ids import shard_of
from ledger.domain.model import Account, AccountStatus, Entry
from ledger.service import Ledger, LineInput

from .checks import refused
from .conftest import MemoryBackend, TickingClock, _nothing_written, _started
from .helpers import (
    Backend,
    NothingWritten,
    missing_account_id,
    new_book,
    open_account,
    walk_pages,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


@pytest.fixture
def backend() -> Backend:
    """The memory store, which keeps history: what this listing reads."""
    return MemoryBackend()


def _ids(pages: list[list[Entry]]) -> list[list[str]]:
    return [[entry.id for entry in page] for page in pages]


def _pages_of(
    ledger: Ledger, book: str, account: Account, limit: int, **filters: Any
) -> list[list[str]]:
    """Every page of the account's entries, as entry ids."""
    return _ids(
        walk_pages(
            lambda cursor: ledger.list_entries(
                book, account_id=account.id, limit=limit, cursor=cursor, **filters
            )
        )
    )


def test_entries_of_an_account_come_newest_first_whatever_its_side(
    ledger: Ledger, book: str
) -> None:
    # GIVEN entries on alice (in, out, pending, a multi-line one) among entries on others
    alice, bob, shop = (open_account(ledger, book) for _ in range(3))
    fees = open_account(ledger, book, type="revenue")
    alice_entries = [ledger.deposit(alice.id, "20.00")]
    ledger.deposit(bob.id, "50.00")
    ledger.transfer(bob.id, shop.id, "5.00")
    alice_entries.append(ledger.transfer(alice.id, bob.id, "3.00"))
    alice_entries.append(ledger.hold(alice.id, "4.00"))
    ledger.spend(bob.id, "1.00", counterparty_account_id=shop.id)
    alice_entries.append(
        ledger.create_entry(
            book,
            [
                LineInput(alice.id, "debit", "2.00"),
                LineInput(shop.id, "credit", "1.50"),
                LineInput(fees.id, "credit", "0.50"),
            ],
        )
    )
    ledger.transfer(shop.id, bob.id, "2.00")
    # WHEN alice's entries are listed two at a time
    pages = _pages_of(ledger, book, alice, limit=2)
    # THEN exactly hers come, newest first, each once, in full pages
    assert pages == [
        [alice_entries[3].id, alice_entries[2].id],
        [alice_entries[1].id, alice_entries[0].id],
    ]
    # AND each listed entry is the stored entry, with a line on alice
    listed = ledger.list_entries(book, account_id=alice.id).items
    assert listed == [ledger.get_entry(entry.id) for entry in alice_entries[::-1]]
    assert all(alice.id in {line.account_id for line in entry.lines} for entry in listed)


def test_last_page_ends_the_listing(ledger: Ledger, book: str) -> None:
    # GIVEN (oldest first) a deposit to alice, four deposits to bob, bob paying alice, and
    # one more deposit to bob
    alice, bob = open_account(ledger, book), open_account(ledger, book)
    first = ledger.deposit(alice.id, "1.00")
    to_bob = [ledger.deposit(bob.id, f"{index + 1}.00") for index in range(4)]
    payment = ledger.transfer(bob.id, alice.id, "1.00")
    last = ledger.deposit(bob.id, "9.00")
    # WHEN alice's entries are listed one at a time
    alice_pages = _pages_of(ledger, book, alice, limit=1)
    # THEN the last page is the oldest entry, and no empty page follows it
    assert alice_pages == [[payment.id], [first.id]]
    # WHEN bob's six are listed three at a time
    bob_pages = _pages_of(ledger, book, bob, limit=3)
    # THEN two full pages hold them, the second with no cursor
    bob_entries = [entry.id for entry in (*to_bob, payment, last)][::-1]
    assert bob_pages == [bob_entries[:3], bob_entries[3:]]


def test_a_quiet_account_in_a_busy_ledger_gets_a_full_page(ledger: Ledger, book: str) -> None:
    # GIVEN three entries on a quiet account among 300 on a busy one, more than a listing
    # of the ledger's entries examines per page
    quiet, busy = open_account(ledger, book), open_account(ledger, book)
    assert limits.index_items_examined_per_page_max < 300
    quiet_entries = [ledger.deposit(quiet.id, "1.00")]
    for index in range(300):
        ledger.deposit(busy.id, "1.00")
        if index in (150, 298):
            quiet_entries.append(ledger.deposit(quiet.id, "2.00"))
    # WHEN the quiet account's entries are listed
    page = ledger.list_entries(book, account_id=quiet.id)
    # THEN the first page holds all three, newest first, and nothing follows
    assert [entry.id for entry in page.items] == [entry.id for entry in quiet_entries[::-1]]
    assert page.next_cursor is None


def test_a_busy_account_pages_in_full_pages(ledger: Ledger, book: str) -> None:
    # GIVEN 120 entries on an account
    wallet = open_account(ledger, book)
    made = [ledger.deposit(wallet.id, "1.00").id for _ in range(120)]
    # WHEN its entries are listed 50 at a time
    pages = _pages_of(ledger, book, wallet, limit=50)
    # THEN the pages hold 50, 50 and 20, newest first, the last one ending the listing
    assert [len(page) for page in pages] == [50, 50, 20]
    assert [entry_id for page in pages for entry_id in page] == made[::-1]


def test_status_changes_show_no_entry_and_reads_are_bounded(
    ledger: Ledger, book: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a deposit to alice, four status changes, then another deposit
    alice = open_account(ledger, book)
    first = ledger.deposit(alice.id, "1.00")
    for status in (AccountStatus.SUSPENDED, AccountStatus.ACTIVE) * 2:
        ledger.update_account(alice.id, status=status)
    second = ledger.deposit(alice.id, "2.00")
    # WHEN her entries are listed two at a time
    # THEN one page holds both, past the status changes
    assert _pages_of(ledger, book, alice, limit=2) == [[second.id, first.id]]
    # WHEN a page may examine only three history records
    monkeypatch.setattr(limits, "history_records_examined_per_page_max", 3)
    pages = _pages_of(ledger, book, alice, limit=2)
    # THEN pages stop at the bound with a cursor to go on, and each entry still comes once
    assert [entry_id for page in pages for entry_id in page] == [second.id, first.id]
    assert len(pages) > 1
    assert [] in pages


def test_a_released_pending_entry_is_listed_once(ledger: Ledger, book: str) -> None:
    # GIVEN on alice a hold voided, a hold confirmed (its posting is an entry of its own),
    # and a deposit after them
    alice = open_account(ledger, book)
    funding = ledger.deposit(alice.id, "10.00")
    voided = ledger.hold(alice.id, "1.00")
    ledger.void_entry(voided.id)
    confirmed = ledger.hold(alice.id, "2.00")
    posting = ledger.confirm_hold(confirmed.id).posting_entry_id
    last = ledger.deposit(alice.id, "3.00")
    # WHEN her entries are listed one at a time
    pages = _pages_of(ledger, book, alice, limit=1)
    # THEN each entry comes once, where it was created, newest first
    expected = [last.id, posting, confirmed.id, voided.id, funding.id]
    assert pages == [[entry_id] for entry_id in expected]


def test_a_page_may_end_inside_a_batch(ledger: Ledger, book: str) -> None:
    # GIVEN a batch of five deposits to alice, which moves her item once
    alice = open_account(ledger, book)
    before = ledger.deposit(alice.id, "1.00")
    deposits = [
        {"type": "deposit", "account_id": alice.id, "amount": f"{index + 1}.00"}
        for index in range(5)
    ]
    batch = ledger.batch(deposits).entries
    # WHEN her entries are listed two at a time
    pages = _pages_of(ledger, book, alice, limit=2)
    # THEN pages are full, the batch's entries split between them, each once, the latest
    # operation first
    assert [len(page) for page in pages] == [2, 2, 2]
    assert [entry_id for page in pages for entry_id in page] == [
        *(entry.id for entry in batch[::-1]),
        before.id,
    ]


def test_a_sharded_accounts_entries_are_merged_newest_first(ledger: Ledger, book: str) -> None:
    # GIVEN an account of four shards with twelve entries, spread over its shards
    pool = open_account(ledger, book, overdraft="allow", shards=4)
    made = [ledger.deposit(pool.id, f"{index + 1}.00").id for index in range(12)]
    assert len({shard_of(entry_id, 4) for entry_id in made}) > 1
    # WHEN its entries are listed five at a time
    pages = _pages_of(ledger, book, pool, limit=5)
    # THEN every entry comes once, newest first, in full pages but the last
    assert [len(page) for page in pages] == [5, 5, 2]
    assert [entry_id for page in pages for entry_id in page] == made[::-1]


def test_reference_and_account_filters_combine(ledger: Ledger, book: str) -> None:
    # GIVEN order-1 and order-2 entries on alice and on bob
    alice, bob = open_account(ledger, book), open_account(ledger, book)
    wanted = []
    for index in range(6):
        account = alice if index % 2 == 0 else bob
        reference = "order-1" if index % 3 != 2 else "order-2"
        entry = ledger.deposit(account.id, f"{index + 1}.00", reference=reference)
        if account is alice and reference == "order-1":
            wanted.append(entry.id)
    # WHEN alice's order-1 entries are listed one at a time
    pages = _pages_of(ledger, book, alice, limit=1, reference="order-1")
    # THEN exactly those come, newest first
    assert [entry_id for page in pages for entry_id in page] == wanted[::-1]
    assert len(wanted) == 2


def test_account_without_entries_lists_none(ledger: Ledger, book: str) -> None:
    # GIVEN an account that took no entry, in a ledger with entries
    idle, busy = open_account(ledger, book), open_account(ledger, book)
    ledger.deposit(busy.id, "1.00")
    # WHEN its entries are listed
    page = ledger.list_entries(book, account_id=idle.id)
    # THEN the page is empty and final
    assert (page.items, page.next_cursor) == ([], None)


def test_account_of_another_ledger_is_a_ledger_mismatch(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN an account with entries in another ledger
    foreign = open_account(ledger, new_book(ledger))
    ledger.deposit(foreign.id, "1.00")
    # WHEN this ledger's entries are listed by that account
    error = refused(
        nothing_written, lambda: ledger.list_entries(book, account_id=foreign.id), LedgerMismatch
    )
    # THEN it is refused as a ledger mismatch naming the field
    assert error.code == "ledger_mismatch"
    assert error.details == {"account_id": foreign.id, "field": "account_id"}


@pytest.mark.parametrize("well_formed", [True, False])
def test_missing_account_is_not_found(
    ledger: Ledger, book: str, nothing_written: NothingWritten, well_formed: bool
) -> None:
    # GIVEN an account id that names no account of the ledger (well-formed or not)
    ledger.deposit(open_account(ledger, book).id, "1.00")
    account_id = missing_account_id(book) if well_formed else "acc_?"
    # WHEN the ledger's entries are listed by it
    error = refused(
        nothing_written, lambda: ledger.list_entries(book, account_id=account_id), NotFound
    )
    # THEN the account is not found
    assert (error.code, error.details) == ("not_found", {"resource": "account", "id": account_id})


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"account_id": ""}, "account_id"),
        ({"account_id": 7}, "account_id"),
        ({"reference": " "}, "reference"),
        ({"limit": 0}, "limit"),
        ({"cursor": "garbage"}, "cursor"),
    ],
    ids=repr,
)
def test_malformed_account_filter_is_refused(
    ledger: Ledger,
    book: str,
    nothing_written: NothingWritten,
    filters: dict[str, Any],
    field: str,
) -> None:
    # GIVEN an account with an entry
    account = open_account(ledger, book)
    ledger.deposit(account.id, "1.00")
    # WHEN entries are listed with one malformed filter
    listing = {"account_id": account.id, **filters}
    error = refused(nothing_written, lambda: ledger.list_entries(book, **listing), ValidationError)
    # THEN the filter is named
    assert (error.code, error.details) == ("validation_error", {"field": field})


def test_cursor_of_another_ledger_is_refused(ledger: Ledger, book: str) -> None:
    # GIVEN a cursor from this ledger's account filter (two entries, one per page)
    account = open_account(ledger, book)
    ledger.deposit(account.id, "1.00")
    ledger.deposit(account.id, "2.00")
    cursor = ledger.list_entries(book, account_id=account.id, limit=1).next_cursor
    assert cursor is not None
    # WHEN it is given to another ledger's listing
    other = open_account(ledger, new_book(ledger))
    with pytest.raises(ValidationError) as caught:
        ledger.list_entries(other.ledger_id, account_id=other.id, cursor=cursor)
    # THEN it is refused
    assert caught.value.details == {"field": "cursor"}


def test_a_cursor_is_bound_to_its_caller_and_its_listing(ledger: Ledger, book: str) -> None:
    # GIVEN two entries on an account, and a cursor of its listing for one caller
    account = open_account(ledger, book)
    ledger.deposit(account.id, "1.00")
    kept = ledger.deposit(account.id, "2.00")
    first = ledger.list_entries(book, account_id=account.id, limit=1, caller="key-1")
    assert first.next_cursor is not None
    ledger_cursor = ledger.list_entries(book, limit=1).next_cursor
    # WHEN another caller gives it, or the ledger's listing's cursor is given to this one
    attempts: list[dict[str, Any]] = [
        {"cursor": first.next_cursor, "caller": "key-2"},
        {"cursor": first.next_cursor},
        {"cursor": ledger_cursor, "caller": "key-1"},
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError) as caught:
            ledger.list_entries(book, account_id=account.id, limit=1, **attempt)
        # THEN it is refused
        assert caught.value.details == {"field": "cursor"}
    # AND its own caller goes on from it
    following = ledger.list_entries(
        book, account_id=account.id, limit=1, cursor=first.next_cursor, caller="key-1"
    )
    assert first.items == [kept]
    assert len(following.items) == 1
    assert following.next_cursor is None


def test_a_store_that_keeps_no_history_refuses_the_listing(
    monkeypatch: pytest.MonkeyPatch, moto_client: DynamoDBClient
) -> None:
    # GIVEN a DynamoDB table (moto) whose stream consumers do not run, with an entry
    with _started("moto", monkeypatch, moto_client) as moto:
        ledger = Ledger(moto.store, clock=TickingClock())
        book = new_book(ledger)
        account = open_account(ledger, book)
        entry = ledger.deposit(account.id, "1.00", reference="order-1")
        # WHEN its entries are listed by account
        error = refused(
            _nothing_written(moto),
            lambda: ledger.list_entries(book, account_id=account.id),
            HistoryNotKept,
        )
        # THEN it is refused as not kept, 501
        assert (error.code, error.status) == ("history_not_kept", 501)
        # AND one reference's entries by account, read from the reference's index, answer
        page = ledger.list_entries(book, reference="order-1", account_id=account.id)
        assert (page.items, page.next_cursor) == ([entry], None)


@pytest.mark.parametrize("payload", [b"[]", b"not json", b'["k", "x", 0]'], ids=repr)
def test_a_sealed_cursor_of_another_shape_is_refused(
    backend: Backend, ledger: Ledger, book: str, payload: bytes
) -> None:
    # GIVEN a cursor sealed for this account's listing whose content is not a position
    account = open_account(ledger, book)
    ledger.deposit(account.id, "1.00")
    binding = json.dumps(["entries", book, account.id, None]).encode()
    cursor = backend.store.seal(binding, payload)
    # WHEN the listing is given it
    with pytest.raises(ValidationError) as caught:
        ledger.list_entries(book, account_id=account.id, cursor=cursor)
    # THEN it is refused as any foreign cursor is
    assert caught.value.details == {"field": "cursor"}
