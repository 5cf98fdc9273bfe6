"""Control characters: refused in ids, codes, references, names and keys; in descriptions
and metadata values only a line feed and a tab pass. Each refusal names its field."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from .builders import deposit, new_account, new_ledger
from .harness import Api

control = "control characters (U+0000 to U+001F) are not allowed"
prose = "control characters other than line feed and tab are not allowed"
keys = "keys may not hold control characters (U+0000 to U+001F)"
key_pattern_message = (
    "Idempotency-Key must be 1 to 255 printable ASCII characters, without spaces at either end"
)


@dataclass(frozen=True)
class Books:
    """The module's ledger, a funded account, a second one and a posted entry."""

    ledger_id: str
    payer: str
    payee: str
    entry_id: str


@pytest.fixture(scope="module")
def books(api: Api) -> Books:
    """One ledger for every request of the module."""
    ledger_id = new_ledger(api)
    payer = new_account(api, ledger_id)
    entry = deposit(api, payer, "100")
    return Books(ledger_id, payer, new_account(api, ledger_id), entry["id"])


@dataclass(frozen=True)
class Request:
    """One request: method, path, JSON body, headers and query."""

    method: str
    path: str
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """A request holding a control character, the field refused and the exact message."""

    name: str
    request: Callable[[Books], Request]
    field: str
    message: str

    def __str__(self) -> str:
        return self.name


def ledger_with(**fields: Any) -> Callable[[Books], Request]:
    """POST /v1/ledgers of a valid ledger, changed by `fields`."""
    return lambda books: Request("POST", "/v1/ledgers", {"name": "Books", **fields})


def account_with(**fields: Any) -> Callable[[Books], Request]:
    """POST /v1/accounts of a USD liability in the module's ledger, changed by `fields`."""
    return lambda books: Request(
        "POST",
        "/v1/accounts",
        {"ledger_id": books.ledger_id, "name": "N", "type": "liability", "currency": "USD"}
        | fields,
    )


def deposit_with(**fields: Any) -> Callable[[Books], Request]:
    """POST /v1/deposits of 1.00 into the payer, changed by `fields`."""
    return lambda books: Request(
        "POST", "/v1/deposits", {"account_id": books.payer, "amount": "1.00"} | fields
    )


