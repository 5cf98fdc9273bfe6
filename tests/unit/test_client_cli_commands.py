"""The `ledger` commands for daily work, against a scripted server: the one-account
operations, escrows, reversals, batches and reports, and what every command shares:
`-q`, the replay marker, amounts and currency codes checked before anything is sent."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from click.testing import CliRunner, Result
from client_stub import Reply, StubServer, account_body, an_id, entry_body, ledger_body

from ledger.cli import main


@pytest.fixture
def stub() -> Iterator[StubServer]:
    """A scripted server for one test."""
    with StubServer() as server:
        yield server


def run(stub: StubServer, *arguments: str, stdin: str | None = None) -> Result:
    """`ledger ARGUMENTS` with LEDGER_URL and LEDGER_API_KEY pointing at the stub."""
    environment = {"LEDGER_URL": stub.url, "LEDGER_API_KEY": "lk_cli"}
    return CliRunner().invoke(main, list(arguments), env=environment, input=stdin)


@pytest.mark.parametrize(
    ("command", "route"),
    [
        ("deposit", "/v1/deposits"),
        ("withdraw", "/v1/withdrawals"),
        ("spend", "/v1/spends"),
        ("refund", "/v1/refunds"),
    ],
)
def test_each_one_account_operation_sends_its_route_with_every_option(
    stub: StubServer, command: str, route: str
) -> None:
    # GIVEN a service that accepts the operation
    kind = {"withdraw": "withdrawal"}.get(command, command)
    stub.script(Reply(201, entry_body(kind=kind)))
    account_id, counterparty_id = an_id("acc"), an_id("acc")
    # WHEN running it with every option the client's method takes
    result = run(
        stub, command, account_id, "12.50", "--counterparty-account-id", counterparty_id,
        "--reference", "r-1", "--description", "rent",
        "--effective-at", "2026-01-31T13:00:00+01:00", "--metadata", "team=ops",
        "--idempotency-key", "k-1",
    )  # fmt: skip
    # THEN one request went to its route, the time in UTC, the key as given
    assert result.exit_code == 0, result.output
    [request] = stub.requests
    assert (request.path, request.headers["idempotency-key"]) == (route, "k-1")
    assert request.body == {
        "account_id": account_id,
        "amount": "12.50",
        "counterparty_account_id": counterparty_id,
        "reference": "r-1",
        "description": "rent",
        "effective_at": "2026-01-31T12:00:00Z",
        "metadata": {"team": "ops"},
    }


@pytest.mark.parametrize(
    "arguments",
    [
        ("deposit", "acc_1", "-5"),
        ("withdraw", "acc_1", "-5.00", "--reference", "r-1"),
        ("transfer", "acc_1", "acc_2", "-.5"),
        ("deposit", "acc_1", "--", "-5"),
        ("spend", "acc_1", "5,00"),
        ("confirm-hold", "ent_1", "--amount", "-5"),
    ],
)
def test_an_amount_that_is_not_a_positive_decimal_is_a_usage_error(
    stub: StubServer, arguments: tuple[str, ...]
) -> None:
    # GIVEN an amount that is negative or not a decimal string
    # WHEN running the command with it
    result = run(stub, *arguments)
    # THEN it is a usage error that says what an amount is, and nothing was sent
    assert result.exit_code == 2
    assert "amount must be a positive decimal string such as 5.00" in result.stderr
    assert "Traceback" not in result.output
    assert stub.requests == []


def test_an_unknown_option_is_still_reported_as_one(stub: StubServer) -> None:
    # GIVEN an option no command has, starting with a dash and a letter
    # WHEN depositing with it
    result = run(stub, "deposit", an_id("acc"), "5.00", "-x")
    # THEN click names the option, and nothing was sent
    assert result.exit_code == 2
    assert "No such option '-x'" in result.stderr
    assert stub.requests == []


@pytest.mark.parametrize("moment", ["2026-01-31T12:00:00", "yesterday"])
def test_an_effective_time_without_an_offset_is_a_usage_error(
    stub: StubServer, moment: str
) -> None:
    # GIVEN a time without an offset, or no time at all
    # WHEN depositing effective then
    result = run(stub, "deposit", an_id("acc"), "5.00", "--effective-at", moment)
    # THEN it is a usage error showing the expected form, and nothing was sent
    assert result.exit_code == 2
    assert "2026-01-31T12:00:00Z" in result.stderr
    assert stub.requests == []


def test_quiet_prints_only_the_id_of_what_was_created(stub: StubServer) -> None:
    # GIVEN a service that accepts a transfer and opens an account
    entry, account = entry_body(), account_body()
    stub.script(Reply(201, entry), Reply(201, account))
    # WHEN transferring and opening the account with -q / --quiet
    transferred = run(stub, "transfer", an_id("acc"), an_id("acc"), "1.00", "-q")
    opened = run(stub, "accounts", "create", an_id("led"), "Cash", "asset", "USD", "--quiet")
    # THEN each printed its id alone
    assert (transferred.exit_code, transferred.stdout) == (0, f"{entry['id']}\n")
    assert (opened.exit_code, opened.stdout) == (0, f"{account['id']}\n")


def test_a_quiet_list_prints_one_id_per_line(stub: StubServer) -> None:
    # GIVEN a ledger's accounts, on more than one page
    first, second = account_body(), account_body()
    stub.script(Reply(200, {"items": [first, second], "next_cursor": "c-2"}))
    # WHEN listing them quietly
    result = run(stub, "accounts", "list", an_id("led"), "-q")
    # THEN stdout holds their ids, one per line; the cursor still goes to stderr
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [first["id"], second["id"]]
    assert "--cursor c-2" in result.stderr


def test_a_replay_is_marked_on_stderr(stub: StubServer) -> None:
    # GIVEN a service that answers a deposit sent again with its key as a replay
    entry = entry_body(kind="deposit")
    replayed = {"Idempotent-Replayed": "true"}
    stub.script(Reply(201, entry), Reply(201, entry, replayed), Reply(201, entry, replayed))
    account_id = an_id("acc")
    # WHEN depositing, then sending the same deposit twice more, once as JSON
    first = run(stub, "deposit", account_id, "5.00", "--idempotency-key", "k-1")
    again = run(stub, "deposit", account_id, "5.00", "--idempotency-key", "k-1")
    as_json = run(stub, "deposit", account_id, "5.00", "--idempotency-key", "k-1", "--json")
    # THEN only the replays say "(replayed)", on stderr: stdout is the same entry each time
    assert (first.exit_code, again.exit_code, as_json.exit_code) == (0, 0, 0)
    assert (first.stderr, again.stderr, as_json.stderr) == ("", "(replayed)\n", "(replayed)\n")
    assert first.stdout == again.stdout
    assert json.loads(as_json.stdout) == entry


def test_a_lowercase_currency_is_sent_upper_case(stub: StubServer) -> None:
    # GIVEN a service that opens accounts, registers currencies and reports
    ledger_id = an_id("led")
    report = {
        "ledger_id": ledger_id, "currency": "EUR", "lines": [], "total_debits": "0.00",
        "total_credits": "0.00", "balanced": True, "as_of": "2026-01-02T03:04:05Z",
    }  # fmt: skip
    stub.script(
        Reply(201, account_body(currency="EUR")),
        Reply(201, {"code": "POINTS", "scale": 0, "builtin": False}),
        Reply(200, report),
    )
    # WHEN naming currencies in lower case
    results = [
        run(stub, "accounts", "create", ledger_id, "Cash", "asset", "eur"),
        run(stub, "ledgers", "register-currency", ledger_id, "points", "0"),
        run(stub, "trial-balance", ledger_id, "eur"),
    ]
    # THEN every code went out upper-cased
    assert [result.exit_code for result in results] == [0, 0, 0]
    assert stub.requests[0].body["currency"] == "EUR"
    assert stub.requests[1].body == {"code": "POINTS", "scale": 0}
    assert stub.requests[2].query == {"currency": "EUR"}


def test_escrow_release_and_refund_take_their_routes(stub: StubServer) -> None:
    # GIVEN a service that accepts an escrow and its resolutions
    escrow_id = an_id("ent")
    stub.script(*[Reply(200, entry_body(escrow_id, kind="escrow"))] * 3)
    buyer, seller = an_id("acc"), an_id("acc")
    # WHEN escrowing with an expiry, then releasing and refunding quietly
    results = [
        run(stub, "escrow", buyer, seller, "50.00", "--expires-in", "3600", "--reference", "d-1"),
        run(stub, "release-escrow", escrow_id, "-q"),
        run(stub, "refund-escrow", escrow_id, "-q"),
    ]
    # THEN each went to its route with its body, and the resolutions printed the id
    assert [result.exit_code for result in results] == [0, 0, 0]
    assert f"id: {escrow_id}" in results[0].stdout.splitlines()
    assert results[1].stdout == results[2].stdout == f"{escrow_id}\n"
    assert [(request.path, request.body) for request in stub.requests] == [
        (
            "/v1/escrows",
            {
                "buyer_account_id": buyer,
                "seller_account_id": seller,
                "amount": "50.00",
                "expires_in": 3600,
                "reference": "d-1",
            },
        ),
        (f"/v1/escrows/{escrow_id}/release", None),
        (f"/v1/escrows/{escrow_id}/refund", None),
    ]


def test_hold_takes_every_option_of_the_client(stub: StubServer) -> None:
    # GIVEN a service that accepts a hold
    stub.script(Reply(201, entry_body(status="pending")))
    account_id = an_id("acc")
    # WHEN holding with a description, metadata and an effective time
    result = run(
        stub, "hold", account_id, "5.00", "--description", "pre-auth", "--metadata", "pos=7",
        "--effective-at", "2026-01-31T12:00:00Z",
    )  # fmt: skip
    # THEN the body carries them as the client's keyword arguments
    assert result.exit_code == 0, result.output
    assert stub.requests[0].body == {
        "account_id": account_id,
        "amount": "5.00",
        "description": "pre-auth",
        "effective_at": "2026-01-31T12:00:00Z",
        "metadata": {"pos": "7"},
    }


def test_reverse_posts_the_mirror_with_a_key(stub: StubServer) -> None:
    # GIVEN a service that reverses an entry
    entry_id = an_id("ent")
    reversal = entry_body(kind="reversal", reverses=entry_id)
    stub.script(Reply(201, reversal))
    # WHEN reversing it quietly with a description
    result = run(stub, "reverse-entry", entry_id, "--description", "typo", "-q")
    # THEN the reversal's id is printed, and the request carried a key
    assert (result.exit_code, result.stdout) == (0, f"{reversal['id']}\n")
    [request] = stub.requests
    assert (request.path, request.body) == (
        f"/v1/entries/{entry_id}/reverse",
        {"description": "typo"},
    )
    assert request.headers["idempotency-key"]


def test_shard_counts_are_sent_and_bounded(stub: StubServer) -> None:
    # GIVEN a service that creates a ledger and an account
    stub.script(Reply(201, ledger_body()), Reply(201, account_body()))
    # WHEN a ledger is created with 16 world shards and a revenue account with 8 shards
    created = run(stub, "ledgers", "create", "Market", "--world-shards", "16", "-q")
    opened = run(
        stub,
        "accounts",
        "create",
        an_id("led"),
        "Fees",
        "revenue",
        "USD",
        "--overdraft",
        "allow",
        "--shards",
        "8",
        "-q",
    )
    # THEN both counts went into the bodies
    assert (created.exit_code, opened.exit_code) == (0, 0)
    assert stub.requests[0].body["world_shards"] == 16
    assert (stub.requests[1].body["shards"], stub.requests[1].body["overdraft"]) == (
        8,
        {"mode": "allow"},
    )
    # AND a count past 64 is a usage error that sends nothing
    refused = run(stub, "ledgers", "create", "Market", "--world-shards", "65")
    assert refused.exit_code == 2
    assert "--world-shards" in refused.stderr
    assert len(stub.requests) == 2
