"""What the client sends: each method's route and body, amounts as strings, keys and auth."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from client_stub import (
    Reply,
    StubServer,
    account_body,
    an_id,
    balance_body,
    entry_body,
    ledger_body,
)

from ledger import LineInput
from ledger.client import LedgerClient, PagesMaxReached
from ledger.domain.errors import LedgerError
from ledger.domain.model import Side
from ledger.domain.money import Currency
from ledger.domain.monitors import MonitorState

A, B, L, E, K = an_id("acc"), an_id("acc"), an_id("led"), an_id("ent"), an_id("key")
lines: list[Any] = [
    {"account_id": A, "side": "debit", "amount": Decimal("10.50")},
    {"account_id": B, "side": "credit", "amount": "10.50", "currency": "USD"},
]
sent_lines = [
    {"account_id": A, "side": "debit", "amount": "10.50"},
    {"account_id": B, "side": "credit", "amount": "10.50", "currency": "USD"},
]

rule_line = {"account_code": "cash", "side": "debit", "amount": "{{data.amount}}"}
inbound_event = {
    "id": "e-1",
    "type": "a.b",
    "ledger_id": L,
    "occurred_at": "2026-01-02T00:00:00Z",
    "data": {},
}

Call = Callable[[LedgerClient], object]
# (call, method, path, query, body, carries an idempotency key)
routes: list[tuple[str, Call, str, str, dict[str, str], Any, bool]] = [
    ("health", lambda c: c.health(), "GET", "/v1/health", {}, None, False),
    ("openapi", lambda c: c.openapi(), "GET", "/v1/openapi.json", {}, None, False),
    (
        "create_ledger",
        lambda c: c.create_ledger("Books", owner_id="o-1", metadata={"team": "x"}),
        "POST", "/v1/ledgers", {}, {"name": "Books", "owner_id": "o-1", "metadata": {"team": "x"}},
        True,
    ),
    ("get_ledger", lambda c: c.get_ledger(L), "GET", f"/v1/ledgers/{L}", {}, None, False),
    (
        "list_ledgers",
        lambda c: c.list_ledgers(owner_id="o-1", limit=5, cursor="c-1"),
        "GET", "/v1/ledgers", {"owner_id": "o-1", "limit": "5", "cursor": "c-1"}, None, False,
    ),
    (
        "create_account",
        lambda c: c.create_account(
            L, "Card", "liability", "USD", code="2100", overdraft="limit",
            credit_limit=Decimal("100.00"),
        ),
        "POST", "/v1/accounts", {},
        {
            "ledger_id": L, "name": "Card", "type": "liability", "currency": "USD",
            "code": "2100", "overdraft": {"mode": "limit", "limit": "100.00"},
        },
        True,
    ),
    (
        "register_currency",
        lambda c: c.register_currency(L, "POINTS", 0),
        "POST", f"/v1/ledgers/{L}/currencies", {}, {"code": "POINTS", "scale": 0}, False,
    ),
    (
        "list_currencies",
        lambda c: c.list_currencies(L), "GET", f"/v1/ledgers/{L}/currencies", {}, None, False,
    ),
    ("get_account", lambda c: c.get_account(A), "GET", f"/v1/accounts/{A}", {}, None, False),
    (
        "list_accounts",
        lambda c: c.list_accounts(L, type="asset", owner_id="o-1"),
        "GET", "/v1/accounts", {"ledger_id": L, "type": "asset", "owner_id": "o-1"}, None, False,
    ),
    (
        "update_account",
        lambda c: c.update_account(A, name="Savings", status="suspended"),
        "PATCH", f"/v1/accounts/{A}", {}, {"name": "Savings", "status": "suspended"}, False,
    ),
    (
        "get_balance",
        lambda c: c.get_balance(A), "GET", f"/v1/accounts/{A}/balance", {}, None, False,
    ),
    (
        "create_entry",
        lambda c: c.create_entry(
            L, lines, pending=True, expires_in=60, reference="r-1",
            effective_at=datetime(2026, 1, 2, 5, 0, tzinfo=timezone(timedelta(hours=2))),
        ),
        "POST", "/v1/entries", {},
        {
            "ledger_id": L, "lines": sent_lines, "reference": "r-1",
            "effective_at": "2026-01-02T03:00:00Z", "pending": {"expires_in": 60},
        },
        True,
    ),
    ("get_entry", lambda c: c.get_entry(E), "GET", f"/v1/entries/{E}", {}, None, False),
    (
        "list_entries",
        lambda c: c.list_entries(L, reference="r-1", account_id=A),
        "GET", "/v1/entries", {"ledger_id": L, "reference": "r-1", "account_id": A}, None, False,
    ),
    (
        "post_entry",
        lambda c: c.post_entry(E, "5.00"),
        "POST", f"/v1/entries/{E}/post", {}, {"amount": "5.00"}, False,
    ),
    ("void_entry", lambda c: c.void_entry(E), "POST", f"/v1/entries/{E}/void", {}, None, False),
    (
        "reverse_entry",
        lambda c: c.reverse_entry(E, description="typo"),
        "POST", f"/v1/entries/{E}/reverse", {}, {"description": "typo"}, True,
    ),
    (
        "deposit",
        lambda c: c.deposit(A, "10.00", counterparty_account_id=B, reference="r-1"),
        "POST", "/v1/deposits", {},
        {"account_id": A, "amount": "10.00", "counterparty_account_id": B, "reference": "r-1"},
        True,
    ),
    (
        "withdraw",
        lambda c: c.withdraw(A, "1.00", description="atm"),
        "POST", "/v1/withdrawals", {}, {"account_id": A, "amount": "1.00", "description": "atm"},
        True,
    ),
    (
        "spend",
        lambda c: c.spend(A, "2.00", metadata={"order": "o-9"}),
        "POST", "/v1/spends", {}, {"account_id": A, "amount": "2.00", "metadata": {"order": "o-9"}},
        True,
    ),
    (
        "refund",
        lambda c: c.refund(A, "3.00"),
        "POST", "/v1/refunds", {}, {"account_id": A, "amount": "3.00"}, True,
    ),
    (
        "transfer",
        lambda c: c.transfer(A, B, Decimal("7.25")),
        "POST", "/v1/transfers", {},
        {"from_account_id": A, "to_account_id": B, "amount": "7.25"}, True,
    ),
    (
        "hold",
        lambda c: c.hold(A, "5.00", expires_in=30),
        "POST", "/v1/holds", {}, {"account_id": A, "amount": "5.00", "expires_in": 30}, True,
    ),
    (
        "confirm_hold",
        lambda c: c.confirm_hold(E), "POST", f"/v1/holds/{E}/confirm", {}, None, False,
    ),
    (
        "release_hold",
        lambda c: c.release_hold(E), "POST", f"/v1/holds/{E}/release", {}, None, False,
    ),
    (
        "escrow",
        lambda c: c.escrow(A, B, "50.00", reference="deal-1", description="bike"),
        "POST", "/v1/escrows", {},
        {
            "buyer_account_id": A, "seller_account_id": B, "amount": "50.00",
            "reference": "deal-1", "description": "bike",
        },
        True,
    ),
    (
        "release_escrow",
        lambda c: c.release_escrow(E), "POST", f"/v1/escrows/{E}/release", {}, None, False,
    ),
    (
        "refund_escrow",
        lambda c: c.refund_escrow(E), "POST", f"/v1/escrows/{E}/refund", {}, None, False,
    ),
    (
        "convert",
        lambda c: c.convert(A, B, "10.00", "9.20"),
        "POST", "/v1/conversions", {},
        {"from_account_id": A, "to_account_id": B, "from_amount": "10.00", "to_amount": "9.20"},
        True,
    ),
    (
        "batch",
        lambda c: c.batch(
            [
                {"type": "transfer", "from_account_id": A, "to_account_id": B,
                 "amount": Decimal("1.00")},
                {"type": "entry", "ledger_id": L, "lines": lines},
            ],
            net=True,
        ),
        "POST", "/v1/batches", {},
        {
            "operations": [
                {"type": "transfer", "from_account_id": A, "to_account_id": B, "amount": "1.00"},
                {"type": "entry", "ledger_id": L, "lines": sent_lines},
            ],
            "net": True,
        },
        True,
    ),
    (
        "balance_sheet",
        lambda c: c.balance_sheet(L, "USD"),
        "GET", f"/v1/ledgers/{L}/balance-sheet", {"currency": "USD"}, None, False,
    ),
    (
        "trial_balance",
        lambda c: c.trial_balance(L, "EUR"),
        "GET", f"/v1/ledgers/{L}/trial-balance", {"currency": "EUR"}, None, False,
    ),
    (
        "reconcile",
        lambda c: c.reconcile(L), "POST", f"/v1/ledgers/{L}/reconciliations", {}, None, False,
    ),
    (
        "audit_records",
        lambda c: c.audit_records(A, limit=5, cursor="c-1"),
        "GET", f"/v1/accounts/{A}/audit", {"limit": "5", "cursor": "c-1"}, None, False,
    ),
    (
        "verify_audit",
        lambda c: c.verify_audit(A), "GET", f"/v1/accounts/{A}/audit/verify", {}, None, False,
    ),
    (
        "audit_digest",
        lambda c: c.audit_digest(L), "GET", f"/v1/ledgers/{L}/audit/digest", {}, None, False,
    ),
    (
        "verify_audit_digest",
        lambda c: c.verify_audit_digest(L, "0" * 64, datetime(2026, 1, 2, tzinfo=UTC)),
        "POST", f"/v1/ledgers/{L}/audit/digest/verify", {},
        {"digest": "0" * 64, "at": "2026-01-02T00:00:00Z"}, False,
    ),
    (
        "statement",
        lambda c: c.statement(
            A, start=datetime(2026, 1, 2, tzinfo=UTC), basis="effective", limit=5, cursor="c-1"
        ),
        "GET", f"/v1/accounts/{A}/statement",
        {"from": "2026-01-02T00:00:00Z", "basis": "effective", "limit": "5", "cursor": "c-1"},
        None, False,
    ),
    (
        "create_api_key",
        lambda c: c.create_api_key("operator", ledger_ids=[L], owner_id="o-1"),
        "POST", "/v1/api-keys", {}, {"role": "operator", "ledger_ids": [L], "owner_id": "o-1"},
        True,
    ),
    (
        "list_api_keys",
        lambda c: c.list_api_keys(limit=5, cursor="c-1"),
        "GET", "/v1/api-keys", {"limit": "5", "cursor": "c-1"}, None, False,
    ),
    ("get_api_key", lambda c: c.get_api_key(K), "GET", f"/v1/api-keys/{K}", {}, None, False),
    (
        "revoke_api_key",
        lambda c: c.revoke_api_key(K), "DELETE", f"/v1/api-keys/{K}", {}, None, False,
    ),
    (
        "put_rule",
        lambda c: c.put_rule(L, "a.b", [rule_line], description="d"),
        "PUT", f"/v1/ledgers/{L}/posting-rules/a.b", {},
        {"lines": [rule_line], "description": "d"}, False,
    ),
    (
        "get_rule",
        lambda c: c.get_rule(L, "a.b", 2),
        "GET", f"/v1/ledgers/{L}/posting-rules/a.b", {"version": "2"}, None, False,
    ),
    (
        "list_rules",
        lambda c: c.list_rules(L, limit=5, cursor="c-1"),
        "GET", f"/v1/ledgers/{L}/posting-rules", {"limit": "5", "cursor": "c-1"}, None, False,
    ),
    (
        "dry_run_event",
        lambda c: c.dry_run_event(inbound_event),
        "POST", f"/v1/ledgers/{L}/posting-rules/a.b/dry-run", {}, {"event": inbound_event}, False,
    ),
    (
        "create_monitor",
        lambda c: c.create_monitor(A, "available", "lt", Decimal("10.5"), description="low"),
        "POST", f"/v1/accounts/{A}/monitors", {},
        {"field": "available", "operator": "lt", "value": "10.5", "description": "low"},
        True,
    ),
    (
        "list_monitors",
        lambda c: c.list_monitors(A, limit=2),
        "GET", f"/v1/accounts/{A}/monitors", {"limit": "2"}, None, False,
    ),
    (
        "delete_monitor",
        lambda c: c.delete_monitor(A, "mon_abcdefghijklmnop"),
        "DELETE", f"/v1/accounts/{A}/monitors/mon_abcdefghijklmnop", {}, None, False,
    ),
    (
        "match_statement",
        lambda c: c.match_statement(
            L, A, "bank",
            [{"id": "r1", "amount": Decimal("-1.5"), "date": datetime(2026, 3, 2, tzinfo=UTC)}],
            rules={"match_on": {"date", "amount"}, "amount_tolerance": Decimal("0.01")},
            dry_run=True,
        ),
        "POST", f"/v1/ledgers/{L}/statement-matches", {},
        {
            "account_id": A, "source": "bank",
            "rows": [{"id": "r1", "amount": "-1.5", "date": "2026-03-02T00:00:00Z"}],
            "rules": {"match_on": ["amount", "date"], "amount_tolerance": "0.01"},
            "dry_run": True,
        },
        False,
    ),
    (
        "check_external_balance",
        lambda c: c.check_external_balance(
            L, "bank", "USD", Decimal("-1.5"), account_ids=[A, B], tolerance="0.01",
            as_of=datetime(2026, 1, 2, tzinfo=UTC),
        ),
        "POST", f"/v1/ledgers/{L}/external-balances", {},
        {"source": "bank", "currency": "USD", "amount": "-1.5", "account_ids": [A, B],
         "tolerance": "0.01", "as_of": "2026-01-02T00:00:00Z"},
        True,
    ),
    (
        "list_external_checks",
        lambda c: c.list_external_checks(L, source="bank", limit=2, cursor="c-1"),
        "GET", f"/v1/ledgers/{L}/external-balances",
        {"source": "bank", "limit": "2", "cursor": "c-1"}, None, False,
    ),
]  # fmt: skip


@pytest.fixture
def stub() -> Iterator[StubServer]:
    """A scripted server for one test."""
    with StubServer() as server:
        yield server


@pytest.fixture
def client(stub: StubServer) -> LedgerClient:
    """A client of the stub with an API key."""
    return LedgerClient(stub.url, "lk_secret", attempts_max=1)


def answer_of(method: str, path: str) -> Any:
    """An answer of the contract for a route: what the client decodes it into is tested
    elsewhere; here only the request counts."""
    resource = path.split("/")[2]
    if "/posting-rules" in path:
        return rule_answer(method, path)
    if method == "POST" and path.endswith("/currencies"):
        return {"code": "POINTS", "scale": 0, "builtin": False}
    if path.endswith(("/currencies", "/trial-balance", "/balance-sheet", "/reconciliations")):
        return report_bodies[path.rsplit("/", 1)[1]]
    if "/audit" in path:
        return audit_bodies[path.rsplit("/", 1)[1]]
    if path.endswith("/balance"):
        return balance_body(A)
    if "/monitors" in path:
        return {"items": [], "next_cursor": None} if method == "GET" else monitor_body
    if path.endswith("/external-balances"):
        return {"items": [], "next_cursor": None} if method == "GET" else external_check_body
    if path.endswith("/statement"):
        return statement_body
    if path.endswith("/statement-matches"):
        return match_body
    if method == "GET" and path in ("/v1/ledgers", "/v1/accounts", "/v1/entries"):
        return {"items": [], "next_cursor": None}
    bodies = {"ledgers": ledger_body(), "accounts": account_body(A), "batches": batch_body}
    return bodies.get(resource, entry_body())


def rule_answer(method: str, path: str) -> Any:
    """An answer of a posting rule route: a rule, a page of them, or a dry run's entry."""
    if path.endswith("/dry-run"):
        return {**entry_body(), "dry_run": True}
    if method == "GET" and path.endswith("/posting-rules"):
        return {"items": [], "next_cursor": None}
    return {
        "event_type": "a.b", "ledger_id": L, "version": 1, "lines": [rule_line, rule_line],
        "reference": None, "description": "d", "created_at": "2026-01-02T03:04:05Z",
    }  # fmt: skip


