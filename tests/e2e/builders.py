"""What the end-to-end tests share: HTTP calls read as replies, and ledgers, accounts and
money made over HTTP with random names."""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from dev_process import request_timeout_s

from .conftest import DevServer

json_type = "application/json"
# The projections (history, audit) follow the writes within about a second under ledger dev;
# a loaded machine may take longer, so checks wait for them, bounded.
projections_wait_s_max = 20.0
projections_poll_s = 0.2

T = TypeVar("T")


@dataclass(frozen=True)
class Reply:
    """One response: status, headers by lower-case name, JSON body (None when empty)."""

    status: int
    headers: dict[str, str]
    json: Any

    @property
    def request_id(self) -> str:
        """The `X-Request-Id` the response carries (asserted present and non-empty)."""
        value = self.headers.get("x-request-id")
        assert value, f"no X-Request-Id in {self.headers}"
        return value

    @property
    def replayed(self) -> bool:
        """Whether the response says it replays an earlier one."""
        return self.headers.get("idempotent-replayed") == "true"

    def error(self) -> tuple[int, str, dict[str, Any]]:
        """Status, code and details of an error response in the contract's shape."""
        assert self.is_json(), self.headers
        error = self.json["error"]
        assert set(error) == {"code", "message", "details"}, self.json
        assert isinstance(error["message"], str)
        assert error["message"]
        assert self.request_id
        details: dict[str, Any] = error["details"]
        return self.status, error["code"], details

    def is_json(self) -> bool:
        """Whether the response says its body is JSON."""
        return self.headers.get("content-type", "").startswith(json_type)


def call(
    server: DevServer,
    method: str,
    path: str,
    body: object = None,
    *,
    key: str | None = None,
    anonymous: bool = False,
    idempotency_key: str | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    """One JSON call with the admin key (or `key`, or none), read as a Reply."""
    sent = dict(headers or {})
    if idempotency_key is not None:
        sent["Idempotency-Key"] = idempotency_key
    target = path + (f"?{urlencode(query)}" if query else "")
    status, received, data = server.request(
        method, target, body, key=key, anonymous=anonymous, headers=sent
    )
    return Reply(status, {name.lower(): value for name, value in received.items()}, data)


def raw(
    server: DevServer,
    method: str,
    path: str,
    data: bytes,
    *,
    key: str | None = None,
    content_type: str = json_type,
) -> Reply:
    """A call whose body is exactly `data`, which need not be JSON."""
    headers = {"Authorization": f"Bearer {key or server.admin_key}", "Content-Type": content_type}
    request = urllib.request.Request(server.url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=request_timeout_s) as response:
            status, received, body = response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        status, received, body = error.code, error.headers, error.read()
    return Reply(
        status,
        {name.lower(): value for name, value in received.items()},
        json.loads(body) if body else None,
    )


def ok(reply: Reply, status: int = 200) -> Any:
    """The JSON body of a successful reply, after checking status and headers."""
    assert reply.status == status, (reply.status, reply.json)
    assert reply.request_id
    assert reply.is_json(), reply.headers
    return reply.json


def token() -> str:
    """A random suffix for names, owners, references and idempotency keys."""
    return secrets.token_hex(6)


def new_ledger(server: DevServer, owner_id: str | None = None, *, key: str | None = None) -> str:
    """The id of a fresh ledger of a random (or the given) owner."""
    body = {"name": f"books-{token()}", "owner_id": owner_id or f"owner-{token()}"}
    identifier: str = ok(call(server, "POST", "/v1/ledgers", body, key=key), 201)["id"]
    return identifier


def new_account(
    server: DevServer,
    ledger_id: str,
    type: str = "liability",
    currency: str = "USD",
    **fields: Any,
) -> str:
    """The id of a fresh account with a random name."""
    body = {
        "ledger_id": ledger_id,
        "name": f"{type}-{token()}",
        "type": type,
        "currency": currency,
        **fields,
    }
    identifier: str = ok(call(server, "POST", "/v1/accounts", body), 201)["id"]
    return identifier


def deposit(server: DevServer, account_id: str, amount: str) -> dict[str, Any]:
    """A deposit into the account, as the API answered it."""
    body = {"account_id": account_id, "amount": amount}
    entry: dict[str, Any] = ok(call(server, "POST", "/v1/deposits", body), 201)
    return entry


def balance(server: DevServer, account_id: str, *, key: str | None = None) -> dict[str, Any]:
    """The account's balance object now."""
    found: dict[str, Any] = ok(call(server, "GET", f"/v1/accounts/{account_id}/balance", key=key))
    return found


def new_key(server: DevServer, role: str, **scope: Any) -> tuple[str, str]:
    """A new API key made with the admin key: its id and its secret."""
    created = ok(call(server, "POST", "/v1/api-keys", {"role": role, **scope}), 201)
    return created["id"], created["key"]


def line(account_id: str, side: str, amount: str, currency: str = "USD") -> dict[str, str]:
    """One line of an entry as the API shows it."""
    return {"account_id": account_id, "side": side, "amount": amount, "currency": currency}


def world_of(account_id: str) -> str:
    """The world account of an account's ledger and currency (ids are `acc_<ledger>_<cur>_..`)."""
    ledger_token, currency, _ = account_id.removeprefix("acc_").split("_")
    code, scale, _side = currency.split("-")
    return f"acc_{ledger_token}_{code}-{scale}-c_world"


def once_projected(read: Callable[[], T], ready: Callable[[T], bool]) -> T:
    """What `read` answers once `ready` holds of it, or its last answer after a bounded wait
    for the projections (an account's entries are read from its history)."""
    deadline = time.monotonic() + projections_wait_s_max
    answer = read()
    while not ready(answer) and time.monotonic() < deadline:
        time.sleep(projections_poll_s)
        answer = read()
    return answer


def reconciled_soon(server: DevServer, ledger_id: str) -> dict[str, Any]:
    """The ledger's reconciliation once it holds, or the last one after a bounded wait.

    Under `ledger dev` the history and the audit chain follow the writes from the stream
    within about a second; a reconciliation that holds has them caught up for every item.
    """
    path = f"/v1/ledgers/{ledger_id}/reconciliations"
    report: dict[str, Any] = once_projected(
        lambda: ok(call(server, "POST", path)), lambda answer: bool(answer["ok"])
    )
    return report
