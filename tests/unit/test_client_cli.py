"""The API commands of the `ledger` CLI, against a scripted server."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result
from client_stub import (
    Reply,
    StubServer,
    account_body,
    an_id,
    balance_body,
    entry_body,
    error_reply,
    ledger_body,
)

from ledger.cli import main


@pytest.fixture
def stub() -> Iterator[StubServer]:
    """A scripted server for one test."""
    with StubServer() as server:
        yield server


def run(stub: StubServer, *arguments: str) -> Result:
    """`ledger ARGUMENTS` with LEDGER_URL and LEDGER_API_KEY pointing at the stub."""
    environment = {"LEDGER_URL": stub.url, "LEDGER_API_KEY": "lk_cli"}
    return CliRunner().invoke(main, list(arguments), env=environment)


def test_accounts_list_prints_an_aligned_table(stub: StubServer) -> None:
    # GIVEN a ledger with two accounts, one of them with a balance
    ledger_id = an_id("led")
    cash = account_body(name="Cash", type="asset", code="1000")
    wallet = account_body(
        name="Customer wallet", balance=balance_body(an_id("acc"), available="12.50")
    )
    stub.script(Reply(200, {"items": [cash, wallet], "next_cursor": None}))
    # WHEN listing its accounts
    result = run(stub, "accounts", "list", ledger_id, "--type", "asset")
    # THEN a header row and one row per account come out, columns aligned
    assert result.exit_code == 0, result.output
    header, first, second = result.stdout.splitlines()
    assert header.split() == ["ID", "CODE", "NAME", "TYPE", "CURRENCY", "STATUS", "AVAILABLE"]
    assert first.startswith(cash["id"])
    assert "Customer wallet" in second
    assert second.endswith("12.50")
    assert header.index("NAME") == first.index("Cash") == second.index("Customer wallet")
    assert stub.requests[0].query == {"ledger_id": ledger_id, "type": "asset"}
    assert stub.requests[0].headers["authorization"] == "Bearer lk_cli"


def test_a_list_with_more_pages_says_how_to_continue(stub: StubServer) -> None:
    # GIVEN a listing with another page
    stub.script(Reply(200, {"items": [entry_body(amount="3.00")], "next_cursor": "c-42"}))
    # WHEN listing entries of a ledger
    result = run(stub, "entries", "list", "--ledger-id", an_id("led"), "--limit", "1")
    # THEN the table shows the entry's amount, and stderr names the cursor
    assert result.exit_code == 0, result.output
    assert "3.00 USD" in result.stdout
    assert "--cursor c-42" in result.stderr
    assert stub.requests[0].query["limit"] == "1"


def test_balance_json_prints_the_raw_answer(stub: StubServer) -> None:
    # GIVEN an account's balance
    account_id = an_id("acc")
    balance = balance_body(account_id)
    stub.script(Reply(200, balance))
    # WHEN showing it with --json
    result = run(stub, "balance", account_id, "--json")
    # THEN stdout is the JSON object, amounts still strings
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == balance
    assert stub.requests[0].path == f"/v1/accounts/{account_id}/balance"


def test_an_object_prints_as_key_value_lines(stub: StubServer) -> None:
    # GIVEN an account with a balance
    account = account_body(balance=balance_body(an_id("acc"), available="85.00"))
    stub.script(Reply(200, account))
    # WHEN showing it
    result = run(stub, "accounts", "show", account["id"])
    # THEN each field is a `key: value` line, nested ones dotted
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert f"id: {account['id']}" in lines
    assert "overdraft.mode: forbid" in lines
    assert "balance.available: 85.00" in lines
    assert "code: -" in lines


def test_an_entry_shows_its_lines_as_a_table(stub: StubServer) -> None:
    # GIVEN a posted transfer
    entry = entry_body(amount="7.25")
    stub.script(Reply(201, entry))
    # WHEN transferring
    result = run(stub, "transfer", an_id("acc"), an_id("acc"), "7.25", "--reference", "r-1")
    # THEN the entry's fields, then its lines under a header row
    assert result.exit_code == 0, result.output
    output = result.stdout.splitlines()
    assert f"id: {entry['id']}" in output
    header = output[output.index("lines:") + 1]
    assert header.split() == ["ACCOUNT_ID", "SIDE", "AMOUNT", "CURRENCY"]
    assert stub.requests[0].body["amount"] == "7.25"
    assert stub.requests[0].body["reference"] == "r-1"


def test_a_refusal_exits_1_with_code_and_message_on_stderr(stub: StubServer) -> None:
    # GIVEN a service that refuses the withdrawal behind a hold for lack of funds
    stub.script(error_reply(422, "insufficient_funds", "account cannot cover 500.00 USD"))
    # WHEN holding more than the account has
    result = run(stub, "hold", an_id("acc"), "500.00")
    # THEN the error goes to stderr as `error: code: message`, and the status is 1
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: insufficient_funds: account cannot cover 500.00 USD"
    assert result.stdout == ""


def test_an_unreachable_service_exits_1() -> None:
    # GIVEN no service on the URL (a stub that was started and stopped)
    with StubServer() as stopped:
        url = stopped.url
    # WHEN showing a ledger
    result = CliRunner().invoke(main, ["ledgers", "show", an_id("led"), "--url", url])
    # THEN the failure is reported as unreachable, with status 1
    assert result.exit_code == 1
    assert result.stderr.startswith("error: unreachable: ")


def test_a_missing_url_is_a_usage_error() -> None:
    # GIVEN no LEDGER_URL and no --url
    # WHEN showing a balance
    result = CliRunner().invoke(main, ["balance", an_id("acc")], env={"LEDGER_URL": None})
    # THEN click's usage error names LEDGER_URL
    assert result.exit_code == 2
    assert "LEDGER_URL" in result.stderr


def test_deposit_sends_the_given_idempotency_key(stub: StubServer) -> None:
    # GIVEN a service that accepts a deposit
    stub.script(Reply(201, entry_body(kind="deposit")))
    key = an_id("key")
    account_id = an_id("acc")
    # WHEN depositing with --idempotency-key
    result = run(stub, "deposit", account_id, "10.00", "--idempotency-key", key)
    # THEN the request carried that key and the amount as a string
    assert result.exit_code == 0, result.output
    assert stub.requests[0].headers["idempotency-key"] == key
    assert stub.requests[0].body == {"account_id": account_id, "amount": "10.00"}


def test_hold_confirm_and_release_take_their_routes(stub: StubServer) -> None:
    # GIVEN a service that accepts a hold, its confirmation and another release
    hold_id = an_id("ent")
    stub.script(*[Reply(200, entry_body(hold_id, status="pending"))] * 3)
    account_id = an_id("acc")
    # WHEN holding with an expiry, confirming for less, and releasing
    results = [
        run(stub, "hold", account_id, "5.00", "--expires-in", "60"),
        run(stub, "confirm-hold", hold_id, "--amount", "4.00"),
        run(stub, "release-hold", hold_id),
    ]
    # THEN each went to its route with its body
    assert [result.exit_code for result in results] == [0, 0, 0]
    assert [(request.path, request.body) for request in stub.requests] == [
        ("/v1/holds", {"account_id": account_id, "amount": "5.00", "expires_in": 60}),
        (f"/v1/holds/{hold_id}/confirm", {"amount": "4.00"}),
        (f"/v1/holds/{hold_id}/release", None),
    ]


def test_ledgers_and_accounts_create_send_their_fields(stub: StubServer) -> None:
    # GIVEN a service that creates a ledger and an account
    ledger_id = an_id("led")
    stub.script(
        Reply(201, ledger_body(ledger_id, owner_id="o-1")),
        Reply(201, account_body()),
    )
    # WHEN creating both, with metadata and a credit line
    created_ledger = run(stub, "ledgers", "create", "Books", "--owner-id", "o-1")
    created_account = run(
        stub, "accounts", "create", ledger_id, "Card", "liability", "USD",
        "--overdraft", "limit", "--credit-limit", "100.00",
        "--metadata", "team=payments",
    )  # fmt: skip
    # THEN both succeeded, with the fields the options named
    assert created_ledger.exit_code == created_account.exit_code == 0
    assert f"id: {ledger_id}" in created_ledger.stdout.splitlines()
    assert stub.requests[0].body == {"name": "Books", "owner_id": "o-1"}
    assert stub.requests[1].body == {
        "ledger_id": ledger_id,
        "name": "Card",
        "type": "liability",
        "currency": "USD",
        "overdraft": {"mode": "limit", "limit": "100.00"},
        "metadata": {"team": "payments"},
    }


def test_metadata_must_be_key_value(stub: StubServer) -> None:
    # GIVEN a metadata option without "="
    # WHEN creating a ledger with it
    result = run(stub, "ledgers", "create", "Books", "--metadata", "team")
    # THEN it is a usage error, and nothing was sent
    assert result.exit_code == 2
    assert "KEY=VALUE" in result.stderr
    assert stub.requests == []


def test_entries_list_needs_a_filter(stub: StubServer) -> None:
    # GIVEN no ledger, account or reference
    # WHEN listing entries
    result = run(stub, "entries", "list")
    # THEN it is a usage error, and nothing was sent
    assert result.exit_code == 2
    assert stub.requests == []


def test_ledgers_list_and_entries_show(stub: StubServer) -> None:
    # GIVEN an owner's ledgers and an entry
    ledger_id = an_id("led")
    entry = entry_body(reference="order-7")
    stub.script(
        Reply(200, {"items": [ledger_body(ledger_id, owner_id="o-1")], "next_cursor": None}),
        Reply(200, entry),
    )
    # WHEN listing the owner's ledgers and showing the entry
    listed = run(stub, "ledgers", "list", "--owner-id", "o-1")
    shown = run(stub, "entries", "show", entry["id"])
    # THEN the ledger is a row of the table, and the entry's reference a line
    assert listed.stdout.splitlines()[1].split()[:3] == [ledger_id, "Books", "o-1"]
    assert "reference: order-7" in shown.stdout.splitlines()
    assert stub.requests[1].path == f"/v1/entries/{entry['id']}"


def test_ledgers_register_currency_and_list_currencies(stub: StubServer) -> None:
    # GIVEN a service that registers a currency and lists a ledger's currencies
    ledger_id = an_id("led")
    registered = {"code": "POINTS", "scale": 0, "builtin": False}
    stub.script(
        Reply(201, registered),
        Reply(200, {"items": [{"code": "JPY", "scale": 0, "builtin": True}, registered]}),
    )
    # WHEN registering POINTS with scale 0, then listing
    created = run(stub, "ledgers", "register-currency", ledger_id, "POINTS", "0")
    listed = run(stub, "ledgers", "currencies", ledger_id)
    # THEN the body named code and scale, and each currency is a row of the table
    assert created.exit_code == listed.exit_code == 0
    assert stub.requests[0].path == f"/v1/ledgers/{ledger_id}/currencies"
    assert stub.requests[0].body == {"code": "POINTS", "scale": 0}
    assert "code: POINTS" in created.stdout.splitlines()
    assert [line.split()[:2] for line in listed.stdout.splitlines()[1:]] == [
        ["JPY", "0"],
        ["POINTS", "0"],
    ]


def test_a_scale_out_of_range_is_a_usage_error(stub: StubServer) -> None:
    # GIVEN a scale above the largest
    # WHEN registering a currency with it
    result = run(stub, "ledgers", "register-currency", an_id("led"), "BIG", "19")
    # THEN it is a usage error, and nothing was sent
    assert result.exit_code == 2
    assert stub.requests == []
