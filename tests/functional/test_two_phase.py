"""Two-phase entries on every store: created pending, then posted (fully or for less) or
voided exactly once; pending inflows never count as available."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ledger.domain import limits
from ledger.domain.errors import (
    AccountInactive,
    AlreadyResolved,
    AmountExceedsPending,
    InsufficientFunds,
    LedgerError,
    NotFound,
    NotPending,
    ValidationError,
)
from ledger.domain.ids import new_entry_id
from ledger.domain.model import Entry, EntryKind, EntryStatus, Line, Side
from ledger.service import Ledger, LineInput

from .checks import assert_invariants, refused
from .helpers import Backend, NothingWritten, open_account


def _funded_pair(ledger: Ledger, book: str) -> tuple[str, str]:
    """A wallet holding 100.00 and an empty payee, both USD liabilities."""
    wallet, payee = open_account(ledger, book), open_account(ledger, book)
    ledger.deposit(wallet.id, "100.00")
    return wallet.id, payee.id


def _pay_pending(ledger: Ledger, book: str, payer: str, payee: str, amount: str) -> Entry:
    """A pending raw entry moving `amount` from one liability to another."""
    lines = [LineInput(payer, "debit", amount), LineInput(payee, "credit", amount)]
    return ledger.create_entry(book, lines, pending=True, description="invoice 7")


def test_a_pending_entry_lowers_the_payers_available_and_nobody_elses(
    ledger: Ledger, book: str, nothing_written: NothingWritten, backend: Backend
) -> None:
    # GIVEN a wallet with 100.00 and an empty payee
    wallet, payee = _funded_pair(ledger, book)
    # WHEN 30.00 move between them pending
    entry = _pay_pending(ledger, book, wallet, payee, "30.00")
    # THEN the entry is pending, never expiring, with the lines given
    assert (entry.kind, entry.status, entry.expires_at) == (
        EntryKind.ENTRY,
        EntryStatus.PENDING,
        None,
    )
    assert entry.lines == (
        Line(wallet, Side.DEBIT, 3000, "USD"),
        Line(payee, Side.CREDIT, 3000, "USD"),
    )
    assert ledger.get_entry(entry.id) == entry
    # AND the wallet's available drops at once while its posted balance stays
    paying = ledger.get_balance(wallet)
    assert (paying.posted, paying.pending_out, paying.available) == (10000, 3000, 7000)
    assert (paying.held, paying.escrowed, paying.pending_in) == (0, 0, 0)
    # AND the payee sees the money coming but cannot use it
    receiving = ledger.get_balance(payee)
    assert (receiving.posted, receiving.pending_in, receiving.available) == (0, 3000, 0)
    assert receiving.spendable == 0
    error = refused(nothing_written, lambda: ledger.spend(payee, "0.01"), InsufficientFunds)
    assert error.details == {"account_id": payee}
    assert_invariants(backend, book)


def test_pending_inflows_never_raise_available_on_either_normal_side(
    ledger: Ledger, book: str, nothing_written: NothingWritten, backend: Backend
) -> None:
    # GIVEN a funded wallet, an empty asset account and an empty liability
    wallet = open_account(ledger, book)
    ledger.deposit(wallet.id, "50.00")
    asset, liability = open_account(ledger, book, type="asset"), open_account(ledger, book)
    # WHEN a pending entry debits the wallet 20.00 and the asset 8.00, and credits the
    # liability 28.00: the wallet pays, the asset (on its debit side) and the liability
    # (on its credit side) both gain
    ledger.create_entry(
        book,
        [
            LineInput(wallet.id, "debit", "20.00"),
            LineInput(asset.id, "debit", "8.00"),
            LineInput(liability.id, "credit", "28.00"),
        ],
        pending=True,
    )
    # THEN neither receiving account can spend anything yet
    for account in (asset, liability):
        balance = ledger.get_balance(account.id)
        assert (balance.available, balance.spendable, balance.posted) == (0, 0, 0)
    assert ledger.get_balance(liability.id).pending_in == 2800
    assert ledger.get_balance(asset.id).pending_in == 800
    with nothing_written(), pytest.raises(InsufficientFunds):
        ledger.withdraw(liability.id, "0.01")
    # AND the wallet's own funds are reduced by its pending outflow only
    assert ledger.get_balance(wallet.id).available == 3000
    assert_invariants(backend, book)


def test_posting_a_pending_entry_in_full_creates_a_linked_posting_entry(
    ledger: Ledger, book: str, backend: Backend
) -> None:
    # GIVEN 30.00 pending from a wallet of 100.00 to a payee
    wallet, payee = _funded_pair(ledger, book)
    pending = _pay_pending(ledger, book, wallet, payee, "30.00")
    # WHEN posting it
    posted = ledger.post_entry(pending.id)
    # THEN the pending entry is now posted, pointing at a new posting entry
    assert (posted.id, posted.status, posted.replayed) == (pending.id, EntryStatus.POSTED, False)
    assert posted.posting_entry_id is not None
    assert posted.posting_entry_id != pending.id
    assert ledger.get_entry(pending.id) == posted
    posting = ledger.get_entry(posted.posting_entry_id)
    assert (posting.kind, posting.status, posting.pending_id) == (
        EntryKind.POST,
        EntryStatus.POSTED,
        pending.id,
    )
    assert posting.lines == pending.lines
    assert posting.description == "invoice 7"
    # AND the money has moved for good
    paying, receiving = ledger.get_balance(wallet), ledger.get_balance(payee)
    assert (paying.posted, paying.pending_out, paying.available) == (7000, 0, 7000)
    assert (receiving.posted, receiving.pending_in, receiving.available) == (3000, 0, 3000)
    assert_invariants(backend, book)


def test_posting_less_than_pending_releases_the_rest(
    ledger: Ledger, book: str, backend: Backend
) -> None:
    # GIVEN 30.00 pending from a wallet of 100.00 to a payee
    wallet, payee = _funded_pair(ledger, book)
    pending = _pay_pending(ledger, book, wallet, payee, "30.00")
    # WHEN posting 12.50 of it
    posted = ledger.post_entry(pending.id, "12.50")
    # THEN the posting entry carries 12.50 on both lines
    assert posted.posting_entry_id is not None
    posting = ledger.get_entry(posted.posting_entry_id)
    assert [line.amount for line in posting.lines] == [1250, 1250]
    # AND only 12.50 moved; the other 17.50 is the wallet's again, nothing is pending
    paying, receiving = ledger.get_balance(wallet), ledger.get_balance(payee)
    assert (paying.posted, paying.pending_out, paying.available) == (8750, 0, 8750)
    assert (receiving.posted, receiving.pending_in, receiving.available) == (1250, 0, 1250)
    assert_invariants(backend, book)


def test_a_pending_entry_of_many_lines_posts_in_full_only(
    ledger: Ledger, book: str, nothing_written: NothingWritten, backend: Backend
) -> None:
    # GIVEN a pending entry paying two payees from one wallet
    wallet, first = _funded_pair(ledger, book)
    second = open_account(ledger, book).id
    pending = ledger.create_entry(
        book,
        [
            LineInput(wallet, "debit", "9.00"),
            LineInput(first, "credit", "6.00"),
            LineInput(second, "credit", "3.00"),
        ],
        pending=True,
    )
    # WHEN posting part of it
    error = refused(nothing_written, lambda: ledger.post_entry(pending.id, "1.00"), ValidationError)
    # THEN it is refused (how to split the part is not defined) and still pending
    assert error.details == {"field": "amount"}
    assert ledger.get_entry(pending.id).status is EntryStatus.PENDING
    # AND posting it in full moves every line
    ledger.post_entry(pending.id)
    assert [ledger.get_balance(account).posted for account in (wallet, first, second)] == [
        9100,
        600,
        300,
    ]
    assert_invariants(backend, book)


def test_voiding_releases_everything_and_creates_no_entry(
    ledger: Ledger, book: str, backend: Backend
) -> None:
    # GIVEN 30.00 pending from a wallet of 100.00 to a payee
    wallet, payee = _funded_pair(ledger, book)
    pending = _pay_pending(ledger, book, wallet, payee, "30.00")
    entries_before = len(ledger.list_entries(book).items)
    # WHEN voiding it
    voided = ledger.void_entry(pending.id)
    # THEN it is voided, with no posting entry, and no entry was added
    assert (voided.id, voided.status, voided.posting_entry_id) == (
        pending.id,
        EntryStatus.VOIDED,
        None,
    )
    assert ledger.get_entry(pending.id) == voided
    assert len(ledger.list_entries(book).items) == entries_before
    # AND both accounts are as before it
    paying, receiving = ledger.get_balance(wallet), ledger.get_balance(payee)
    assert (paying.posted, paying.pending_out, paying.available) == (10000, 0, 10000)
    assert (receiving.posted, receiving.pending_in) == (0, 0)
    assert_invariants(backend, book)


def test_a_pending_entry_resolves_exactly_once(
    ledger: Ledger, book: str, nothing_written: NothingWritten, backend: Backend
) -> None:
    # GIVEN one pending entry posted for 10.00, and another voided
    wallet, payee = _funded_pair(ledger, book)
    posted = _pay_pending(ledger, book, wallet, payee, "30.00")
    voided = _pay_pending(ledger, book, wallet, payee, "5.00")
    ledger.post_entry(posted.id, "10.00")
    ledger.void_entry(voided.id)
    attempts: list[Callable[[], Entry]] = [
        lambda: ledger.post_entry(posted.id),
        lambda: ledger.post_entry(posted.id, "10.01"),
        lambda: ledger.void_entry(posted.id),
        lambda: ledger.post_entry(voided.id),
        lambda: ledger.post_entry(voided.id, "1.00"),
        lambda: ledger.void_entry(voided.id),
    ]
    for attempt in attempts:
        # WHEN resolving either again in another way
        error = refused(nothing_written, attempt, AlreadyResolved)
        # THEN it is already resolved, and nothing moved
        assert (error.code, error.status) == ("already_resolved", 409)
        assert error.details["entry_id"] in (posted.id, voided.id)
    assert ledger.get_balance(wallet).posted == 9000
    assert_invariants(backend, book)


def test_the_same_post_again_is_a_replay(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a pending entry posted for 10.00
    wallet, payee = _funded_pair(ledger, book)
    pending = _pay_pending(ledger, book, wallet, payee, "30.00")
    first = ledger.post_entry(pending.id, "10.00")
    # WHEN the exact same post comes again
    with nothing_written():
        again = ledger.post_entry(pending.id, "10.00")
    # THEN it answers as the first did, marked as a replay, and moves nothing more
    assert again.replayed
    assert (again.id, again.status, again.posting_entry_id) == (
        first.id,
        first.status,
        first.posting_entry_id,
    )
    assert ledger.get_balance(payee).posted == 1000


def test_creating_a_pending_entry_again_with_its_key_replays_it(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a pending entry created with an idempotency key, and then posted
    wallet, payee = _funded_pair(ledger, book)
    lines = [LineInput(wallet, "debit", "4.00"), LineInput(payee, "credit", "4.00")]
    created = ledger.create_entry(book, lines, pending=True, expires_in=600, idempotency_key="p-1")
    ledger.post_entry(created.id)
    # WHEN the same creation request comes again, and one with another expiry
    with nothing_written():
        again = ledger.create_entry(
            book, lines, pending=True, expires_in=600, idempotency_key="p-1"
        )
    changed = refused(
        nothing_written,
        lambda: ledger.create_entry(
            book, lines, pending=True, expires_in=60, idempotency_key="p-1"
        ),
        LedgerError,
    )
    # THEN the first is the entry as it is now, replayed; the second reuses the key
    assert (again.id, again.status, again.replayed) == (created.id, EntryStatus.POSTED, True)
    assert changed.code == "idempotency_key_reused"
    assert ledger.get_balance(payee).posted == 400


def test_posting_more_than_pending_isrefused(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN 30.00 pending
    wallet, payee = _funded_pair(ledger, book)
    pending = _pay_pending(ledger, book, wallet, payee, "30.00")
    # WHEN posting one cent more, or a malformed amount
    error = refused(
        nothing_written, lambda: ledger.post_entry(pending.id, "30.01"), AmountExceedsPending
    )
    malformed = refused(
        nothing_written, lambda: ledger.post_entry(pending.id, "1.001"), ValidationError
    )
    # THEN both are refused and the entry is still pending for its whole amount
    assert (error.code, error.status, error.details) == (
        "amount_exceeds_pending",
        422,
        {"entry_id": pending.id},
    )
    assert malformed.details == {"field": "amount"}
    assert ledger.get_entry(pending.id).status is EntryStatus.PENDING
    assert ledger.get_balance(wallet).pending_out == 3000


def test_only_entries_created_pending_can_be_posted_or_voided(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a posted deposit, and the posting entry of a posted pending entry
    wallet, payee = _funded_pair(ledger, book)
    deposit = ledger.deposit(wallet, "1.00")
    pending = _pay_pending(ledger, book, wallet, payee, "2.00")
    posting_id = ledger.post_entry(pending.id).posting_entry_id
    assert posting_id is not None
    for entry_id in (deposit.id, posting_id):
        for attempt in (ledger.post_entry, ledger.void_entry):
            # WHEN posting or voiding it
            error = refused(nothing_written, lambda: attempt(entry_id), NotPending)  # noqa: B023
            # THEN it is not pending
            assert (error.code, error.status, error.details) == (
                "not_pending",
                422,
                {"entry_id": entry_id},
            )


def test_resolving_an_unknown_entry_is_not_found(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN an entry id of the ledger that names nothing, and a malformed id
    missing = new_entry_id(book, None)
    for entry_id in (missing, "ent_nonsense"):
        for attempt in (ledger.post_entry, ledger.void_entry):
            # WHEN posting or voiding it
            error = refused(nothing_written, lambda: attempt(entry_id), NotFound)  # noqa: B023
            # THEN it is not found
            assert error.details == {"resource": "entry", "id": entry_id}


def test_a_pending_entry_beyond_the_payers_funds_isrefused(
    ledger: Ledger, book: str, nothing_written: NothingWritten, backend: Backend
) -> None:
    # GIVEN a wallet of 100.00 with 60.00 already pending out
    wallet, payee = _funded_pair(ledger, book)
    _pay_pending(ledger, book, wallet, payee, "60.00")
    # WHEN another 40.01 would go out pending, or be spent
    pending = refused(
        nothing_written,
        lambda: _pay_pending(ledger, book, wallet, payee, "40.01"),
        InsufficientFunds,
    )
    spent = refused(nothing_written, lambda: ledger.spend(wallet, "40.01"), InsufficientFunds)
    # THEN both are refused: the pending outflow already counts against the wallet
    assert pending.details == spent.details == {"account_id": wallet}
    # AND exactly the rest can still go
    _pay_pending(ledger, book, wallet, payee, "40.00")
    assert ledger.get_balance(wallet).available == 0
    assert_invariants(backend, book)


malformed_expiries: list[Any] = [0, -1, limits.expires_in_s_max + 1, 1.5, "60", True]


def test_a_malformed_expiry_isrefused(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a wallet and a payee
    wallet, payee = _funded_pair(ledger, book)
    lines = [LineInput(wallet, "debit", "1.00"), LineInput(payee, "credit", "1.00")]
    for expires_in in malformed_expiries:
        # WHEN creating a pending entry with an expiry that is no whole number of seconds
        # in range
        error = refused(
            nothing_written,
            lambda: ledger.create_entry(book, lines, pending=True, expires_in=expires_in),  # noqa: B023
            ValidationError,
        )
        # THEN it is refused, naming the field
        assert error.details == {"field": "expires_in"}, expires_in


def test_an_expiry_needs_a_pending_entry_and_may_be_as_long_as_the_maximum(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a wallet and a payee
    wallet, payee = _funded_pair(ledger, book)
    lines = [LineInput(wallet, "debit", "1.00"), LineInput(payee, "credit", "1.00")]
    # WHEN a posted entry names an expiry
    error = refused(
        nothing_written, lambda: ledger.create_entry(book, lines, expires_in=60), ValidationError
    )
    # THEN it is refused
    assert error.details == {"field": "expires_in"}
    # AND the longest expiry is accepted, counted from the entry's creation
    entry = ledger.create_entry(book, lines, pending=True, expires_in=limits.expires_in_s_max)
    assert entry.expires_at is not None
    assert (entry.expires_at - entry.created_at).total_seconds() == limits.expires_in_s_max


def test_a_void_works_on_a_suspended_account_but_a_post_does_not(
    ledger: Ledger, book: str, nothing_written: NothingWritten, backend: Backend
) -> None:
    # GIVEN two pending entries out of a wallet that is then suspended
    wallet, payee = _funded_pair(ledger, book)
    first = _pay_pending(ledger, book, wallet, payee, "10.00")
    second = _pay_pending(ledger, book, wallet, payee, "20.00")
    ledger.update_account(wallet, status="suspended")
    # WHEN posting one
    error = refused(nothing_written, lambda: ledger.post_entry(first.id), AccountInactive)
    # THEN the suspended account takes part in no new posting
    assert error.details == {"account_id": wallet}
    # AND voiding both still gives its money back
    ledger.void_entry(first.id)
    ledger.void_entry(second.id)
    balance = ledger.get_balance(wallet)
    assert (balance.pending_out, balance.available) == (0, 10000)
    assert ledger.get_account(wallet).status == "suspended"
    assert_invariants(backend, book)
