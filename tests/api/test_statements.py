"""The statement route over HTTP: its shape, its cursors, its 400s and 404."""

from __future__ import annotations

import pytest

from .builders import new_account, new_ledger
from .harness import Api

# The route's shape and refusals, on a table whose history is kept by consumers that do not
# run on moto: the history read is empty.
projections = "history,audit"


def test_a_statement_has_its_shape(api: Api) -> None:
    # GIVEN an account with a deposit (moto keeps no history: the table has no consumer)
    account_id = new_account(api, new_ledger(api))
    deposit = {"account_id": account_id, "amount": "12.50"}
    assert api.call("POST", "/v1/deposits", deposit).status == 201
    # WHEN its statement is read on either basis, bounded or not
    queries: list[dict[str, str | int]] = [
        {},
        {"basis": "effective"},
        {"from": "2026-01-01T00:00:00Z", "to": "2026-02-01T00:00:00+01:00", "limit": 2},
    ]
    for query in queries:
        reply = api.call("GET", f"/v1/accounts/{account_id}/statement", query=query)
        # THEN it has the contract's fields, the balances in the currency's scale
        assert reply.status == 200, reply.json
        assert set(reply.json) == {"opening", "closing", "items", "next_cursor"}
        assert reply.json["opening"] == {"posted": "0.00", "available": "0.00"}
        assert set(reply.json["closing"]) == {"posted", "available"}
        assert isinstance(reply.json["items"], list)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("from", "yesterday"),
        ("to", "2026-01-01T00:00:00"),
        ("basis", "booked"),
        ("limit", "0"),
        ("limit", "many"),
        ("cursor", "not-a-cursor"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(api: Api, name: str, value: str) -> None:
    # GIVEN an account WHEN its statement is asked with one bad parameter
    account_id = new_account(api, new_ledger(api))
    reply = api.call("GET", f"/v1/accounts/{account_id}/statement", query={name: value})
    # THEN it is a 400 that names it
    status, code, details = reply.error()
    assert (status, code) == (400, "validation_error")
    assert name in str(details), details


def test_an_end_not_after_its_start_is_a_400(api: Api) -> None:
    account_id = new_account(api, new_ledger(api))
    moment = "2026-01-01T00:00:00Z"
    query = {"from": moment, "to": moment}
    reply = api.call("GET", f"/v1/accounts/{account_id}/statement", query=query)
    status, _, details = reply.error()
    assert status == 400
    assert "to" in str(details)


def test_an_unknown_account_is_a_404(api: Api) -> None:
    # GIVEN an account id of a ledger with no such account WHEN its statement is asked
    account_id = new_account(api, new_ledger(api))
    unknown = account_id[:-6] + "aaaaaa"
    reply = api.call("GET", f"/v1/accounts/{unknown}/statement")
    # THEN it is a 404
    assert reply.error()[:2] == (404, "not_found")
