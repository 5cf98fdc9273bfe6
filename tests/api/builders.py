"""Ledgers, accounts and money made through the API, and the bodies the API answers with."""

from __future__ import annotations

import re
import secrets
from typing import Any

from ledger.domain.model import actor_fields

from .harness import Api, random_owner

_moment = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$")
# Null until they exist: the links, and what a pending entry posted and released.
_entry_links = (
    "expires_at",
    "pending_id",
    "posting_entry_id",
    "reverses",
    "reversed_by",
    "posted_amount",
    "released_amount",
)


def is_moment(value: object) -> bool:
    """Whether a value is an RFC 3339 UTC time with a `Z`."""
    return isinstance(value, str) and _moment.fullmatch(value) is not None


def new_ledger(api: Api, owner_id: str | None = None, **fields: Any) -> str:
    """The id of a fresh ledger (a random owner unless one is given)."""
    body = {"name": "Books", "owner_id": owner_id or random_owner(), **fields}
    reply = api.call("POST", "/v1/ledgers", body)
    assert reply.status == 201, reply.json
    identifier: str = reply.json["id"]
    return identifier


def new_account(
    api: Api, ledger_id: str, type: str = "liability", currency: str = "USD", **fields: Any
) -> str:
    """The id of a fresh account with a random name."""
    body = {
        "ledger_id": ledger_id,
        "name": f"{type} {secrets.token_hex(3)}",
        "type": type,
        "currency": currency,
        **fields,
    }
    reply = api.call("POST", "/v1/accounts", body)
    assert reply.status == 201, reply.json
    identifier: str = reply.json["id"]
    return identifier


def deposit(api: Api, account_id: str, amount: str, **fields: Any) -> dict[str, Any]:
    """A deposit into the account, as the API answered it."""
    reply = api.call("POST", "/v1/deposits", {"account_id": account_id, "amount": amount, **fields})
    assert reply.status == 201, reply.json
    entry: dict[str, Any] = reply.json
    return entry


def balance(api: Api, account_id: str) -> dict[str, Any]:
    """The account's balance object now."""
    reply = api.call("GET", f"/v1/accounts/{account_id}/balance")
    assert reply.status == 200, reply.json
    body: dict[str, Any] = reply.json
    return body


def world_of(account_id: str) -> str:
    """The world account of an account's ledger and currency."""
    ledger_token, currency, _ = account_id.removeprefix("acc_").split("_")
    code, scale, _side = currency.split("-")
    return f"acc_{ledger_token}_{code}-{scale}-c_world"


def balance_body(
    account_id: str, currency: str, as_of: str, **amounts: str | int
) -> dict[str, Any]:
    """A balance object: every amount zero in the currency's scale unless given."""
    zero = {"JPY": "0", "USD": "0.00", "EUR": "0.00"}[currency]
    fields = (
        "posted",
        "pending_in",
        "pending_out",
        "held",
        "escrowed",
        "available",
        "credit_limit",
        "credit_used",
        "spendable",
        "total_in",
        "total_out",
    )
    body: dict[str, Any] = {"account_id": account_id, "currency": currency}
    body.update({name: amounts.get(name, zero) for name in fields})
    body["version"] = amounts.get("version", 0)
    body["as_of"] = as_of
    return body


def line(account_id: str, side: str, amount: str, currency: str = "USD") -> dict[str, str]:
    """One line of an entry as the API shows it."""
    return {"account_id": account_id, "side": side, "amount": amount, "currency": currency}


def entry_body(reply_body: dict[str, Any], **expected: Any) -> dict[str, Any]:
    """The entry the API should have answered: `expected` over the defaults of a fresh
    posted entry, with the server's id and times. Links the entry does not have are null."""
    body: dict[str, Any] = {
        "id": reply_body["id"],
        "ledger_id": reply_body["ledger_id"],
        "status": "posted",
        "description": None,
        "reference": None,
        "metadata": {},
        "effective_at": reply_body["effective_at"],
        "created_at": reply_body["created_at"],
        **dict.fromkeys(_entry_links),
        # Who caused it is the request's own (tests/api/test_actor.py checks each field).
        "actor": reply_body.get("actor"),
        # Null for every entry not posted from an inbound event.
        "posting_rule": None,
    }
    body.update(expected)
    assert is_moment(reply_body["created_at"]), reply_body
    assert is_moment(reply_body["effective_at"]), reply_body
    actor = reply_body["actor"]
    assert actor is None or set(actor) == set(actor_fields), reply_body
    return body
