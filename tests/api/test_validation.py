"""Requests the API refuses as `validation_error` (400), naming the field, writing nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from .builders import deposit, new_account, new_ledger
from .harness import Api, random_owner

long_amount = "1" * 65
key_pattern_message = (
    "Idempotency-Key must be 1 to 255 printable ASCII characters, without spaces at either end"
)
float_message = 'amounts are decimal strings such as "10.50", never JSON numbers'


@dataclass(frozen=True)
class Books:
    """The module's ledger (and its owner): a funded USD wallet, a second one, a JPY wallet."""

    ledger_id: str
    usd: str
    usd_other: str
    jpy: str
    owner_id: str


@pytest.fixture(scope="module")
def books(api: Api) -> Books:
    """One ledger for every refused request of the module."""
    owner = random_owner()
    ledger_id = new_ledger(api, owner)
    usd = new_account(api, ledger_id)
    deposit(api, usd, "100")
    return Books(
        ledger_id,
        usd,
        new_account(api, ledger_id),
        new_account(api, ledger_id, currency="JPY"),
        owner,
    )


@dataclass(frozen=True)
class Request:
    """One request: method, path and body (or raw bytes), headers and query."""

    method: str
    path: str
    body: object = None
    raw_body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True)
class Case:
    """A request the API must refuse, the field it must name and its exact message."""

    name: str
    request: Callable[[Books], Request]
    field: str
    message: str

    def __str__(self) -> str:
        return self.name


def deposit_of(amount: object) -> Callable[[Books], Request]:
    """A deposit of `amount` into the USD wallet."""
    return lambda books: Request(
        "POST", "/v1/deposits", {"account_id": books.usd, "amount": amount}
    )


def ledger_with(**body: Any) -> Callable[[Books], Request]:
    """POST /v1/ledgers with this body."""
    return lambda books: Request("POST", "/v1/ledgers", body)


def account_with(**fields: Any) -> Callable[[Books], Request]:
    """POST /v1/accounts: a USD liability of the module's ledger, changed by `fields`."""
    return lambda books: Request(
        "POST",
        "/v1/accounts",
        {
            "ledger_id": books.ledger_id,
            "name": "N",
            "type": "liability",
            "currency": "USD",
            **fields,
        },
    )


def keyed(key: str) -> Callable[[Books], Request]:
    """A ledger creation with this Idempotency-Key header."""
    return lambda books: Request(
        "POST", "/v1/ledgers", {"name": "N"}, headers={"Idempotency-Key": key}
    )


def accounts_listed(**query: str | int) -> Callable[[Books], Request]:
    """GET /v1/accounts of the module's ledger with this query."""
    return lambda books: Request(
        "GET", "/v1/accounts", query={"ledger_id": books.ledger_id, **query}
    )


body_cases = [
    Case(
        "malformed JSON",
        lambda books: Request("POST", "/v1/ledgers", raw_body=b'{"name": '),
        "body",
        "the request body is not valid JSON: Expecting value",
    ),
    Case(
        "no body",
        lambda books: Request("POST", "/v1/ledgers"),
        "body",
        "a JSON object body is required",
    ),
    Case(
        "a JSON array",
        lambda books: Request("POST", "/v1/ledgers", ["name"]),
        "body",
        "the request body must be a JSON object",
    ),
    Case(
        "a body that is not UTF-8",
        lambda books: Request("POST", "/v1/ledgers", raw_body=b'{"name": "\xff"}'),
        "body",
        "the request body is not UTF-8",
    ),
    Case(
        "body over 64 KiB",
        lambda books: Request("POST", "/v1/ledgers", raw_body=b" " * (64 * 1024 + 1)),
        "body",
        "the request body is larger than 65536 bytes",
    ),
    Case(
        "body of exactly 64 KiB is read (and is not JSON)",
        lambda books: Request("POST", "/v1/ledgers", raw_body=b" " * (64 * 1024)),
        "body",
        "the request body is not valid JSON: Expecting value",
    ),
    Case("name is a number", ledger_with(name=5), "name", "name: Input should be a valid string"),
    Case("name is missing", ledger_with(owner_id="o"), "name", "name is required"),
    Case(
        "name too long",
        ledger_with(name="n" * 201),
        "name",
        "name: String should have at most 200 characters",
    ),
    Case("name blank", ledger_with(name="   "), "name", "name must not be blank"),
    Case(
        "unknown field",
        ledger_with(name="N", colour="red"),
        "colour",
        "colour is not a field of this request",
    ),
    Case(
        "owner_id too long",
        ledger_with(name="N", owner_id="o" * 201),
        "owner_id",
        "owner_id: String should have at most 200 characters",
    ),
    Case(
        "metadata value not a string",
        ledger_with(name="N", metadata={"k": 1}),
        "metadata.k",
        "metadata.k: Input should be a valid string",
    ),
    Case(
        "metadata with too many keys",
        ledger_with(name="N", metadata={f"k{number}": "v" for number in range(51)}),
        "metadata",
        "metadata: Dictionary should have at most 50 items after validation, not more",
    ),
]

