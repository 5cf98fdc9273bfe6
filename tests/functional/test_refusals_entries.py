"""Refused entries: every malformed or impossible request fails with its exact code and
writes nothing.

Every test here only sends requests that must fail, so the module shares one set of
`books` per store; each test checks that its request left every stored item alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from ledger.domain import limits
from ledger.domain.errors import (
    AccountInactive,
    CurrencyMismatch,
    IdempotencyKeyReused,
    InsufficientFunds,
    LedgerError,
    LedgerMismatch,
    NotFound,
    UnbalancedEntry,
    ValidationError,
)
from ledger.domain.ids import new_ledger_id
from ledger.domain.model import Entry
from ledger.service import Ledger, LineInput

from .helpers import Books, NothingWritten, missing_account_id

Attempt = Callable[[], Entry]


def _refused(
    nothing_written: NothingWritten, attempt: Attempt, error: type[LedgerError]
) -> LedgerError:
    """Run a request that must fail; check it wrote nothing and return its error."""
    with nothing_written(), pytest.raises(error) as caught:
        attempt()
    return caught.value


bad_amounts: list[Any] = [
    "1.234",
    "-1",
    "0",
    "0.00",
    "abc",
    1.5,
    10,
    True,
    None,
    "1e3",
    "1E3",
    "",
    " 1",
    "1 ",
    "1.",
    ".5",
    "+1",
    "1,00",
    "0x10",
    "NaN",
    "Infinity",
    "\u0661",  # ARABIC-INDIC DIGIT ONE: a digit to Python, not to the ledger
    Decimal("NaN"),
    Decimal("Infinity"),
    Decimal("-1"),
    Decimal("0"),
    Decimal("0.001"),
    "1" * (limits.amount_text_length_max + 1),
    "10000000000000000000000000000.01",  # one minor unit above the largest amount
]


@pytest.mark.parametrize("amount", bad_amounts, ids=lambda value: repr(value)[:24])
def test_malformed_amount_is_refused_by_every_operation(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten, amount: Any
) -> None:
    # GIVEN a funded USD wallet, a payee and the bank
    wallet, payee, bank = books.wallet.id, books.payee.id, books.bank.id
    attempts: dict[str, Attempt] = {
        "deposit": lambda: shared_ledger.deposit(wallet, amount),
        "withdraw": lambda: shared_ledger.withdraw(wallet, amount),
        "spend": lambda: shared_ledger.spend(wallet, amount),
        "refund": lambda: shared_ledger.refund(wallet, amount),
        "transfer": lambda: shared_ledger.transfer(wallet, payee, amount),
        "entry": lambda: shared_ledger.create_entry(
            books.ledger_id,
            [LineInput(bank, "debit", amount), LineInput(wallet, "credit", "1.00")],
        ),
    }
    for name, attempt in attempts.items():
        # WHEN each operation is asked to move the malformed amount
        error = _refused(shared_nothing_written, attempt, ValidationError)
        # THEN it is refused, naming the amount field
        field = "lines[0].amount" if name == "entry" else "amount"
        assert (error.code, error.details) == ("validation_error", {"field": field}), name


def test_amount_in_another_currency_is_refused(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten
) -> None:
    # GIVEN a USD wallet and a EUR account
    wallet, euro = books.wallet.id, books.euro.id
    # WHEN money would move between them, or a line names a currency its account lacks
    for attempt, details in (
        (lambda: shared_ledger.transfer(wallet, euro, "1.00"), {"account_id": euro}),
        (lambda: shared_ledger.transfer(euro, wallet, "1.00"), {"account_id": wallet}),
        (
            lambda: shared_ledger.deposit(wallet, "1.00", counterparty_account_id=euro),
            {"account_id": euro},
        ),
        (
            lambda: shared_ledger.create_entry(
                books.ledger_id,
                [
                    LineInput(books.bank.id, "debit", "1.00", currency="USD"),
                    LineInput(wallet, "credit", "1.00", currency="EUR"),
                ],
            ),
            {"field": "lines[1].currency", "account_id": wallet},
        ),
        (
            lambda: shared_ledger.create_entry(
                books.ledger_id,
                [
                    LineInput(books.bank.id, "debit", "1.00", currency="usd"),
                    LineInput(wallet, "credit", "1.00"),
                ],
            ),
            {"field": "lines[0].currency", "account_id": books.bank.id},
        ),
    ):
        error = _refused(shared_nothing_written, attempt, CurrencyMismatch)
        # THEN it is refused as a currency mismatch, naming the account
        assert (error.code, error.details) == ("currency_mismatch", details)


@pytest.mark.parametrize(
    ("lines", "details"),
    [
        (
            [("bank", "debit", "10.00"), ("wallet", "credit", "9.99")],
            {"currency": "USD", "debits": "10.00", "credits": "9.99"},
        ),
        (
            [("bank", "debit", "10.00"), ("euro", "credit", "10.00")],
            {"currency": "EUR", "debits": "0.00", "credits": "10.00"},
        ),
        (
            [("bank", "debit", "1.00"), ("expense", "debit", "1.00")],
            {"currency": "USD", "debits": "2.00", "credits": "0.00"},
        ),
        (
            [("bank", "debit", "5.00"), ("wallet", "credit", "5.00"), ("points", "credit", "5")],
            {"currency": "POINTS", "debits": "0", "credits": "5"},
        ),
    ],
    ids=["short-credit", "cross-currency", "all-debits", "balanced-usd-unbalanced-points"],
)
def test_unbalanced_entry_is_refused(
    shared_ledger: Ledger,
    books: Books,
    shared_nothing_written: NothingWritten,
    lines: list[tuple[str, str, str]],
    details: dict[str, str],
) -> None:
    # GIVEN lines whose debits and credits differ in one currency
    inputs = [LineInput(getattr(books, name).id, side, amount) for name, side, amount in lines]
    # WHEN they are posted
    error = _refused(
        shared_nothing_written,
        lambda: shared_ledger.create_entry(books.ledger_id, inputs),
        UnbalancedEntry,
    )
    # THEN the entry is refused, naming the currency and both totals
    assert (error.code, error.details) == ("unbalanced_entry", details)


def test_unknown_account_is_not_found(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten
) -> None:
    # GIVEN malformed ids, a well-formed id of no account, and a real id with a forged side
    wallet = books.wallet.id
    missing = missing_account_id(books.ledger_id)
    forged = wallet.replace("USD-2-c", "USD-2-d")
    ledger_id = books.ledger_id
    cases: list[tuple[Attempt, str]] = [
        (lambda: shared_ledger.deposit("acc_nope", "1.00"), "acc_nope"),
        (lambda: shared_ledger.deposit(wallet, "1.00", counterparty_account_id="x"), "x"),
        (lambda: shared_ledger.deposit(missing, "1.00"), missing),
        (lambda: shared_ledger.deposit(forged, "1.00"), forged),
        (lambda: shared_ledger.transfer(wallet, missing, "1.00"), missing),
        (lambda: shared_ledger.withdraw(missing, "1.00"), missing),
        (
            lambda: shared_ledger.create_entry(
                ledger_id, [LineInput(wallet, "debit", "1"), LineInput(missing, "credit", "1")]
            ),
            missing,
        ),
        (
            lambda: shared_ledger.create_entry(
                ledger_id, [LineInput(wallet, "debit", "1"), LineInput("acc_", "credit", "1")]
            ),
            "acc_",
        ),
    ]
    for attempt, account_id in cases:
        # WHEN money would move to or from it
        error = _refused(shared_nothing_written, attempt, NotFound)
        # THEN the account is not found, by that id
        assert (error.code, error.details) == (
            "not_found",
            {"resource": "account", "id": account_id},
        )


def test_entry_in_a_missing_ledger_is_not_found(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten
) -> None:
    # GIVEN a malformed ledger id, and a well-formed one of no ledger with its own account ids
    lines = [LineInput(books.bank.id, "debit", "1"), LineInput(books.wallet.id, "credit", "1")]
    ghost = new_ledger_id(None, None)
    ghost_lines = [
        LineInput(missing_account_id(ghost), "debit", "1"),
        LineInput(missing_account_id(ghost), "credit", "1"),
    ]
    # WHEN entries are posted there
    malformed = _refused(
        shared_nothing_written, lambda: shared_ledger.create_entry("ldg_", lines), NotFound
    )
    missing = _refused(
        shared_nothing_written, lambda: shared_ledger.create_entry(ghost, ghost_lines), NotFound
    )
    # THEN the malformed ledger, and the missing accounts, are not found
    assert malformed.details == {"resource": "ledger", "id": "ldg_"}
    assert missing.details == {"resource": "account", "id": ghost_lines[0].account_id}


@pytest.mark.parametrize("state", ["suspended", "closed"])
def test_inactive_account_takes_no_entry(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten, state: str
) -> None:
    # GIVEN a suspended or closed account, and a funded wallet
    inactive = getattr(books, state).id
    wallet = books.wallet.id
    attempts: list[Attempt] = [
        lambda: shared_ledger.deposit(inactive, "1.00"),
        lambda: shared_ledger.refund(inactive, "1.00"),
        lambda: shared_ledger.withdraw(inactive, "1.00"),
        lambda: shared_ledger.transfer(wallet, inactive, "1.00"),
        lambda: shared_ledger.deposit(wallet, "1.00", counterparty_account_id=inactive),
        # The wallet's and bank's lines are fine: the whole entry still fails.
        lambda: shared_ledger.create_entry(
            books.ledger_id,
            [
                LineInput(books.bank.id, "debit", "2.00"),
                LineInput(wallet, "credit", "1.00"),
                LineInput(inactive, "credit", "1.00"),
            ],
        ),
    ]
    for attempt in attempts:
        # WHEN money would move to or from it
        error = _refused(shared_nothing_written, attempt, AccountInactive)
        # THEN it is refused, naming the account
        assert (error.code, error.details) == ("account_inactive", {"account_id": inactive})


@pytest.mark.parametrize("count", [0, 1, limits.lines_per_entry_max + 1])
def test_entry_with_too_few_or_too_many_lines_is_refused(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten, count: int
) -> None:
    # GIVEN `count` lines on distinct accounts
    lines = [
        LineInput(missing_account_id(books.ledger_id), "debit" if index % 2 else "credit", "1")
        for index in range(count)
    ]
    # WHEN they are posted
    error = _refused(
        shared_nothing_written,
        lambda: shared_ledger.create_entry(books.ledger_id, lines),
        ValidationError,
    )
    # THEN the lines are refused
    assert error.details == {"field": "lines"}


def test_account_twice_in_one_entry_is_refused(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten
) -> None:
    # GIVEN a wallet and the bank
    wallet, bank = books.wallet.id, books.bank.id
    cases: list[tuple[Attempt, str]] = [
        (
            lambda: shared_ledger.create_entry(
                books.ledger_id,
                [
                    LineInput(bank, "debit", "1.00"),
                    LineInput(wallet, "credit", "0.50"),
                    LineInput(wallet, "credit", "0.50"),
                ],
            ),
            "lines[2].account_id",
        ),
        (lambda: shared_ledger.transfer(wallet, wallet, "1.00"), "lines[1].account_id"),
        (
            lambda: shared_ledger.deposit(wallet, "1.00", counterparty_account_id=wallet),
            "lines[1].account_id",
        ),
    ]
    for attempt, field in cases:
        # WHEN one account appears in two lines
        error = _refused(shared_nothing_written, attempt, ValidationError)
        # THEN the second appearance is named
        assert error.details == {"field": field}


def test_account_of_another_ledger_is_refused(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten
) -> None:
    # GIVEN a wallet in this ledger and an account in the other
    wallet, foreign = books.wallet.id, books.foreign.id
    cases: list[tuple[Attempt, dict[str, str]]] = [
        (
            lambda: shared_ledger.create_entry(
                books.ledger_id,
                [LineInput(wallet, "debit", "1.00"), LineInput(foreign, "credit", "1.00")],
            ),
            {"account_id": foreign, "field": "lines[1].account_id"},
        ),
        (
            lambda: shared_ledger.create_entry(
                books.other_ledger_id,
                [LineInput(wallet, "debit", "1.00"), LineInput(foreign, "credit", "1.00")],
            ),
            {"account_id": wallet, "field": "lines[0].account_id"},
        ),
        (
            lambda: shared_ledger.transfer(wallet, foreign, "1.00"),
            {"account_id": foreign, "field": "lines[1].account_id"},
        ),
        (
            lambda: shared_ledger.deposit(wallet, "1.00", counterparty_account_id=foreign),
            {"account_id": foreign, "field": "lines[1].account_id"},
        ),
    ]
    for attempt, details in cases:
        # WHEN they would share an entry
        error = _refused(shared_nothing_written, attempt, LedgerMismatch)
        # THEN it is refused as a ledger mismatch
        assert (error.code, error.details) == ("ledger_mismatch", details)


def test_outflow_beyond_the_floor_is_refused(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten
) -> None:
    # GIVEN a wallet and a bank holding 100.00, an empty payee, and 5.00 + a 50.00 line
    wallet, payee, bank, credit = (
        books.wallet.id,
        books.payee.id,
        books.bank.id,
        books.credit.id,
    )
    cases: list[tuple[Attempt, str]] = [
        (lambda: shared_ledger.withdraw(wallet, "100.01"), wallet),
        (lambda: shared_ledger.spend(wallet, "100.01"), wallet),
        (lambda: shared_ledger.transfer(wallet, payee, "100.01"), wallet),
        (lambda: shared_ledger.withdraw(payee, "0.01"), payee),
        (lambda: shared_ledger.withdraw(bank, "100.01"), bank),
        (lambda: shared_ledger.spend(credit, "55.01"), credit),
        (lambda: shared_ledger.transfer(credit, payee, "55.01"), credit),
        (
            lambda: shared_ledger.create_entry(
                books.ledger_id,
                [
                    LineInput(wallet, "debit", "10.00"),
                    LineInput(payee, "debit", "0.01"),
                    LineInput(books.revenue.id, "credit", "10.01"),
                ],
            ),
            payee,
        ),
    ]
    for attempt, account_id in cases:
        # WHEN an outflow would take the account below its floor
        error = _refused(shared_nothing_written, attempt, InsufficientFunds)
        # THEN it is refused, naming the account
        assert (error.code, error.details) == ("insufficient_funds", {"account_id": account_id})


@pytest.mark.parametrize(
    "key",
    ["", "k" * (limits.idempotency_key_length_max + 1), "tab\tkey", "caf\u00e9", "a\nb", 5],
    ids=lambda value: repr(value)[:20],
)
def test_malformed_idempotency_key_is_refused(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten, key: Any
) -> None:
    # GIVEN a key that is empty, too long, not printable ASCII, or not text
    wallet = books.wallet.id
    attempts: list[Attempt] = [
        lambda: shared_ledger.deposit(wallet, "1.00", idempotency_key=key),
        lambda: shared_ledger.transfer(wallet, books.payee.id, "1.00", idempotency_key=key),
        lambda: shared_ledger.create_entry(
            books.ledger_id,
            [LineInput(books.bank.id, "debit", "1"), LineInput(wallet, "credit", "1")],
            idempotency_key=key,
        ),
    ]
    for attempt in attempts:
        # WHEN a request carries it
        error = _refused(shared_nothing_written, attempt, ValidationError)
        # THEN the key is named
        assert error.details == {"field": "idempotency_key"}


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"description": ""}, "description"),
        ({"description": "   "}, "description"),
        ({"description": "d" * (limits.description_length_max + 1)}, "description"),
        ({"description": 5}, "description"),
        ({"reference": ""}, "reference"),
        ({"reference": "r" * (limits.reference_length_max + 1)}, "reference"),
        ({"metadata": "k=v"}, "metadata"),
        ({"metadata": [("k", "v")]}, "metadata"),
        ({"metadata": {"k": 1}}, "metadata.k"),
        ({"metadata": {"k": None}}, "metadata.k"),
        ({"metadata": {"": "v"}}, "metadata"),
        ({"metadata": {5: "v"}}, "metadata"),
        ({"metadata": {"k" * (limits.metadata_key_length_max + 1): "v"}}, "metadata"),
        ({"metadata": {"k": "v" * (limits.metadata_value_length_max + 1)}}, "metadata.k"),
        ({"metadata": {f"k{index}": "v" for index in range(51)}}, "metadata"),
        # A naive time, on purpose.
        ({"effective_at": datetime(2024, 1, 1)}, "effective_at"),
        ({"effective_at": "2024-01-01T00:00:00Z"}, "effective_at"),
        ({"effective_at": date(2024, 1, 1)}, "effective_at"),
    ],
    ids=lambda value: repr(value)[:30],
)
def test_malformed_entry_detail_is_refused(
    shared_ledger: Ledger,
    books: Books,
    shared_nothing_written: NothingWritten,
    options: dict[str, Any],
    field: str,
) -> None:
    # GIVEN one malformed description, reference, metadata or business date
    wallet = books.wallet.id
    attempts: list[Attempt] = [
        lambda: shared_ledger.deposit(wallet, "1.00", **options),
        lambda: shared_ledger.create_entry(
            books.ledger_id,
            [LineInput(books.bank.id, "debit", "1"), LineInput(wallet, "credit", "1")],
            **options,
        ),
    ]
    for attempt in attempts:
        # WHEN a request carries it
        error = _refused(shared_nothing_written, attempt, ValidationError)
        # THEN the field is named
        assert error.details == {"field": field}


@pytest.mark.parametrize("side", ["left", "DEBIT", "", None], ids=repr)
def test_unknown_side_is_refused(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten, side: Any
) -> None:
    # GIVEN a line whose side is neither debit nor credit
    lines = [LineInput(books.bank.id, side, "1"), LineInput(books.wallet.id, "credit", "1")]
    # WHEN it is posted
    error = _refused(
        shared_nothing_written,
        lambda: shared_ledger.create_entry(books.ledger_id, lines),
        ValidationError,
    )
    # THEN the side is named
    assert error.details == {"field": "lines[0].side"}


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": False}, "limit"),
        ({"limit": 2.5}, "limit"),
        ({"limit": "5"}, "limit"),
        ({"reference": ""}, "reference"),
        ({"reference": "r" * (limits.reference_length_max + 1)}, "reference"),
        ({"cursor": "!!"}, "cursor"),
    ],
    ids=repr,
)
def test_malformed_entry_listing_is_refused(
    shared_ledger: Ledger, books: Books, filters: dict[str, Any], field: str
) -> None:
    # GIVEN a listing request with one malformed filter
    # WHEN entries are listed
    with pytest.raises(ValidationError) as caught:
        shared_ledger.list_entries(books.ledger_id, **filters)
    # THEN the filter is named
    assert caught.value.details == {"field": field}


def test_entry_key_with_another_request_is_refused(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten
) -> None:
    # GIVEN the wallet funded from the bank with key "fund-wallet"
    wallet, bank = books.wallet.id, books.bank.id
    changed: list[Attempt] = [
        lambda: shared_ledger.deposit(
            wallet, "100.01", counterparty_account_id=bank, idempotency_key="fund-wallet"
        ),
        lambda: shared_ledger.deposit(wallet, "100.00", idempotency_key="fund-wallet"),
        lambda: shared_ledger.refund(
            wallet, "100.00", counterparty_account_id=bank, idempotency_key="fund-wallet"
        ),
        lambda: shared_ledger.deposit(
            wallet,
            "100.00",
            counterparty_account_id=bank,
            description="top-up",
            idempotency_key="fund-wallet",
        ),
        lambda: shared_ledger.create_entry(
            books.ledger_id,
            [LineInput(wallet, "credit", "100.00"), LineInput(bank, "debit", "100.00")],
            idempotency_key="fund-wallet",
        ),
    ]
    for attempt in changed:
        # WHEN the key comes back with another amount, counterparty, kind or description
        error = _refused(shared_nothing_written, attempt, IdempotencyKeyReused)
        # THEN it is refused
        assert error.code == "idempotency_key_reused"


def test_replay_writes_nothing(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten
) -> None:
    # GIVEN the wallet funded from the bank with key "fund-wallet"
    # WHEN the very same request comes again
    with shared_nothing_written():
        replay = shared_ledger.deposit(
            books.wallet.id,
            "100.00",
            counterparty_account_id=books.bank.id,
            idempotency_key="fund-wallet",
        )
    # THEN it is answered from the stored entry without any write
    assert replay.replayed is True
    assert replay == replace(shared_ledger.get_entry(replay.id), replayed=True)