batch_body = {"entries": [], "items_saved": 0}
match_body = {
    "run_id": "mrun_abcdefghijklmnop", "matched": [{"external_id": "r1", "entry_ids": ["e1"]}],
    "unmatched_external": ["r2"], "unmatched_entries": ["e2"], "already_matched": ["r0"],
    "dry_run": False,
}  # fmt: skip
monitor_body: dict[str, Any] = {
    "id": "mon_abcdefghijklmnop",
    "account_id": A,
    "ledger_id": L,
    "field": "credit_utilization",
    "operator": "gte",
    "value": "87.5",
    "description": None,
    "state": "triggered",
    "version": 3,
    "created_at": "2026-01-02T03:04:05Z",
}
external_check_body: dict[str, Any] = {
    "id": "ext_abcdefghijklmnop",
    "source": "chain",
    "currency": "USDC",
    "external": "-1.500000",
    "ledger_total": "2.000000",
    "difference": "-3.500000",
    "within_tolerance": False,
    "accounts_counted": 3,
    "as_of": "2026-01-02T03:04:05Z",
    "tolerance": "0.000000",
    "checked_at": "2026-01-02T03:04:06Z",
    "account_ids": None,
    "account_type": "asset",
    "checked_by": "key_1",
}
statement_body: dict[str, Any] = {
    "opening": {"posted": "1.00", "available": "1.00"},
    "closing": {"posted": "13.50", "available": "10.50"},
    "items": [
        {
            "entry_id": E,
            "version": 2,
            "kind": "deposit",
            "side": "credit",
            "amount": "12.50",
            "description": "salary",
            "reference": None,
            "effective_at": "2026-01-02T03:04:05Z",
            "created_at": "2026-01-02T03:04:06Z",
            "balance_after": {"posted": "13.50", "available": "10.50"},
        }
    ],
    "next_cursor": "c-2",
}
audit_bodies: dict[str, Any] = {
    "audit": {"items": [], "next_cursor": None},
    "verify": {"ok": True, "first_bad_account_id": None, "records": 0, "head_hash": "0" * 64},
    "digest": {"ledger_id": L, "digest": "0" * 64, "accounts": 0, "at": "2026-01-02T03:04:05Z"},
}
report_bodies: dict[str, Any] = {
    "currencies": {"items": [{"code": "POINTS", "scale": 0, "builtin": False}]},
    "trial-balance": {
        "ledger_id": L, "currency": "USD", "lines": [], "total_debits": "0.00",
        "total_credits": "0.00", "balanced": True, "as_of": "2026-01-02T03:04:05Z",
    },
    "balance-sheet": {
        "ledger_id": L, "currency": "USD", "accounts": {}, "assets": "0.00",
        "liabilities": "0.00", "equity": "0.00", "revenue": "0.00", "expenses": "0.00",
        "net_income": "0.00", "balanced": True, "as_of": "2026-01-02T03:04:05Z",
    },
    "reconciliations": {
        "ledger_id": L, "ok": True, "accounts_checked": 0, "entries_checked": 0,
        "mismatches": [], "totals": {}, "as_of": "2026-01-02T03:04:05Z",
    },
}  # fmt: skip