amount_cases = [
    Case("amount a JSON float", deposit_of(10.5), "amount", f"amount: {float_message}"),
    Case("amount a JSON integer", deposit_of(10), "amount", f"amount: {float_message}"),
    Case(
        "amount missing",
        lambda books: Request("POST", "/v1/deposits", {"account_id": books.usd}),
        "amount",
        "amount is required",
    ),
    Case(
        "amount with too many decimals",
        deposit_of("1.001"),
        "amount",
        "amount '1.001' has more than 2 decimals (the scale of USD)",
    ),
    Case(
        "JPY amount with decimals",
        lambda books: Request("POST", "/v1/deposits", {"account_id": books.jpy, "amount": "1.5"}),
        "amount",
        "amount '1.5' has more than 0 decimals (the scale of JPY)",
    ),
    Case(
        "negative amount",
        deposit_of("-1"),
        "amount",
        "amount '-1' is not a plain positive decimal such as \"10.50\"",
    ),
    Case("zero amount", deposit_of("0.00"), "amount", "amount must be greater than zero"),
    Case(
        "amount with an exponent",
        deposit_of("1e3"),
        "amount",
        "amount '1e3' is not a plain positive decimal such as \"10.50\"",
    ),
    Case(
        "amount with a space",
        deposit_of(" 1"),
        "amount",
        "amount ' 1' is not a plain positive decimal such as \"10.50\"",
    ),
    Case(
        "amount too long",
        deposit_of(long_amount),
        "amount",
        "amount: amounts have at most 64 characters",
    ),
    Case(
        "line amount a JSON number",
        lambda books: Request(
            "POST",
            "/v1/entries",
            {
                "ledger_id": books.ledger_id,
                "lines": [
                    {"account_id": books.usd, "side": "debit", "amount": "1"},
                    {"account_id": books.usd_other, "side": "credit", "amount": 1},
                ],
            },
        ),
        "lines[1].amount",
        f"lines[1].amount: {float_message}",
    ),
    Case(
        "line amount with too many decimals",
        lambda books: Request(
            "POST",
            "/v1/entries",
            {
                "ledger_id": books.ledger_id,
                "lines": [
                    {"account_id": books.usd, "side": "debit", "amount": "1.001"},
                    {"account_id": books.usd_other, "side": "credit", "amount": "1.001"},
                ],
            },
        ),
        "lines[0].amount",
        "amount '1.001' has more than 2 decimals (the scale of USD)",
    ),
    Case(
        "an entry of one line",
        lambda books: Request(
            "POST",
            "/v1/entries",
            {
                "ledger_id": books.ledger_id,
                "lines": [{"account_id": books.usd, "side": "debit", "amount": "1"}],
            },
        ),
        "lines",
        "lines: List should have at least 2 items after validation, not 1",
    ),
    Case(
        "a line side that is no side",
        lambda books: Request(
            "POST",
            "/v1/entries",
            {
                "ledger_id": books.ledger_id,
                "lines": [
                    {"account_id": books.usd, "side": "debit", "amount": "1"},
                    {"account_id": books.usd_other, "side": "up", "amount": "1"},
                ],
            },
        ),
        "lines[1].side",
        "lines[1].side: Input should be 'debit' or 'credit'",
    ),
    Case(
        "conversion amount a JSON number",
        lambda books: Request(
            "POST",
            "/v1/conversions",
            {
                "from_account_id": books.usd,
                "to_account_id": books.jpy,
                "from_amount": "1",
                "to_amount": 150,
            },
        ),
        "to_amount",
        f"to_amount: {float_message}",
    ),
    Case(
        "conversion within one currency",
        lambda books: Request(
            "POST",
            "/v1/conversions",
            {
                "from_account_id": books.usd,
                "to_account_id": books.usd_other,
                "from_amount": "1",
                "to_amount": "1",
            },
        ),
        "to_account_id",
        "a conversion needs two currencies; use a transfer instead",
    ),
    Case(
        "batch operation amount a JSON number",
        lambda books: Request(
            "POST",
            "/v1/batches",
            {
                "operations": [
                    {"type": "deposit", "account_id": books.usd, "amount": "1"},
                    {
                        "type": "transfer",
                        "from_account_id": books.usd,
                        "to_account_id": books.usd_other,
                        "amount": 2.5,
                    },
                ]
            },
        ),
        "operations[1].amount",
        f"operations[1].amount: {float_message}",
    ),
    Case(
        "batch operation of no known type",
        lambda books: Request(
            "POST",
            "/v1/batches",
            {"operations": [{"type": "gift", "account_id": books.usd, "amount": "1"}]},
        ),
        "operations[0]",
        "operations[0]: Input tag 'gift' found using 'type' does not match any of the expected "
        "tags: 'deposit', 'withdrawal', 'spend', 'refund', 'transfer', 'hold', 'escrow', "
        "'conversion', 'entry'",
    ),
    Case(
        "batch without operations",
        lambda books: Request("POST", "/v1/batches", {"operations": []}),
        "operations",
        "operations: List should have at least 1 item after validation, not 0",
    ),
]