cases = [
    Case("NUL in a ledger name", ledger_with(name="Bo\x00oks"), "name", f"name: {control}"),
    Case(
        "escape in an owner id",
        ledger_with(owner_id="o\x1b[2J"),
        "owner_id",
        f"owner_id: {control}",
    ),
    Case(
        "NUL in a metadata key",
        ledger_with(metadata={"no\x00te": "v"}),
        "metadata",
        f"metadata: {keys}",
    ),
    Case(
        "a line feed in a metadata key",
        ledger_with(metadata={"a\nb": "v"}),
        "metadata",
        f"metadata: {keys}",
    ),
    Case(
        "a carriage return in a metadata value",
        ledger_with(metadata={"note": "a\rb"}),
        "metadata.note",
        f"metadata.note: {prose}",
    ),
    Case("NUL in an account code", account_with(code="c\x00"), "code", f"code: {control}"),
    Case(
        "NUL in an account's ledger id",
        lambda books: account_with(ledger_id=books.ledger_id + "\x00")(books),
        "ledger_id",
        f"ledger_id: {control}",
    ),
    Case("a bell in an account name", account_with(name="\x07N"), "name", f"name: {control}"),
    Case("NUL in a currency", account_with(currency="US\x00"), "currency", f"currency: {control}"),
    Case(
        "a tab in a parent id",
        lambda books: account_with(parent_id=books.payer + "\t")(books),
        "parent_id",
        f"parent_id: {control}",
    ),
    Case(
        "NUL in a deposit's account id",
        lambda books: deposit_with(account_id=books.payer + "\x00")(books),
        "account_id",
        f"account_id: {control}",
    ),
    Case(
        "a line feed in a reference",
        deposit_with(reference="r\n1"),
        "reference",
        f"reference: {control}",
    ),
    Case(
        "NUL in a description",
        deposit_with(description="paid\x00"),
        "description",
        f"description: {prose}",
    ),
    Case(
        "a vertical tab in a description",
        deposit_with(description="a\x0bb"),
        "description",
        f"description: {prose}",
    ),
    Case(
        "NUL in a new account name",
        lambda books: Request("PATCH", f"/v1/accounts/{books.payer}", {"name": "N\x00"}),
        "name",
        f"name: {control}",
    ),
    Case(
        "NUL in a line's account id",
        lambda books: Request(
            "POST",
            "/v1/entries",
            {
                "ledger_id": books.ledger_id,
                "lines": [
                    {"account_id": books.payer, "side": "debit", "amount": "1"},
                    {"account_id": books.payee + "\x00", "side": "credit", "amount": "1"},
                ],
            },
        ),
        "lines[1].account_id",
        f"lines[1].account_id: {control}",
    ),
    Case(
        "an escape in a batch operation's reference",
        lambda books: Request(
            "POST",
            "/v1/batches",
            {
                "operations": [
                    {"type": "deposit", "account_id": books.payer, "amount": "1"},
                    {
                        "type": "deposit",
                        "account_id": books.payer,
                        "amount": "1",
                        "reference": "\x1b",
                    },
                ]
            },
        ),
        "operations[1].reference",
        f"operations[1].reference: {control}",
    ),
    Case(
        "NUL in a reversal's description",
        lambda books: Request(
            "POST", f"/v1/entries/{books.entry_id}/reverse", {"description": "\x00"}
        ),
        "description",
        f"description: {prose}",
    ),
    Case(
        "NUL in an API key's ledger id",
        lambda books: Request(
            "POST", "/v1/api-keys", {"role": "reader", "ledger_ids": [books.ledger_id + "\x00"]}
        ),
        "ledger_ids[0]",
        f"ledger_ids[0]: {control}",
    ),
    Case(
        "a control character in an Idempotency-Key",
        lambda books: Request(
            "POST", "/v1/ledgers", {"name": "N"}, headers={"Idempotency-Key": "k\x01"}
        ),
        "Idempotency-Key",
        key_pattern_message,
    ),
    Case(
        "NUL in a listing's ledger id",
        lambda books: Request("GET", "/v1/accounts", query={"ledger_id": books.ledger_id + "\x00"}),
        "ledger_id",
        f"ledger_id: {control}",
    ),
    Case(
        "NUL in a listing's owner id",
        lambda books: Request(
            "GET", "/v1/accounts", query={"ledger_id": books.ledger_id, "owner_id": "\x00"}
        ),
        "owner_id",
        f"owner_id: {control}",
    ),
    Case(
        "NUL in a listing's reference",
        lambda books: Request(
            "GET", "/v1/entries", query={"ledger_id": books.ledger_id, "reference": "r\x00"}
        ),
        "reference",
        f"reference: {control}",
    ),
    Case(
        "NUL in a listing's account id",
        lambda books: Request(
            "GET", "/v1/entries", query={"ledger_id": books.ledger_id, "account_id": "a\x00"}
        ),
        "account_id",
        f"account_id: {control}",
    ),
    Case(
        "NUL in a report's currency",
        lambda books: Request(
            "GET", f"/v1/ledgers/{books.ledger_id}/trial-balance", query={"currency": "U\x00"}
        ),
        "currency",
        f"currency: {control}",
    ),
]


@pytest.mark.parametrize("case", cases, ids=str)
def test_a_control_character_is_refused_by_its_field(api: Api, books: Books, case: Case) -> None:
    # GIVEN a request that is valid but for one control character
    request = case.request(books)

    # WHEN it is sent
    with api.nothing_written():
        reply = api.call(
            request.method,
            request.path,
            request.body,
            headers=request.headers,
            query=request.query,
        )

    # THEN it is a validation error of that field, with that message
    assert reply.error() == (400, "validation_error", {"field": case.field})
    assert reply.json["error"]["message"] == case.message


def test_an_id_in_the_path_is_never_decoded_into_a_control_character(
    api: Api, books: Books
) -> None:
    # GIVEN an account id with an encoded NUL after it
    path = f"/v1/accounts/{books.payer}%00/balance"

    # WHEN its balance is asked for
    reply = api.call("GET", path)

    # THEN no account has that id, as sent
    assert reply.error() == (
        404,
        "not_found",
        {"resource": "account", "id": f"{books.payer}%00"},
    )


def test_prose_keeps_its_line_feeds_and_tabs(api: Api, books: Books) -> None:
    # GIVEN a description and a metadata value of two lines, one with a tab
    text = "first line\n\tsecond line"

    # WHEN a deposit carries them
    reply = api.call(
        "POST",
        "/v1/deposits",
        {"account_id": books.payer, "amount": "1.00", "description": text, "metadata": {"n": text}},
    )

    # THEN the entry holds them as given
    assert reply.status == 201, reply.json
    assert (reply.json["description"], reply.json["metadata"]) == (text, {"n": text})
