"""Hostile bodies on every write route: a 400 of the error contract, and nothing written.

Deep nesting, endless numbers, repeated keys and broken base64 are refused before any
parser sees them, whatever the route; the routes come from the API's own OpenAPI document,
so a route added later is covered too.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from dataclasses import dataclass
from typing import Any

import pytest

from ledger.domain import limits

from .builders import deposit, new_account, new_ledger
from .harness import Api

depth_message = f"the request body nests deeper than {limits.json_depth_max} levels"
number_message = (
    f"the request body holds a number longer than {limits.json_number_length_max} characters"
)
write_methods = ("post", "patch")
_parameter = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True)
class Hostile:
    """A body no route may accept, the field its refusal names and its exact message."""

    name: str
    body: str
    field: str
    message: str
    event_fields: dict[str, object] = dataclasses.field(default_factory=dict)

    def __str__(self) -> str:
        return self.name


def nested(levels: int, inner: str = "1") -> str:
    """`levels` arrays inside one another around `inner`."""
    return "[" * levels + inner + "]" * levels


hostile_bodies = [
    Hostile(
        "1,000 levels deep in metadata",
        '{"metadata": {"note": ' + nested(1000) + "}}",
        "body",
        depth_message,
    ),
    Hostile(
        "1,000 objects deep",
        '{"a": ' * 1000 + "1" + "}" * 1000,
        "body",
        depth_message,
    ),
    Hostile(
        "one level past the bound",
        '{"metadata": ' + nested(limits.json_depth_max) + "}",
        "body",
        depth_message,
    ),
    Hostile(
        "an integer of 4,301 digits",
        '{"amount": 1' + "0" * 4300 + "}",
        "body",
        number_message,
    ),
    Hostile(
        "an endless integer deep in a list",
        '{"operations": [{"expires_in": ' + "9" * 5000 + "}]}",
        "body",
        number_message,
    ),
    Hostile(
        "a number one character past the bound",
        '{"expires_in": 0.' + "5" * (limits.json_number_length_max - 1) + "}",
        "body",
        number_message,
    ),
    Hostile(
        "a repeated key",
        '{"name": "first", "amount": "1.00", "name": "second"}',
        "name",
        "name is given more than once in one JSON object",
    ),
    Hostile(
        "a repeated metadata key",
        '{"metadata": {"note": "a", "other": "b", "note": "c"}}',
        "metadata.note",
        "metadata.note is given more than once in one JSON object",
    ),
    Hostile(
        "a repeated key in a list's object",
        '{"lines": [{"side": "debit"}, {"side": "debit", "side": "credit"}]}',
        "lines[1].side",
        "lines[1].side is given more than once in one JSON object",
    ),
    Hostile(
        "a body that is not base64 though it says so",
        "eyJuYW1lIjogIkJvb2tzIn0=!",
        "body",
        "the request body is not valid base64",
        {"isBase64Encoded": True},
    ),
    Hostile(
        "a lone surrogate in the event's text",
        '{"name": "\ud800"}',
        "body",
        "the request body is not UTF-8",
        {"isBase64Encoded": False},
    ),
]


@dataclass(frozen=True)
class Books:
    """Real objects for every path parameter, so a body that got past the checks would act."""

    parameters: dict[str, str]


@pytest.fixture(scope="module")
def books(api: Api) -> Books:
    """A ledger with a funded account, a second one, a hold, an escrow and an API key."""
    ledger_id = new_ledger(api)
    payer = new_account(api, ledger_id)
    payee = new_account(api, ledger_id)
    deposit(api, payer, "100")
    hold = api.call("POST", "/v1/holds", {"account_id": payer, "amount": "1"})
    escrow = api.call(
        "POST",
        "/v1/escrows",
        {"buyer_account_id": payer, "seller_account_id": payee, "amount": "1"},
    )
    key = api.call("POST", "/v1/api-keys", {"role": "reader", "ledger_ids": [ledger_id]})
    assert (hold.status, escrow.status, key.status) == (201, 201, 201)
    return Books(
        {
            "ledger_id": ledger_id,
            "account_id": payer,
            "entry_id": hold.json["id"],
            "hold_id": hold.json["id"],
            "escrow_id": escrow.json["id"],
            "key_id": key.json["id"],
        }
    )


def write_routes(api: Api, books: Books) -> list[tuple[str, str]]:
    """Every POST and PATCH route of the OpenAPI document, its parameters filled in."""
    document = api.call("GET", "/v1/openapi.json").json
    routes: list[tuple[str, str]] = []
    for template, operations in document["paths"].items():
        path = _parameter.sub(
            lambda match: books.parameters.get(match.group(1), secrets.token_hex(4)), template
        )
        routes.extend((method.upper(), path) for method in write_methods if method in operations)
    return routes


def test_the_routes_cover_every_kind_of_write(api: Api, books: Books) -> None:
    # GIVEN the API's document
    # WHEN its write routes are listed
    routes = write_routes(api, books)

    # THEN they include creations, changes, resolutions and a route without a body
    methods = {method for method, _ in routes}
    paths = {path for _, path in routes}
    assert methods == {"POST", "PATCH"}
    assert {"/v1/ledgers", "/v1/batches", "/v1/api-keys"} <= paths
    assert f"/v1/holds/{books.parameters['hold_id']}/release" in paths
    assert len(routes) >= 20, routes


@pytest.mark.parametrize("hostile", hostile_bodies, ids=str)
def test_a_hostile_body_is_refused_on_every_write_route(
    api: Api, books: Books, hostile: Hostile
) -> None:
    # GIVEN every write route, and the whole table as it stands
    routes = write_routes(api, books)
    answers: dict[tuple[str, str], Any] = {}

    # WHEN the hostile body is sent to each
    with api.nothing_written():
        for method, path in routes:
            reply = api.call(
                method,
                path,
                raw_body=hostile.body.encode(errors="surrogatepass"),
                event_fields=_event_fields(hostile),
            )
            answers[(method, path)] = (
                reply.error(),
                reply.json["error"]["message"],
                reply.headers["X-Request-Id"] == reply.request_id,
            )

    # THEN each answers the same validation error of the contract, naming the field
    expected = ((400, "validation_error", {"field": hostile.field}), hostile.message, True)
    assert answers == dict.fromkeys(routes, expected)


def _event_fields(hostile: Hostile) -> dict[str, object]:
    """The event fields to replace: the body sent as is when it claims to be base64."""
    if not hostile.event_fields:
        return {}
    return {"body": hostile.body, **hostile.event_fields}