@pytest.mark.parametrize(
    ("call", "method", "path", "query", "body", "keyed"),
    [pytest.param(*route[1:], id=route[0]) for route in routes],
)
def test_each_method_sends_its_route_of_the_contract(
    *,
    stub: StubServer,
    client: LedgerClient,
    call: Call,
    method: str,
    path: str,
    query: dict[str, str],
    body: Any,
    keyed: bool,
) -> None:
    # GIVEN a service that accepts anything, answering with an object of the route's kind
    stub.script(Reply(200, answer_of(method, path)))
    # WHEN calling the method
    call(client)
    # THEN one request went out with the contract's method, path, query and body,
    # authenticated, and with an Idempotency-Key exactly when it creates something
    [request] = stub.requests
    assert (request.method, request.path, request.query, request.body) == (
        method,
        path,
        query,
        body,
    )
    assert request.headers["authorization"] == "Bearer lk_secret"
    assert ("idempotency-key" in request.headers) is keyed


def test_every_public_method_has_a_route_test() -> None:
    # GIVEN the client's public request methods (iterators only follow list methods)
    public = {
        name
        for name in dir(LedgerClient)
        if not name.startswith("_") and not name.startswith("iter_") and name != "from_env"
    }
    # WHEN comparing with the route table
    # THEN each one is covered
    assert public == {route[0] for route in routes}


