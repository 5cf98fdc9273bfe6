"""External balance checks through the library, on each store: the ledger's total of the
named accounts (or of a type) against what a source reports, stored and listed, with the
mismatch event in the outbox; every refusal writes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from ledger.domain import events, limits
from ledger.domain.errors import (
    CurrencyMismatch,
    ExternalChecksNotKept,
    HistoryNotKept,
    IdempotencyKeyReused,
    LedgerError,
    LedgerMismatch,
    NotFound,
    ValidationError,
)
from ledger.domain.events import OutboxEvent
from ledger.domain.model import AccountType
from ledger.domain.views import external_check_view
from ledger.service import Ledger
from ledger.store.dynamodb.outbox import outbox_event
from ledger.store.memory import MemoryStore

from .helpers import Backend, NothingWritten, missing_account_id, new_book, open_account


def outbox_of(backend: Backend) -> list[OutboxEvent]:
    """The derived events a store holds, oldest first."""
    if isinstance(backend.store, MemoryStore):
        return list(backend.store.outbox)
    items: list[Any] = [
        item for (pk, _), item in sorted(backend.state().items()) if pk.startswith("OUTBOX#")
    ]
    return [outbox_event(item) for item in items]


def funded(ledger: Ledger, book: str, amount: str, **options: Any) -> str:
    """A liability account holding `amount`."""
    account_id = open_account(ledger, book, **options).id
    ledger.deposit(account_id, amount)
    return account_id


def test_a_check_within_tolerance_is_stored_and_emits_nothing(
    ledger: Ledger, backend: Backend, book: str
) -> None:
    # GIVEN two wallets holding 10.00 and 2.50
    wallets = [funded(ledger, book, "10.00"), funded(ledger, book, "2.50")]
    # WHEN the bank reports 12.50 for them
    check = ledger.check_external_balance(
        book, "bank", "USD", "12.50", account_ids=wallets, actor="key_1"
    )
    # THEN the totals agree, the check is stored as made, and no event is written
    assert (check.external, check.ledger_total, check.difference) == (1250, 1250, 0)
    assert (check.within_tolerance, check.accounts_counted, check.replayed) == (True, 2, False)
    assert check.id.startswith("ext_")
    assert check.as_of == check.checked_at
    assert (check.actor, check.account_ids, check.account_type) == ("key_1", tuple(wallets), None)
    assert ledger.list_external_checks(book).items == [check]
    assert outbox_of(backend) == []


def test_a_check_outside_tolerance_writes_the_mismatch_event_with_it(
    ledger: Ledger, backend: Backend, book: str
) -> None:
    # GIVEN a wallet of 10.00
    wallet = funded(ledger, book, "10.00")
    # WHEN the bank reports 10.05 with a tolerance of 0.05, then 10.06 with the same
    edge = ledger.check_external_balance(
        book, "bank", "USD", "10.05", account_ids=[wallet], tolerance="0.05"
    )
    over = ledger.check_external_balance(
        book, "bank", "USD", "10.06", account_ids=[wallet], tolerance="0.05"
    )
    # THEN a difference equal to the tolerance is within it, one above is not, and only
    # that one wrote its event, the check's view with its ledger
    assert (edge.difference, edge.within_tolerance) == (5, True)
    assert (over.difference, over.within_tolerance) == (6, False)
    (event,) = outbox_of(backend)
    assert event.detail_type == events.reconciliation_mismatch
    assert event.detail == {**external_check_view(over), "ledger_id": book}
    assert event.event_id == events.event_id(book, events.reconciliation_mismatch, over.id)
    assert event.detail["difference"] == "0.06"


def test_an_overdrawn_source_and_a_ledger_above_it_give_a_negative_difference(
    ledger: Ledger, book: str
) -> None:
    # GIVEN a wallet of 10.00
    wallet = funded(ledger, book, "10.00")
    # WHEN the bank reports -1.00, then exactly zero
    below = ledger.check_external_balance(book, "bank", "USD", "-1.00", account_ids=[wallet])
    empty = ledger.check_external_balance(book, "bank", "USD", "0.00", account_ids=[wallet])
    # THEN each is its signed amount against the ledger's 10.00
    assert (below.external, below.difference) == (-100, -1100)
    assert (empty.external, empty.difference) == (0, -1000)


def test_a_type_counts_every_account_of_it_in_the_currency(ledger: Ledger, book: str) -> None:
    # GIVEN two USD liabilities, a EUR liability and a USD expense, each funded
    liabilities = [funded(ledger, book, "3.00"), funded(ledger, book, "4.00")]
    funded(ledger, book, "5.00", currency="EUR")
    expense = open_account(ledger, book, type="expense").id
    ledger.deposit(expense, "6.00")
    # WHEN the liabilities in USD are checked against 7.00
    check = ledger.check_external_balance(book, "bank", "USD", "7.00", account_type="liability")
    # THEN only the two USD liabilities count
    assert (check.ledger_total, check.accounts_counted) == (700, len(liabilities))
    assert (check.account_type, check.account_ids) == (AccountType.LIABILITY, None)


def test_a_sharded_account_counts_the_sum_of_its_shards(ledger: Ledger, book: str) -> None:
    # GIVEN a revenue account of four shards paid three times by a wallet
    wallet = funded(ledger, book, "9.00")
    fees = ledger.create_account(book, "fees", "revenue", "USD", overdraft="allow", shards=4)
    for amount in ("1.00", "2.00", "3.00"):
        ledger.transfer(wallet, fees.id, amount)
    # WHEN it is checked
    check = ledger.check_external_balance(book, "processor", "USD", "6.00", account_ids=[fees.id])
    # THEN its shards are summed
    assert (check.ledger_total, check.within_tolerance) == (600, True)


def test_a_check_as_of_the_past_reads_the_balance_recorded_then(
    ledger: Ledger, backend: Backend, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a wallet of 10.00 at a moment, paid 5.00 more after it
    wallet = funded(ledger, book, "10.00")
    moment = ledger.get_account(wallet).updated_at
    ledger.deposit(wallet, "5.00")
    # WHEN it is checked as of that moment
    if "history" not in backend.store.projections:
        # THEN a store that keeps no history cannot answer, and writes nothing
        with nothing_written(), pytest.raises(HistoryNotKept):
            ledger.check_external_balance(
                book, "bank", "USD", "10.00", account_ids=[wallet], as_of=moment
            )
        assert ledger.list_external_checks(book).items == []
        return
    check = ledger.check_external_balance(
        book, "bank", "USD", "10.00", account_ids=[wallet], as_of=moment
    )
    # THEN the balance of that moment counts, and the check is dated then
    assert (check.ledger_total, check.as_of, check.within_tolerance) == (1000, moment, True)
    assert check.checked_at > moment


def test_a_replay_answers_the_stored_check_and_a_reused_key_is_refused(
    ledger: Ledger, backend: Backend, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a mismatching check made with a key
    wallet = funded(ledger, book, "10.00")
    first = ledger.check_external_balance(
        book, "bank", "USD", "9.00", account_ids=[wallet], idempotency_key="daily-1"
    )
    ledger.deposit(wallet, "1.00")
    # WHEN the same request comes again with the key, and another one with it
    with nothing_written():
        again = ledger.check_external_balance(
            book, "bank", "USD", "9.00", account_ids=[wallet], idempotency_key="daily-1"
        )
        with pytest.raises(IdempotencyKeyReused):
            ledger.check_external_balance(
                book, "bank", "USD", "9.01", account_ids=[wallet], idempotency_key="daily-1"
            )
    # THEN the replay is the stored check (of the balance then), one check and one event
    assert again == type(first)(**{**first.__dict__, "replayed": True})
    assert ledger.list_external_checks(book).items == [first]
    assert len(outbox_of(backend)) == 1


def test_listings_go_by_source_then_newest_first_in_pages(ledger: Ledger, book: str) -> None:
    # GIVEN three checks of "bank" and two of "chain", made in turns
    wallet = funded(ledger, book, "1.00")
    made = [
        ledger.check_external_balance(book, source, "USD", "1.00", account_ids=[wallet])
        for source in ("chain", "bank", "chain", "bank", "bank")
    ]
    # WHEN all are listed one at a time, and each source on its own
    everything = walk(ledger, book, None)
    banks = walk(ledger, book, "bank")
    # THEN sources come in name order, each newest first, and a source lists its own
    newest_first = list(reversed(made))
    bank_checks = [check for check in newest_first if check.source == "bank"]
    chain_checks = [check for check in newest_first if check.source == "chain"]
    assert everything == bank_checks + chain_checks
    assert banks == bank_checks
    assert walk(ledger, book, "chain-2") == []


def walk(ledger: Ledger, book: str, source: str | None) -> list[Any]:
    found: list[Any] = []
    cursor: str | None = None
    for _ in range(10):
        page = ledger.list_external_checks(book, source=source, limit=1, cursor=cursor)
        found += page.items
        cursor = page.next_cursor
        if cursor is None:
            return found
    raise AssertionError("the listing did not end")


def test_a_cursor_is_good_only_for_its_listing(ledger: Ledger, book: str) -> None:
    # GIVEN a page of one of two checks of "bank"
    wallet = funded(ledger, book, "1.00")
    for _ in range(2):
        ledger.check_external_balance(book, "bank", "USD", "1.00", account_ids=[wallet])
    cursor = ledger.list_external_checks(book, source="bank", limit=1).next_cursor
    assert cursor is not None
    # WHEN it is given to another source's listing, or another caller's
    # THEN it is refused
    with pytest.raises(ValidationError) as raised:
        ledger.list_external_checks(book, source="chain", cursor=cursor)
    assert raised.value.field == "cursor"
    with pytest.raises(ValidationError):
        ledger.list_external_checks(book, source="bank", cursor=cursor, caller="key_other")


def test_a_listing_of_an_unknown_ledger_or_a_bad_source_is_refused(ledger: Ledger) -> None:
    # GIVEN a ledger id that names no ledger THEN listing it is 404, and a bad source a 400
    with pytest.raises(NotFound):
        ledger.list_external_checks("ldg_aaaaaaaaaaaaaaaa")
    book = new_book(ledger)
    with pytest.raises(ValidationError) as raised:
        ledger.list_external_checks(book, source="no spaces")
    assert raised.value.field == "source"


def refusals(book: str, other: str, wallet: str, euro: str, foreign: str) -> list[Any]:
    """Requests that must be refused, each with what it is refused with."""
    ids = {"account_ids": [wallet]}
    return [
        ({"ledger_id": "ldg_aaaaaaaaaaaaaaaa", **ids}, NotFound, None),
        ({"source": "has space", **ids}, ValidationError, "source"),
        ({"currency": "XYZ", **ids}, ValidationError, "currency"),
        ({"amount": "1.001", **ids}, ValidationError, "amount"),
        ({"amount": "--1", **ids}, ValidationError, "amount"),
        ({"amount": 1, **ids}, ValidationError, "amount"),
        ({"amount": "0.000", **ids}, ValidationError, "amount"),
        ({"tolerance": "-0.01", **ids}, ValidationError, "tolerance"),
        ({"tolerance": 0, **ids}, ValidationError, "tolerance"),
        ({"tolerance": "0.001", **ids}, ValidationError, "tolerance"),
        ({}, ValidationError, "account_ids"),
        ({"account_type": "liability", **ids}, ValidationError, "account_type"),
        ({"account_ids": []}, ValidationError, "account_ids"),
        ({"account_ids": wallet}, ValidationError, "account_ids"),
        ({"account_ids": [wallet, wallet]}, ValidationError, "account_ids"),
        ({"account_ids": [7]}, ValidationError, "account_ids"),
        (
            {
                "account_ids": [
                    f"{wallet[:-1]}{n}" for n in range(limits.external_check_accounts_max + 1)
                ]
            },
            ValidationError,
            "account_ids",
        ),
        ({"account_type": "wallet"}, ValidationError, "account_type"),
        ({"account_ids": ["acc_nonsense"]}, NotFound, None),
        ({"account_ids": [missing_account_id(book)]}, NotFound, None),
        ({"account_ids": [euro]}, CurrencyMismatch, None),
        ({"account_ids": [foreign]}, LedgerMismatch, None),
        ({"as_of": "yesterday", **ids}, ValidationError, "as_of"),
        ({"actor": "", **ids}, ValidationError, "actor"),
        ({"idempotency_key": "", **ids}, ValidationError, "idempotency_key"),
    ]


def test_every_refusal_writes_nothing(
    ledger: Ledger, backend: Backend, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a wallet, a EUR account and an account of another ledger
    other = new_book(ledger)
    wallet = funded(ledger, book, "1.00")
    euro = open_account(ledger, book, currency="EUR").id
    foreign = open_account(ledger, other).id
    for changes, error, field in refusals(book, other, wallet, euro, foreign):
        request: dict[str, Any] = {
            "ledger_id": book,
            "source": "bank",
            "currency": "USD",
            "amount": "1.00",
            **changes,
        }
        # WHEN it is sent THEN it is refused as it should be, and nothing is written
        with nothing_written(), pytest.raises(LedgerError) as raised:
            ledger.check_external_balance(**request)
        assert type(raised.value) is error, changes
        if field is not None:
            assert isinstance(raised.value, ValidationError)
            assert raised.value.field == field, changes
    assert ledger.list_external_checks(book).items == []
    assert outbox_of(backend) == []


def test_a_check_as_of_the_future_is_refused(
    ledger: Ledger, backend: Backend, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a wallet
    wallet = funded(ledger, book, "1.00")
    later = ledger.get_account(wallet).updated_at + timedelta(days=1)
    # WHEN it is checked as of tomorrow THEN the time is refused by name, nothing written
    with nothing_written(), pytest.raises(ValidationError) as raised:
        ledger.check_external_balance(
            book, "bank", "USD", "1.00", account_ids=[wallet], as_of=later
        )
    assert raised.value.field == "as_of"
    assert ledger.list_external_checks(book).items == []


def test_a_store_without_external_checks_says_so() -> None:
    # GIVEN a store that keeps everything but external checks
    class Plain:
        def __getattr__(self, name: str) -> Any:
            if "external" in name:
                raise AttributeError(name)
            return getattr(MemoryStore(), name)

    ledger = Ledger(Plain())
    # WHEN checks are asked for THEN the store's lack is the answer
    with pytest.raises(ExternalChecksNotKept):
        ledger.list_external_checks("ldg_aaaaaaaaaaaaaaaa")
    with pytest.raises(ExternalChecksNotKept):
        ledger.check_external_balance("ldg_aaaaaaaaaaaaaaaa", "bank", "USD", "1.00")
