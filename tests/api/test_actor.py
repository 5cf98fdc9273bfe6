"""Every entry the API creates names its actor: the key and role of the authorizer's
context, the request id the API answered with, and API Gateway's source ip and user agent.
A body cannot name one."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.auth.api_keys import Role
from ledger.domain import limits

from .builders import deposit, new_account, new_ledger
from .harness import Api, Reply, source_ip

Body = Callable[[str, str, str, str], dict[str, Any]]


@pytest.fixture(scope="module")
def operator(api: Api) -> tuple[str, str]:
    """An operator key of this module: its id and its secret."""
    key, secret = api.key_store.create(Role.OPERATOR, created_by="tests")
    return key.id, secret


def _user_agent() -> str:
    return f"checkout-service/{secrets.token_hex(3)}"


def _funded(api: Api) -> tuple[str, str, str, str]:
    """A ledger, a wallet holding 100.00, a payee and a EUR account."""
    ledger_id = new_ledger(api)
    wallet, payee = new_account(api, ledger_id), new_account(api, ledger_id)
    euros = new_account(api, ledger_id, currency="EUR")
    deposit(api, wallet, "100")
    return ledger_id, wallet, payee, euros


def _expected(reply: Reply, key_id: str, role: str, user_agent: str | None) -> dict[str, Any]:
    """The actor of an entry created by this request."""
    assert reply.headers["X-Request-Id"] == reply.request_id
    return {
        "key_id": key_id,
        "role": role,
        "request_id": reply.headers["X-Request-Id"],
        "source_ip": source_ip,
        "user_agent": user_agent,
    }


routes: dict[str, Body] = {
    "/v1/deposits": lambda ledger_id, wallet, payee, euros: {"account_id": wallet, "amount": "1"},
    "/v1/withdrawals": lambda ledger_id, wallet, payee, euros: {
        "account_id": wallet,
        "amount": "1",
    },
    "/v1/spends": lambda ledger_id, wallet, payee, euros: {"account_id": wallet, "amount": "1"},
    "/v1/refunds": lambda ledger_id, wallet, payee, euros: {"account_id": wallet, "amount": "1"},
    "/v1/transfers": lambda ledger_id, wallet, payee, euros: {
        "from_account_id": wallet,
        "to_account_id": payee,
        "amount": "1",
    },
    "/v1/holds": lambda ledger_id, wallet, payee, euros: {"account_id": wallet, "amount": "1"},
    "/v1/escrows": lambda ledger_id, wallet, payee, euros: {
        "buyer_account_id": wallet,
        "seller_account_id": payee,
        "amount": "1",
    },
    "/v1/conversions": lambda ledger_id, wallet, payee, euros: {
        "from_account_id": wallet,
        "to_account_id": euros,
        "from_amount": "1",
        "to_amount": "0.9",
    },
    "/v1/entries": lambda ledger_id, wallet, payee, euros: {
        "ledger_id": ledger_id,
        "lines": [
            {"account_id": wallet, "side": "debit", "amount": "1"},
            {"account_id": payee, "side": "credit", "amount": "1"},
        ],
    },
}


@pytest.mark.parametrize("path", sorted(routes))
def test_the_entry_answered_and_read_back_names_the_request_that_made_it(
    api: Api, operator: tuple[str, str], path: str
) -> None:
    # GIVEN funded accounts and an operator key
    accounts = _funded(api)
    key_id, secret = operator
    user_agent = _user_agent()
    # WHEN the operator creates an entry through the route, with its user agent
    reply = api.call(
        "POST", path, routes[path](*accounts), key=secret, headers={"user-agent": user_agent}
    )
    # THEN the entry names the key, its role, the request id answered, the ip and the agent
    assert reply.status == 201, reply.json
    expected = _expected(reply, key_id, "operator", user_agent)
    assert reply.json["actor"] == expected
    # AND so does the entry read back by another request
    read = api.call("GET", f"/v1/entries/{reply.json['id']}")
    assert read.json["actor"] == expected
    assert read.headers["X-Request-Id"] != expected["request_id"]


def test_every_entry_of_a_batch_names_the_batchs_request(
    api: Api, operator: tuple[str, str]
) -> None:
    # GIVEN funded accounts
    _, wallet, payee, _ = _funded(api)
    key_id, secret = operator
    operations = [
        {"type": "transfer", "from_account_id": wallet, "to_account_id": payee, "amount": "1"},
        {"type": "deposit", "account_id": payee, "amount": "2"},
    ]
    # WHEN a batch runs
    reply = api.call("POST", "/v1/batches", {"operations": operations}, key=secret)
    # THEN each entry names the batch's request (no user agent sent: null)
    assert reply.status == 201, reply.json
    expected = _expected(reply, key_id, "operator", None)
    assert [entry["actor"] for entry in reply.json["entries"]] == [expected, expected]


@pytest.mark.parametrize(
    ("create", "resolve"),
    [
        ("/v1/holds", "/v1/holds/{id}/confirm"),
        ("/v1/holds", "/v1/entries/{id}/post"),
        ("/v1/escrows", "/v1/escrows/{id}/release"),
    ],
)
def test_a_posting_entry_names_the_request_that_posted(
    api: Api, operator: tuple[str, str], create: str, resolve: str
) -> None:
    # GIVEN a pending entry an operator created
    accounts = _funded(api)
    key_id, secret = operator
    created = api.call("POST", create, routes[create](*accounts), key=secret)
    assert created.status == 201, created.json
    # WHEN the admin posts it
    user_agent = _user_agent()
    posted = api.call(
        "POST", resolve.format(id=created.json["id"]), headers={"user-agent": user_agent}
    )
    # THEN the pending entry keeps its creator, and the posting entry names the poster
    assert posted.status == 200, posted.json
    assert posted.json["actor"] == _expected(created, key_id, "operator", None)
    posting = api.call("GET", f"/v1/entries/{posted.json['posting_entry_id']}")
    assert posting.json["actor"]["request_id"] == posted.headers["X-Request-Id"]
    assert (posting.json["actor"]["role"], posting.json["actor"]["user_agent"]) == (
        "admin",
        user_agent,
    )


def test_a_void_leaves_the_pending_entrys_actor(api: Api, operator: tuple[str, str]) -> None:
    # GIVEN a hold an operator made
    accounts = _funded(api)
    key_id, secret = operator
    held = api.call("POST", "/v1/holds", routes["/v1/holds"](*accounts), key=secret)
    # WHEN the admin voids it
    voided = api.call("POST", f"/v1/entries/{held.json['id']}/void")
    # THEN no entry was created and the hold still names its creator
    assert (voided.status, voided.json["status"]) == (200, "voided")
    assert voided.json["actor"] == _expected(held, key_id, "operator", None)


def test_a_reversal_names_the_admin_request_that_reversed(api: Api) -> None:
    # GIVEN a deposit
    _, wallet, _, _ = _funded(api)
    original = deposit(api, wallet, "3")
    # WHEN the admin reverses it
    reply = api.call("POST", f"/v1/entries/{original['id']}/reverse", {"description": "typo"})
    # THEN the reversal names that request, the original its own
    assert reply.status == 201, reply.json
    assert reply.json["actor"]["request_id"] == reply.headers["X-Request-Id"]
    assert reply.json["actor"]["role"] == "admin"
    assert original["actor"]["request_id"] != reply.json["actor"]["request_id"]


def test_a_retry_from_another_request_replays_with_the_first_actor(api: Api) -> None:
    # GIVEN a deposit made with an idempotency key
    _, wallet, _, _ = _funded(api)
    headers = {"Idempotency-Key": f"idem-{secrets.token_hex(6)}"}
    body = {"account_id": wallet, "amount": "5"}
    first = api.call("POST", "/v1/deposits", body, headers={**headers, "user-agent": "first/1"})
    # WHEN it is retried by another request, from another user agent
    retry = api.call("POST", "/v1/deposits", body, headers={**headers, "user-agent": "retry/2"})
    # THEN the retry replays (not refused as another request), naming the first request
    assert (first.status, retry.status) == (201, 201)
    assert retry.headers.get("Idempotent-Replayed") == "true"
    assert retry.json["actor"] == first.json["actor"]
    assert retry.json["actor"]["request_id"] == first.headers["X-Request-Id"]
    assert retry.json["actor"]["user_agent"] == "first/1"


def test_a_long_user_agent_is_cut_and_control_characters_become_spaces(api: Api) -> None:
    # GIVEN a wallet; WHEN a request comes with an odd user agent, as a gateway could pass it
    _, wallet, _, _ = _funded(api)
    odd = "agent\tv1" + "x" * limits.user_agent_length_max
    reply = api.call(
        "POST", "/v1/deposits", {"account_id": wallet, "amount": "1"}, headers={"user-agent": odd}
    )
    # THEN the entry is written, its user agent bounded and without the tab
    assert reply.status == 201, reply.json
    agent = reply.json["actor"]["user_agent"]
    expected = "agent v1" + "x" * (limits.user_agent_length_max - len("agent v1"))
    assert agent == expected


def test_the_requests_trace_is_kept_on_the_entry_but_not_shown(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a wallet, and a traced invocation (Lambda sets the variable per invocation)
    _, wallet, _, _ = _funded(api)
    trace = "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1"
    monkeypatch.setenv("_X_AMZN_TRACE_ID", trace)
    # WHEN a deposit is made
    reply = api.call("POST", "/v1/deposits", {"account_id": wallet, "amount": "1"})
    # THEN the stored entry keeps the trace for its event, and no answer shows it
    assert reply.status == 201, reply.json
    stored = api.library(lambda: datetime.now(UTC)).get_entry(reply.json["id"])
    assert stored.actor is not None
    assert stored.actor.trace_header == trace
    assert "trace_header" not in reply.json["actor"]
    assert trace not in json.dumps(reply.json)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/deposits", lambda wallet, payee: {"account_id": wallet, "amount": "1"}),
        (
            "/v1/transfers",
            lambda wallet, payee: {
                "from_account_id": wallet,
                "to_account_id": payee,
                "amount": "1",
            },
        ),
        (
            "/v1/batches",
            lambda wallet, payee: {
                "operations": [{"type": "deposit", "account_id": wallet, "amount": "1"}]
            },
        ),
    ],
)
def test_a_body_cannot_name_the_actor(
    api: Api, path: str, body: Callable[[str, str], dict[str, Any]]
) -> None:
    # GIVEN accounts and a body that names an actor of its own choosing
    _, wallet, payee, _ = _funded(api)
    forged = {"key_id": "key_someone_else", "role": "admin"}
    request = body(wallet, payee)
    if path == "/v1/batches":
        request["operations"][0]["actor"] = forged
    else:
        request["actor"] = forged
    # WHEN it is sent, THEN it is refused as an unknown field and nothing is written
    with api.nothing_written():
        reply = api.call("POST", path, request)
    status, code, details = reply.error()
    assert (status, code) == (400, "validation_error")
    assert details["field"].endswith("actor"), details