float_line: Any = {**lines[0], "amount": 10.5}
floats: list[tuple[str, Call]] = [
    ("deposit", lambda c: c.deposit(A, 10.5)),  # type: ignore[arg-type]
    ("transfer int", lambda c: c.transfer(A, B, 10)),  # type: ignore[arg-type]
    ("hold bool", lambda c: c.hold(A, True)),  # type: ignore[arg-type]
    ("confirm", lambda c: c.confirm_hold(E, 1.0)),  # type: ignore[arg-type]
    ("post", lambda c: c.post_entry(E, 2.5)),  # type: ignore[arg-type]
    ("convert", lambda c: c.convert(A, B, "1.00", 0.92)),  # type: ignore[arg-type]
    ("credit limit", lambda c: c.create_account(L, "x", "asset", "USD", credit_limit=5.0)),  # type: ignore[arg-type]
    ("entry line", lambda c: c.create_entry(L, [float_line, lines[1]])),
    ("line input", lambda c: c.create_entry(L, [LineInput(A, "debit", 10.5), lines[1]])),  # type: ignore[arg-type]
    ("batch", lambda c: c.batch([{"type": "deposit", "account_id": A, "amount": 0.1}])),
    (
        "batch line",
        lambda c: c.batch([{"type": "entry", "lines": [lines[0], {**lines[1], "amount": 1e2}]}]),
    ),
]  # fmt: skip