field_cases = [
    Case(
        "description too long",
        lambda books: Request(
            "POST",
            "/v1/deposits",
            {"account_id": books.usd, "amount": "1", "description": "d" * 1001},
        ),
        "description",
        "description: String should have at most 1000 characters",
    ),
    Case(
        "reference too long",
        lambda books: Request(
            "POST", "/v1/deposits", {"account_id": books.usd, "amount": "1", "reference": "r" * 201}
        ),
        "reference",
        "reference: String should have at most 200 characters",
    ),
    Case(
        "effective_at without a zone",
        lambda books: Request(
            "POST",
            "/v1/deposits",
            {"account_id": books.usd, "amount": "1", "effective_at": "2026-01-01T00:00:00"},
        ),
        "effective_at",
        "effective_at: Input should have timezone info",
    ),
    Case(
        "hold expiring in 0 seconds",
        lambda books: Request(
            "POST", "/v1/holds", {"account_id": books.usd, "amount": "1", "expires_in": 0}
        ),
        "expires_in",
        "expires_in: Input should be greater than or equal to 1",
    ),
    Case(
        "hold expiry as a string",
        lambda books: Request(
            "POST", "/v1/holds", {"account_id": books.usd, "amount": "1", "expires_in": "60"}
        ),
        "expires_in",
        "expires_in: Input should be a valid integer",
    ),
    Case(
        "pending entry expiring in 0 seconds",
        lambda books: Request(
            "POST",
            "/v1/entries",
            {
                "ledger_id": books.ledger_id,
                "lines": [
                    {"account_id": books.usd, "side": "debit", "amount": "1"},
                    {"account_id": books.usd_other, "side": "credit", "amount": "1"},
                ],
                "pending": {"expires_in": 0},
            },
        ),
        "pending.expires_in",
        "pending.expires_in: Input should be greater than or equal to 1",
    ),
    Case(
        "account type that is no type",
        account_with(type="cash"),
        "type",
        "type: Input should be 'asset', 'liability', 'equity', 'revenue' or 'expense'",
    ),
    Case(
        "currency the ledger does not know",
        account_with(currency="XYZ"),
        "currency",
        "currency 'XYZ' is not known to this ledger",
    ),
    Case(
        "code with a space",
        account_with(code="a b"),
        "code",
        "code may hold only letters, digits and . _ : -",
    ),
    Case(
        "overdraft limit without an amount",
        account_with(overdraft={"mode": "limit"}),
        "overdraft.limit",
        "overdraft limit needs a credit_limit",
    ),
    Case(
        "overdraft amount without mode limit",
        account_with(overdraft={"mode": "forbid", "limit": "5"}),
        "overdraft.limit",
        "credit_limit goes only with overdraft limit",
    ),
    Case(
        "overdraft mode that is no mode",
        account_with(overdraft={"mode": "sometimes"}),
        "overdraft.mode",
        "overdraft.mode: Input should be 'forbid', 'limit' or 'allow'",
    ),
    Case(
        "a change with no field",
        lambda books: Request("PATCH", f"/v1/accounts/{books.usd}", {}),
        "body",
        "name, status, overdraft or metadata is required",
    ),
    Case(
        "a status that is no status",
        lambda books: Request("PATCH", f"/v1/accounts/{books.usd}", {"status": "frozen"}),
        "status",
        "status: Input should be 'active', 'suspended' or 'closed'",
    ),
    Case(
        "a key role that is no role",
        lambda books: Request("POST", "/v1/api-keys", {"role": "root"}),
        "role",
        "role: Input should be 'reader', 'operator' or 'admin'",
    ),
]

