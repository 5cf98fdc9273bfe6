"""Idempotency of entries: a replay returns the original and moves no money twice; a
refused request leaves its key unused."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.domain.errors import InsufficientFunds, UnbalancedEntry
from ledger.service import Ledger, LineInput

from .helpers import new_book, open_account


def test_replay_returns_the_original_entry_and_moves_money_once(ledger: Ledger, book: str) -> None:
    # GIVEN a deposit made with an idempotency key
    wallet = open_account(ledger, book)
    first = ledger.deposit(wallet.id, "10.00", reference="r-1", idempotency_key="dep-1")
    assert first.replayed is False
    # WHEN the same request comes twice more
    replays = [
        ledger.deposit(wallet.id, "10.00", reference="r-1", idempotency_key="dep-1")
        for _ in range(2)
    ]
    # THEN each answer is the original entry, marked as a replay
    for replay in replays:
        assert replay.replayed is True
        assert (replay.id, replay.created_at, replay.lines, replay.kind) == (
            first.id,
            first.created_at,
            first.lines,
            first.kind,
        )
    # AND the money moved once
    balance = ledger.get_balance(wallet.id)
    assert (balance.posted, balance.version) == (1000, 1)
    assert [entry.id for entry in ledger.list_entries(book).items] == [first.id]


def test_the_same_amount_spelled_otherwise_is_a_replay(ledger: Ledger, book: str) -> None:
    # GIVEN a deposit of "10.00" made with a key
    wallet = open_account(ledger, book)
    first = ledger.deposit(wallet.id, "10.00", idempotency_key="dep-1")
    for spelling in ("10", "10.0", "010.00", Decimal("10.00"), Decimal("1E+1")):
        # WHEN the same amount comes back, written another way
        again = ledger.deposit(wallet.id, spelling, idempotency_key="dep-1")
        # THEN it is the same request: a replay
        assert (again.replayed, again.id) == (True, first.id), spelling
    assert ledger.get_balance(wallet.id).posted == 1000


def test_transfer_and_entry_replays(ledger: Ledger, book: str) -> None:
    # GIVEN a transfer and a three-line entry, each made with a key
    wallet, payee, bank = (
        open_account(ledger, book),
        open_account(ledger, book),
        open_account(ledger, book, type="asset"),
    )
    lines = [
        LineInput(bank.id, "debit", "30.00"),
        LineInput(wallet.id, "credit", "20.00"),
        LineInput(payee.id, "credit", "10.00"),
    ]
    entry = ledger.create_entry(book, lines, description="funding", idempotency_key="e-1")
    transfer = ledger.transfer(wallet.id, payee.id, "5.00", idempotency_key="t-1")
    # WHEN both requests come again
    entry_again = ledger.create_entry(book, lines, description="funding", idempotency_key="e-1")
    transfer_again = ledger.transfer(wallet.id, payee.id, "5.00", idempotency_key="t-1")
    # THEN both are replays of the originals, and the balances moved once
    assert (entry_again.replayed, entry_again.id, entry_again.lines) == (
        True,
        entry.id,
        entry.lines,
    )
    assert (transfer_again.replayed, transfer_again.id) == (True, transfer.id)
    balances = [ledger.get_balance(account.id).posted for account in (bank, wallet, payee)]
    assert balances == [3000, 1500, 1500]


def test_keys_are_scoped_to_their_ledger(ledger: Ledger, book: str) -> None:
    # GIVEN wallets in two ledgers
    here = open_account(ledger, book)
    there = open_account(ledger, new_book(ledger))
    # WHEN each posts a deposit with the same key
    first = ledger.deposit(here.id, "1.00", idempotency_key="same")
    second = ledger.deposit(there.id, "1.00", idempotency_key="same")
    # THEN they are two entries, neither a replay
    assert first.id != second.id
    assert (first.replayed, second.replayed) == (False, False)
    assert [ledger.get_balance(account.id).posted for account in (here, there)] == [100, 100]


def test_refused_request_does_not_use_up_its_key(ledger: Ledger, book: str) -> None:
    # GIVEN an empty wallet
    wallet = open_account(ledger, book)
    # WHEN a withdrawal with a key is refused for lack of funds
    with pytest.raises(InsufficientFunds):
        ledger.withdraw(wallet.id, "5.00", idempotency_key="wd-1")
    # THEN after funding, the same key carries the same withdrawal through
    ledger.deposit(wallet.id, "5.00")
    done = ledger.withdraw(wallet.id, "5.00", idempotency_key="wd-1")
    assert done.replayed is False
    assert ledger.get_balance(wallet.id).posted == 0
    # AND only then does the key replay
    assert ledger.withdraw(wallet.id, "5.00", idempotency_key="wd-1").replayed is True


def test_invalid_request_does_not_use_up_its_key(ledger: Ledger, book: str) -> None:
    # GIVEN a wallet and the bank
    wallet, bank = open_account(ledger, book), open_account(ledger, book, type="asset")
    # WHEN an unbalanced entry with a key is refused
    with pytest.raises(UnbalancedEntry):
        ledger.create_entry(
            book,
            [LineInput(bank.id, "debit", "2.00"), LineInput(wallet.id, "credit", "1.00")],
            idempotency_key="e-1",
        )
    # THEN a corrected entry can use the key
    fixed = ledger.create_entry(
        book,
        [LineInput(bank.id, "debit", "1.00"), LineInput(wallet.id, "credit", "1.00")],
        idempotency_key="e-1",
    )
    assert fixed.replayed is False
    assert ledger.get_balance(wallet.id).posted == 100


def test_replay_after_the_money_left_still_returns_the_original(ledger: Ledger, book: str) -> None:
    # GIVEN a wallet emptied by a keyed withdrawal, then closed
    wallet = open_account(ledger, book)
    ledger.deposit(wallet.id, "8.00")
    original = ledger.withdraw(wallet.id, "8.00", idempotency_key="wd-1")
    ledger.update_account(wallet.id, status="closed")
    # WHEN the withdrawal is retried with its key
    replay = ledger.withdraw(wallet.id, "8.00", idempotency_key="wd-1")
    # THEN the original answer comes back, not insufficient funds or an inactive account
    assert (replay.replayed, replay.id, replay.created_at) == (
        True,
        original.id,
        original.created_at,
    )
    assert ledger.get_balance(wallet.id).posted == 0


def test_longest_key_is_accepted(ledger: Ledger, book: str) -> None:
    # GIVEN a key of exactly the maximum length, with every printable character class
    wallet = open_account(ledger, book)
    key = (" ~!Az09" * 40)[:255]
    # WHEN it is used twice
    first = ledger.deposit(wallet.id, "1.00", idempotency_key=key)
    again = ledger.deposit(wallet.id, "1.00", idempotency_key=key)
    # THEN it works as a key
    assert (again.replayed, again.id) == (True, first.id)