@pytest.mark.parametrize("call", [pytest.param(call, id=name) for name, call in floats])
def test_a_float_or_int_amount_is_refused_before_any_request(
    stub: StubServer, client: LedgerClient, call: Call
) -> None:
    # GIVEN an amount that is a float, an int or a bool
    # WHEN calling the method with it
    # THEN TypeError is raised and nothing reached the service
    with pytest.raises(TypeError, match="Decimal or a decimal string"):
        call(client)
    assert stub.requests == []


def test_a_decimal_is_sent_in_plain_notation(stub: StubServer, client: LedgerClient) -> None:
    # GIVEN a Decimal written with an exponent
    stub.script(Reply(201, entry_body()))
    # WHEN depositing it
    client.deposit(A, Decimal("1E+2"))
    # THEN the amount travels as a plain decimal string
    assert stub.requests[0].body["amount"] == "100"


def test_a_statement_match_comes_back_as_a_run_and_is_never_resent(
    stub: StubServer, client: LedgerClient
) -> None:
    # GIVEN a service that answers a recording run
    stub.script(Reply(200, match_body))
    # WHEN a statement is matched
    run = client.match_statement(L, A, "bank", [{"id": "r1", "amount": "1", "date": "x"}])
    # THEN the domain's run comes back, with the account and source asked for
    assert (run.run_id, run.account_id, run.source, run.dry_run) == (
        "mrun_abcdefghijklmnop",
        A,
        "bank",
        False,
    )
    assert (run.matched, run.unmatched_external) == ((("r1", ("e1",)),), ("r2",))
    assert (run.unmatched_entries, run.already_matched) == (("e2",), ("r0",))
    # AND a recording run that meets a 503 is not sent again
    stub.script(Reply(503, {"error": {"code": "conflict", "message": "m", "details": {}}}))
    retrying = LedgerClient(stub.url, "lk_secret", attempts_max=3)
    rules = {"match_on": ["amount"], "amount_tolerance": "0"}
    with pytest.raises(LedgerError):
        retrying.match_statement(L, A, "bank", [{"id": "r1"}], rules=rules)
    assert len(stub.requests) == 2
    # AND rows and rules are sent as given where nothing needs turning into text
    assert stub.requests[1].body["rows"] == [{"id": "r1"}]
    assert stub.requests[1].body["rules"] == rules