header_and_query_cases = [
    Case(
        "Idempotency-Key of 256 characters",
        keyed("k" * 256),
        "Idempotency-Key",
        key_pattern_message,
    ),
    Case(
        "empty Idempotency-Key",
        keyed(""),
        "Idempotency-Key",
        key_pattern_message,
    ),
    Case(
        "Idempotency-Key with a leading space",
        keyed(" key"),
        "Idempotency-Key",
        key_pattern_message,
    ),
    Case(
        "Idempotency-Key beyond ASCII",
        keyed("clé"),
        "Idempotency-Key",
        key_pattern_message,
    ),
    Case(
        "limit=0",
        accounts_listed(limit=0),
        "limit",
        "limit: Input should be greater than or equal to 1",
    ),
    Case(
        "limit=101",
        accounts_listed(limit=101),
        "limit",
        "limit: Input should be less than or equal to 100",
    ),
    Case(
        "limit not a number",
        accounts_listed(limit="ten"),
        "limit",
        "limit: Input should be a valid integer, unable to parse string as an integer",
    ),
    Case(
        "a cursor no listing gave",
        accounts_listed(cursor="bm90LWEtY3Vyc29y"),
        "cursor",
        "cursor is not one this listing returned",
    ),
    Case(
        "accounts by owner and parent at once",
        lambda books: Request(
            "GET",
            "/v1/accounts",
            query={"ledger_id": books.ledger_id, "owner_id": "o", "parent_id": books.usd},
        ),
        "owner_id",
        "filter accounts by owner_id or by parent_id, not both",
    ),
    Case(
        "accounts without a ledger",
        lambda books: Request("GET", "/v1/accounts"),
        "ledger_id",
        "ledger_id is required",
    ),
    Case(
        "entries without a ledger or an account",
        lambda books: Request("GET", "/v1/entries"),
        "ledger_id",
        "ledger_id (or account_id) is required",
    ),
    Case(
        "a cursor of no listing of ledgers",
        lambda books: Request("GET", "/v1/ledgers", query={"cursor": "bm90LWEtY3Vyc29y"}),
        "cursor",
        "cursor is not one this listing returned",
    ),
    Case(
        "limit=0 on entries",
        lambda books: Request(
            "GET", "/v1/entries", query={"ledger_id": books.ledger_id, "limit": 0}
        ),
        "limit",
        "limit: Input should be greater than or equal to 1",
    ),
    Case(
        "limit=101 on ledgers",
        lambda books: Request(
            "GET", "/v1/ledgers", query={"owner_id": books.owner_id, "limit": 101}
        ),
        "limit",
        "limit: Input should be less than or equal to 100",
    ),
]


@pytest.mark.parametrize(
    "case", body_cases + amount_cases + field_cases + header_and_query_cases, ids=str
)
def test_a_refused_request_names_its_field_and_writes_nothing(
    api: Api, books: Books, case: Case
) -> None:
    # GIVEN the module's ledger and one invalid request
    request = case.request(books)

    # WHEN it is sent
    with api.nothing_written():
        reply = api.call(
            request.method,
            request.path,
            request.body,
            headers=request.headers,
            query=request.query,
            raw_body=request.raw_body,
        )

    # THEN it is refused as a validation error of that field, with that message
    assert reply.error() == (400, "validation_error", {"field": case.field})
    assert reply.json["error"]["message"] == case.message
    assert reply.headers["X-Request-Id"] == reply.request_id
