"""A ledger's currencies over HTTP: registered by an admin, listed with the built-in ones."""

from __future__ import annotations

from typing import Any

import pytest

from ledger.domain.ids import new_ledger_id

from .builders import new_account, new_ledger
from .harness import Api


def _register(api: Api, ledger_id: str, body: Any) -> Any:
    return api.call("POST", f"/v1/ledgers/{ledger_id}/currencies", body)


def test_a_registered_currency_is_listed_and_opens_accounts(api: Api) -> None:
    # GIVEN a ledger
    ledger_id = new_ledger(api)

    # WHEN an admin registers a currency of scale 0
    reply = _register(api, ledger_id, {"code": "POINTS", "scale": 0})

    # THEN it is registered, listed among the built-in ones by code, and accounts open in it
    assert (reply.status, reply.json) == (201, {"code": "POINTS", "scale": 0, "builtin": False})
    listed = api.call("GET", f"/v1/ledgers/{ledger_id}/currencies")
    assert listed.status == 200, listed.json
    codes = [item["code"] for item in listed.json["items"]]
    assert codes == sorted(codes)
    assert {"code": "POINTS", "scale": 0, "builtin": False} in listed.json["items"]
    assert {"code": "JPY", "scale": 0, "builtin": True} in listed.json["items"]
    assert listed.json["next_cursor"] is None
    account = api.call("GET", f"/v1/accounts/{new_account(api, ledger_id, currency='POINTS')}")
    assert account.json["balance"]["posted"] == "0"


def test_registering_the_same_scale_again_answers_the_same(api: Api) -> None:
    # GIVEN a registered currency
    ledger_id = new_ledger(api)
    first = _register(api, ledger_id, {"code": "MILES", "scale": 2})

    # WHEN it is registered again with the same scale
    with api.nothing_written():
        again = _register(api, ledger_id, {"code": "MILES", "scale": 2})

    # THEN the answer is the same
    assert (again.status, again.json) == (first.status, first.json)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "MILES", "scale": 3}, "scale"),
        ({"code": "USD", "scale": 2}, "code"),
        ({"code": "miles", "scale": 2}, "code"),
        ({"code": "MILES", "scale": 19}, "scale"),
        ({"code": "MILES", "scale": -1}, "scale"),
        ({"code": "MILES", "scale": "2"}, "scale"),
        ({"code": "MILES"}, "scale"),
        ({"scale": 2}, "code"),
    ],
    ids=repr,
)
def test_a_bad_currency_is_refused_and_nothing_changes(
    api: Api, body: dict[str, Any], field: str
) -> None:
    # GIVEN a ledger with MILES registered at scale 2
    ledger_id = new_ledger(api)
    assert _register(api, ledger_id, {"code": "MILES", "scale": 2}).status == 201

    # WHEN another scale, a built-in or malformed code, or a bad scale is registered
    with api.nothing_written():
        reply = _register(api, ledger_id, body)

    # THEN it is refused, naming the field
    assert reply.error() == (400, "validation_error", {"field": field})


def test_the_currencies_of_a_ledger_that_does_not_exist_are_not_found(api: Api) -> None:
    # GIVEN a well-formed ledger id no ledger has
    ledger_id = new_ledger_id(None, None)

    # WHEN its currencies are registered or listed
    with api.nothing_written():
        registered = _register(api, ledger_id, {"code": "MILES", "scale": 2})
    listed = api.call("GET", f"/v1/ledgers/{ledger_id}/currencies")

    # THEN the ledger is not found
    for reply in (registered, listed):
        assert reply.error() == (404, "not_found", {"resource": "ledger", "id": ledger_id})