def test_a_monitor_comes_back_with_its_exact_threshold(
    stub: StubServer, client: LedgerClient
) -> None:
    # GIVEN a service answering with a utilization monitor of 87.5 percent, replayed
    stub.script(Reply(201, monitor_body, {"Idempotent-Replayed": "true"}))
    # WHEN it is created THEN the domain's monitor comes back, its threshold exact
    monitor = client.create_monitor(A, "credit_utilization", "gte", "87.5")
    assert (monitor.threshold, monitor.value, monitor.evaluated_version) == (
        Fraction(175, 2),
        "87.5",
        3,
    )
    assert (monitor.state, monitor.replayed) == (MonitorState.TRIGGERED, True)


def test_amounts_come_back_in_minor_units(stub: StubServer, client: LedgerClient) -> None:
    # GIVEN a service that answers with a balance of 85.00 USD
    stub.script(Reply(200, balance_body(A, available="85.00")))
    # WHEN reading the balance
    balance = client.get_balance(A)
    # THEN it is the library's Balance: integer minor units in the account's currency
    assert (balance.available, balance.currency, balance.version) == (
        8500,
        Currency("USD", 2),
        4,
    )


def test_a_statement_comes_back_in_minor_units(stub: StubServer, client: LedgerClient) -> None:
    # GIVEN a service that answers with a statement page of one line
    stub.script(Reply(200, statement_body))
    # WHEN reading the statement
    statement = client.statement(A)
    # THEN it is the library's Statement, amounts in minor units, times aware
    line = statement.lines[0]
    assert (statement.opening.posted, statement.closing.available) == (100, 1050)
    assert (line.side, line.amount, line.version, line.reference) == (Side.CREDIT, 1250, 2, None)
    assert (line.balance_after.posted, statement.next_cursor) == (1350, "c-2")
    assert line.created_at == datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC)


def test_a_number_in_an_answer_never_becomes_a_float(
    stub: StubServer, client: LedgerClient
) -> None:
    # GIVEN a service that (against the contract) sends an amount as a JSON number
    body = json.dumps(balance_body(A)).replace('"available": "85.00"', '"available": 0.1')
    stub.script(Reply(200, raw=body.encode()))
    # WHEN reading the balance
    balance = client.get_balance(A)
    # THEN it is exact, 10 cents
    assert balance.available == 10


def test_an_amount_finer_than_its_currency_is_refused(
    stub: StubServer, client: LedgerClient
) -> None:
    # GIVEN a service that (against the contract) sends a third decimal for USD
    stub.script(Reply(200, balance_body(A, available="0.001")))
    # WHEN reading the balance
    # THEN it is refused rather than rounded
    with pytest.raises(ValueError, match="more digits than USD"):
        client.get_balance(A)


def test_the_library_line_inputs_are_sent_as_lines(stub: StubServer, client: LedgerClient) -> None:
    # GIVEN the lines of a journal entry as the library takes them
    inputs = [
        LineInput(A, Side.DEBIT, Decimal("10.50")),
        LineInput(B, "credit", "10.50", currency="USD"),
    ]
    stub.script(Reply(201, entry_body()))
    # WHEN creating the entry with them
    client.create_entry(L, inputs)
    # THEN they travel as the contract's lines, the same as mappings do
    assert stub.requests[0].body["lines"] == sent_lines


def test_a_naive_effective_at_is_refused(stub: StubServer, client: LedgerClient) -> None:
    # GIVEN a time without a timezone
    # WHEN creating an entry effective then
    # THEN ValueError is raised and nothing was sent
    with pytest.raises(ValueError, match="timezone"):
        client.create_entry(L, lines, effective_at=datetime(2026, 1, 1))
    assert stub.requests == []


moment = datetime(2026, 1, 31, 13, 0, tzinfo=timezone(timedelta(hours=1)))
presets: list[tuple[str, Call]] = [
    ("/v1/deposits", lambda c: c.deposit(A, "1.00", effective_at=moment)),
    ("/v1/withdrawals", lambda c: c.withdraw(A, "1.00", effective_at=moment)),
    ("/v1/spends", lambda c: c.spend(A, "1.00", effective_at=moment)),
    ("/v1/refunds", lambda c: c.refund(A, "1.00", effective_at=moment)),
    ("/v1/transfers", lambda c: c.transfer(A, B, "1.00", effective_at=moment)),
    ("/v1/conversions", lambda c: c.convert(A, B, "1.00", "0.92", effective_at=moment)),
    ("/v1/holds", lambda c: c.hold(A, "1.00", effective_at=moment)),
    ("/v1/escrows", lambda c: c.escrow(A, B, "1.00", effective_at=moment)),
]


@pytest.mark.parametrize(("route", "call"), presets, ids=[route for route, _ in presets])
def test_every_preset_sends_its_effective_at_in_utc(
    stub: StubServer, client: LedgerClient, route: str, call: Call
) -> None:
    # GIVEN a service that accepts anything
    stub.script(Reply(201, entry_body()))
    # WHEN creating the entry effective at 13:00 in UTC+1
    call(client)
    # THEN the body carries that moment in UTC
    [request] = stub.requests
    assert (request.path, request.body["effective_at"]) == (route, "2026-01-31T12:00:00Z")


