"""Control characters refused by the library itself, embedded without HTTP: in names,
codes, references, owner ids, currencies and metadata keys none at all; in descriptions
and metadata values only a line feed and a tab. The error names the field; nothing is
written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from ledger.domain.errors import ValidationError
from ledger.domain.ids import new_entry_id
from ledger.service import Ledger

from .helpers import Books, NothingWritten, open_account

control = "control characters (U+0000 to U+001F) are not allowed"
prose = "control characters other than line feed and tab are not allowed"
keys = "keys may not hold control characters (U+0000 to U+001F)"

Call = Callable[[Ledger, Books], Any]


@dataclass(frozen=True)
class Case:
    """A library call holding a control character, the field refused and the rule broken."""

    name: str
    call: Call
    field: str
    message: str

    def __str__(self) -> str:
        return self.name


def _first_entry_id(ledger: Ledger, books: Books) -> str:
    # Derived from the funding deposit's key, not listed: a listing may seal a cursor, and
    # the first cursor of a table creates the table's cursor secret.
    return new_entry_id(books.ledger_id, "fund-wallet")


calls = [
    Case("ledger name", lambda ledger, books: ledger.create_ledger("Bo\x00oks"), "name", control),
    Case(
        "ledger owner",
        lambda ledger, books: ledger.create_ledger("Books", owner_id="o\x1b"),
        "owner_id",
        control,
    ),
    Case(
        "metadata key",
        lambda ledger, books: ledger.create_ledger("Books", metadata={"a\nb": "v"}),
        "metadata",
        keys,
    ),
    Case(
        "metadata value",
        lambda ledger, books: ledger.create_ledger("Books", metadata={"note": "a\rb"}),
        "metadata.note",
        prose,
    ),
    Case(
        "account name",
        lambda ledger, books: ledger.create_account(books.ledger_id, "\x07", "asset", "USD"),
        "name",
        control,
    ),
    Case(
        "account code",
        lambda ledger, books: ledger.create_account(
            books.ledger_id, "Cash", "asset", "USD", code="10\x0000"
        ),
        "code",
        control,
    ),
    Case(
        "account owner",
        lambda ledger, books: ledger.create_account(
            books.ledger_id, "Cash", "asset", "USD", owner_id="\x00"
        ),
        "owner_id",
        control,
    ),
    Case(
        "currency",
        lambda ledger, books: ledger.register_currency(books.ledger_id, "PT\x00", 0),
        "currency",
        control,
    ),
    Case(
        "new account name",
        lambda ledger, books: ledger.update_account(books.wallet.id, name="W\x00"),
        "name",
        control,
    ),
    Case(
        "new account metadata",
        lambda ledger, books: ledger.update_account(books.wallet.id, metadata={"k": "\x00"}),
        "metadata.k",
        prose,
    ),
    Case(
        "deposit reference",
        lambda ledger, books: ledger.deposit(books.wallet.id, "1", reference="r\n1"),
        "reference",
        control,
    ),
    Case(
        "deposit description",
        lambda ledger, books: ledger.deposit(books.wallet.id, "1", description="a\x00"),
        "description",
        prose,
    ),
    Case(
        "hold description",
        lambda ledger, books: ledger.hold(books.wallet.id, "1", description="a\x0cb"),
        "description",
        prose,
    ),
    Case(
        "transfer metadata value",
        lambda ledger, books: ledger.transfer(
            books.wallet.id, books.payee.id, "1", metadata={"k": "\x1f"}
        ),
        "metadata.k",
        prose,
    ),
    Case(
        "reversal description",
        lambda ledger, books: ledger.reverse_entry(
            _first_entry_id(ledger, books), description="\x00"
        ),
        "description",
        prose,
    ),
    Case(
        "listing reference",
        lambda ledger, books: ledger.list_entries(books.ledger_id, reference="r\x00"),
        "reference",
        control,
    ),
    Case(
        "listing owner",
        lambda ledger, books: ledger.list_ledgers("o\x00"),
        "owner_id",
        control,
    ),
]


@pytest.mark.parametrize("case", calls, ids=str)
def test_a_control_character_is_a_validation_error_of_its_field(
    shared_ledger: Ledger, books: Books, shared_nothing_written: NothingWritten, case: Case
) -> None:
    # GIVEN a call that is valid but for one control character
    # WHEN the library is called
    with shared_nothing_written(), pytest.raises(ValidationError) as caught:
        case.call(shared_ledger, books)
    # THEN it is refused as a validation error of that field, with the rule as its message
    assert caught.value.field == case.field
    assert caught.value.message == f"{case.field}: {case.message}"


def test_prose_keeps_its_line_feeds_and_tabs(ledger: Ledger, book: str) -> None:
    # GIVEN an account, and a text of two lines, the second indented by a tab
    account = open_account(ledger, book)
    text = "first line\n\tsecond line"

    # WHEN a deposit carries it as description and as a metadata value
    entry = ledger.deposit(account.id, "1", description=text, metadata={"note": text})

    # THEN the entry keeps both as given
    assert (entry.description, entry.metadata) == (text, {"note": text})