def test_a_naive_effective_at_on_a_preset_is_refused(
    stub: StubServer, client: LedgerClient
) -> None:
    # GIVEN a time without a timezone
    # WHEN depositing effective then
    # THEN ValueError names the field and nothing was sent
    with pytest.raises(ValueError, match="effective_at must be timezone-aware"):
        client.deposit(A, "1.00", effective_at=datetime(2026, 1, 1))
    assert stub.requests == []


def test_expires_in_without_pending_is_refused(stub: StubServer, client: LedgerClient) -> None:
    # GIVEN an expiry for an entry that is not pending
    # WHEN creating it
    # THEN ValueError is raised and nothing was sent
    with pytest.raises(ValueError, match="pending"):
        client.create_entry(L, lines, expires_in=60)
    assert stub.requests == []


def test_ids_are_escaped_into_one_path_segment(stub: StubServer, client: LedgerClient) -> None:
    # GIVEN an id with a slash and a question mark
    stub.script(Reply(200, entry_body()))
    # WHEN reading the entry of that id
    client.get_entry("a/b?c")
    # THEN the id stays one segment of the path
    assert stub.requests[0].path == "/v1/entries/a%2Fb%3Fc"


def test_a_base_url_with_a_path_keeps_it(stub: StubServer) -> None:
    # GIVEN a base URL with a stage path and a trailing slash
    client = LedgerClient(stub.url + "/prod/", None)
    stub.script(Reply(200, {"status": "ok"}))
    # WHEN checking health without a key
    assert client.health() == {"status": "ok"}
    # THEN the stage path prefixes the route, and no Authorization header was sent
    assert stub.requests[0].path == "/prod/v1/health"
    assert "authorization" not in stub.requests[0].headers


@pytest.mark.parametrize("base_url", ["ftp://example.com", "127.0.0.1:3000", "http://"])
def test_a_base_url_that_is_not_http_is_refused(base_url: str) -> None:
    # GIVEN a base URL the client cannot speak to
    # WHEN building a client
    # THEN ValueError says what is expected
    with pytest.raises(ValueError, match="http"):
        LedgerClient(base_url, None)


def test_from_env_reads_the_url_and_key(stub: StubServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN LEDGER_URL and LEDGER_API_KEY in the environment
    monkeypatch.setenv("LEDGER_URL", stub.url)
    monkeypatch.setenv("LEDGER_API_KEY", "lk_from_env")
    stub.script(Reply(200, ledger_body(L)))
    # WHEN a client from the environment reads a ledger
    LedgerClient.from_env().get_ledger(L)
    # THEN it went to that URL with that key
    assert stub.requests[0].headers["authorization"] == "Bearer lk_from_env"


def test_from_env_without_a_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN no LEDGER_URL
    monkeypatch.delenv("LEDGER_URL", raising=False)
    # WHEN building a client from the environment
    # THEN ValueError names the variable
    with pytest.raises(ValueError, match="LEDGER_URL"):
        LedgerClient.from_env()


def page(items: list[dict[str, Any]], next_cursor: str | None) -> Reply:
    """A page of a listing."""
    return Reply(200, {"items": items, "next_cursor": next_cursor})


def test_iter_accounts_follows_cursors_to_the_end(stub: StubServer, client: LedgerClient) -> None:
    # GIVEN three pages of accounts, linked by cursors
    ids = [an_id("acc") for _ in range(5)]
    stub.script(
        page([account_body(ids[0]), account_body(ids[1])], "c-1"),
        page([account_body(ids[2]), account_body(ids[3])], "c-2"),
        page([account_body(ids[4])], None),
    )
    # WHEN iterating over the ledger's accounts two at a time
    found = [account.id for account in client.iter_accounts(L, type="asset", page_size=2)]
    # THEN every account comes once, in order, each page asked with the previous cursor
    assert found == ids
    assert [request.query.get("cursor") for request in stub.requests] == [None, "c-1", "c-2"]
    assert all(request.query["limit"] == "2" for request in stub.requests)
    assert all(request.query["type"] == "asset" for request in stub.requests)


def test_iteration_goes_on_to_the_end_by_default(stub: StubServer, client: LedgerClient) -> None:
    # GIVEN a listing of 120 pages (more than any bound a caller would guess), linked by
    # cursors
    pages = 120
    cursors = [f"c-{index}" for index in range(pages - 1)]
    stub.script(*[page([entry_body()], cursor) for cursor in [*cursors, None]])
    # WHEN iterating over entries without a bound
    found = list(client.iter_entries(L))
    # THEN every page was read, each with the cursor before it, to the one without a cursor
    assert len(found) == pages
    assert [request.query.get("cursor") for request in stub.requests] == [None, *cursors]


Iterate = Callable[[LedgerClient, int], Iterator[Any]]
bounded_iterators: dict[str, tuple[Iterate, Callable[[], dict[str, Any]]]] = {
    "entries": (
        lambda client, bound: client.iter_entries(L, account_id="acc-1", pages_max=bound),
        entry_body,
    ),
    "accounts": (
        lambda client, bound: client.iter_accounts(L, pages_max=bound),
        lambda: account_body(an_id("acc")),
    ),
    "ledgers": (
        lambda client, bound: client.iter_ledgers(pages_max=bound),
        lambda: ledger_body(an_id("ldg")),
    ),
}


@pytest.mark.parametrize("name", list(bounded_iterators))
def test_a_page_bound_reached_before_the_end_raises(
    stub: StubServer, client: LedgerClient, name: str
) -> None:
    # GIVEN a listing that always has another page
    iterate, body = bounded_iterators[name]
    cursors = [an_id("cursor") for _ in range(5)]
    stub.script(*[page([body()], cursor) for cursor in cursors])
    # WHEN iterating with a bound of 3 pages
    found: list[Any] = []
    with pytest.raises(PagesMaxReached) as caught:
        found.extend(iterate(client, 3))
    # THEN the 3 pages' items came, then the error, with the cursor to go on from
    assert len(found) == 3
    assert len(stub.requests) == 3
    assert (caught.value.pages_max, caught.value.next_cursor) == (3, cursors[2])
    assert "next_cursor" in str(caught.value)


def test_a_page_bound_the_listing_fits_in_ends_quietly(
    stub: StubServer, client: LedgerClient
) -> None:
    # GIVEN a listing of exactly 3 pages
    stub.script(page([entry_body()], "c-1"), page([entry_body()], "c-2"), page([], None))
    # WHEN iterating with a bound of 3 pages
    found = list(client.iter_entries(L, pages_max=3))
    # THEN it ends, as the listing does
    assert len(found) == 2
    assert len(stub.requests) == 3


@pytest.mark.parametrize("bound", [0, -1])
def test_a_page_bound_below_one_is_refused(
    stub: StubServer, client: LedgerClient, bound: int
) -> None:
    # GIVEN a page bound that allows no page WHEN iterating
    # THEN ValueError says what a bound is, before any request
    with pytest.raises(ValueError, match="pages_max"):
        list(client.iter_entries(L, pages_max=bound))
    assert stub.requests == []


def test_iter_ledgers_reads_nothing_until_iterated(stub: StubServer, client: LedgerClient) -> None:
    # GIVEN one page of ledgers
    stub.script(page([ledger_body(L)], None))
    # WHEN asking for the iterator but not iterating
    ledgers = client.iter_ledgers(owner_id="o-1")
    # THEN no request was made; iterating makes it
    assert stub.requests == []
    assert [ledger.id for ledger in ledgers] == [L]
    assert stub.requests[0].query == {"owner_id": "o-1", "limit": "100"}


def test_at_least_one_attempt_is_required(stub: StubServer) -> None:
    # GIVEN no attempts at all
    # WHEN building a client
    # THEN ValueError says at least one is needed
    with pytest.raises(ValueError, match="attempts_max"):
        LedgerClient(stub.url, None, attempts_max=0)


def test_an_external_check_comes_back_in_minor_units_of_its_scale(
    stub: StubServer, client: LedgerClient
) -> None:
    # GIVEN a service answering with a replayed USDC check by type, and one by ids
    by_ids = {
        **external_check_body,
        **{"external": "1", "ledger_total": "2", "difference": "-1", "tolerance": "0"},
        **{"currency": "POINTS", "account_ids": [A], "account_type": None},
    }
    stub.script(
        Reply(201, external_check_body, {"Idempotent-Replayed": "true"}),
        page([by_ids], None),
    )
    # WHEN one is made and the other listed
    check = client.check_external_balance(L, "chain", "USDC", "-1.5", account_type="asset")
    (listed,) = client.list_external_checks(L).items
    # THEN the amounts are minor units of the scale they are written in, signs kept
    assert check.currency == Currency("USDC", 6)
    assert (check.external, check.ledger_total, check.difference) == (
        -1_500_000,
        2_000_000,
        -3_500_000,
    )
    assert (check.within_tolerance, check.replayed, check.actor) == (False, True, "key_1")
    assert (check.account_type, check.account_ids, check.ledger_id) == ("asset", None, L)
    assert check.checked_at == datetime(2026, 1, 2, 3, 4, 6, tzinfo=UTC)
    assert (listed.currency, listed.external, listed.account_ids) == (
        Currency("POINTS", 0),
        1,
        (A,),
    )
    assert stub.requests[0].body["account_type"] == "asset"


def test_iter_external_checks_follows_cursors_to_the_end(
    stub: StubServer, client: LedgerClient
) -> None:
    # GIVEN two pages of checks of one source
    stub.script(page([external_check_body], "c-1"), page([external_check_body], None))
    # WHEN iterating over them
    found = list(client.iter_external_checks(L, source="chain", page_size=1))
    # THEN both pages are read, each asked for the source, with the cursor before it
    assert len(found) == 2
    assert [request.query.get("cursor") for request in stub.requests] == [None, "c-1"]
    assert all(request.query["source"] == "chain" for request in stub.requests)
