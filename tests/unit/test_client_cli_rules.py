"""`ledger rules` and the client's posting rule methods, against a scripted server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from client_stub import Reply, StubServer, an_id, entry_body, error_reply

from ledger.cli import main
from ledger.client import LedgerClient
from ledger.domain.model import Side
from ledger.domain.posting_rules import InboundEvent, RuleLine

shipped = Path(__file__).resolve().parents[2] / "docs" / "posting-rules"


@pytest.fixture
def stub() -> Iterator[StubServer]:
    """A scripted server for one test."""
    with StubServer() as server:
        yield server


def run(stub: StubServer, *arguments: str) -> Result:
    """`ledger ARGUMENTS` against the stub."""
    environment = {"LEDGER_URL": stub.url, "LEDGER_API_KEY": "lk_cli"}
    return CliRunner().invoke(main, list(arguments), env=environment)


def rule_body(event_type: str, version: int = 1, **fields: Any) -> dict[str, Any]:
    """A rule object of the API."""
    return {
        "event_type": event_type,
        "ledger_id": an_id("led"),
        "version": version,
        "lines": [
            {"account_id": None, "account_code": "cash", "side": "debit", "amount": "1"},
            {"account_id": "{{data.a}}", "account_code": None, "side": "credit", "amount": "1"},
        ],
        "reference": None,
        "description": None,
        "created_at": "2026-01-02T03:04:05Z",
        **fields,
    }


def test_apply_puts_every_shipped_rule_as_its_next_version(stub: StubServer) -> None:
    # GIVEN the five shipped rule files, and a server that answers each put
    files = sorted(str(path) for path in shipped.glob("*.json"))
    names = [Path(name).name.removesuffix(".json") for name in files]
    stub.script(*(Reply(200, rule_body(name, version=2)) for name in names))

    # WHEN they are applied to a ledger
    result = run(stub, "rules", "apply", *files, "--ledger", "ldg_abcdefghijklmnop")

    # THEN each file was PUT to its type's path as written, and each version is reported
    assert result.exit_code == 0, result.output
    assert [request.method for request in stub.requests] == ["PUT"] * 5
    assert [request.path.rsplit("/", 1)[1] for request in stub.requests] == names
    sent = stub.requests[0].body
    expected = json.loads(Path(files[0]).read_text())
    assert sent == {name: value for name, value in expected.items() if name != "event_type"}
    assert result.stdout.splitlines() == [f"{name}: version 2" for name in names]


def test_apply_takes_a_list_of_rules_and_prints_json(stub: StubServer, tmp_path: Path) -> None:
    # GIVEN a file of two rules
    rules = [
        {"event_type": "a.b", "lines": [{"account_code": "x", "side": "debit", "amount": "1"}]},
        {"event_type": "c.d", "lines": [], "reference": "r"},
    ]
    file = tmp_path / "rules.json"
    file.write_text(json.dumps(rules))
    stub.script(Reply(200, rule_body("a.b")), Reply(200, rule_body("c.d")))

    # WHEN they are applied with --json
    result = run(stub, "rules", "apply", str(file), "--ledger", "ldg_x", "--json")

    # THEN both answers are printed as a JSON list
    assert result.exit_code == 0, result.output
    assert [rule["event_type"] for rule in json.loads(result.stdout)] == ["a.b", "c.d"]
    assert stub.requests[1].body == {"lines": [], "reference": "r"}


@pytest.mark.parametrize(
    "content",
    ["not json", json.dumps({"lines": []}), json.dumps([{"event_type": "a.b", "x": 1}])],
)
def test_apply_refuses_a_file_that_holds_no_rules_before_any_request(
    stub: StubServer, tmp_path: Path, content: str
) -> None:
    # GIVEN a file that is not JSON, a rule without its type, or one with an unknown field
    file = tmp_path / "rule.json"
    file.write_text(content)

    # WHEN it is applied
    result = run(stub, "rules", "apply", str(file), "--ledger", "ldg_x")

    # THEN the command fails, naming the file, and nothing was sent
    assert result.exit_code == 1
    assert "error: validation_error:" in result.stderr
    assert str(file) in result.stderr
    assert stub.requests == []


def test_a_refused_put_is_reported_with_its_code(stub: StubServer, tmp_path: Path) -> None:
    # GIVEN a server that refuses the put
    file = tmp_path / "rule.json"
    file.write_text(json.dumps({"event_type": "a.b", "lines": []}))
    stub.script(error_reply(403, "forbidden", "this needs the admin role"))

    # WHEN / THEN the command fails with the server's code
    result = run(stub, "rules", "apply", str(file), "--ledger", "ldg_x")
    assert result.exit_code == 1
    assert "error: forbidden: this needs the admin role" in result.stderr


def test_list_show_and_dry_run(stub: StubServer, tmp_path: Path) -> None:
    # GIVEN answers to a listing, a read and a dry run
    entry = {**entry_body(), "dry_run": True}
    stub.script(
        Reply(200, {"items": [rule_body("a.b"), rule_body("c.d")], "next_cursor": None}),
        Reply(200, rule_body("a.b", version=3)),
        Reply(200, entry),
    )
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"id": "e1", "type": "a.b", "ledger_id": "ldg_x", "data": {}}))

    # WHEN the rules are listed, one is shown, and an event is dry-run
    listed = run(stub, "rules", "list", "ldg_x", "--limit", "2")
    shown = run(stub, "rules", "show", "ldg_x", "a.b", "--version", "3")
    dry = run(stub, "rules", "dry-run", str(event), "--json")

    # THEN each reached its route and printed its answer
    assert (listed.exit_code, shown.exit_code, dry.exit_code) == (0, 0, 0), dry.output
    assert listed.stdout.splitlines()[0].split() == [
        "EVENT_TYPE",
        "VERSION",
        "REFERENCE",
        "CREATED_AT",
    ]
    assert "version: 3" in shown.stdout
    assert json.loads(dry.stdout)["dry_run"] is True
    assert [(request.method, request.path) for request in stub.requests] == [
        ("GET", "/v1/ledgers/ldg_x/posting-rules"),
        ("GET", "/v1/ledgers/ldg_x/posting-rules/a.b"),
        ("POST", "/v1/ledgers/ldg_x/posting-rules/a.b/dry-run"),
    ]
    assert stub.requests[1].query == {"version": "3"}
    assert stub.requests[2].body["event"]["id"] == "e1"


@pytest.mark.parametrize("content", ["[1]", "{"])
def test_dry_run_refuses_a_file_that_holds_no_event(
    stub: StubServer, tmp_path: Path, content: str
) -> None:
    # GIVEN / WHEN a file without one JSON object is dry-run
    event = tmp_path / "event.json"
    event.write_text(content)
    result = run(stub, "rules", "dry-run", str(event))

    # THEN it fails before any request
    assert result.exit_code == 1
    assert stub.requests == []


def test_the_client_sends_rules_and_events_and_decodes_them(stub: StubServer) -> None:
    # GIVEN a client, and answers to a put, a read, two pages and a dry run
    client = LedgerClient(stub.url, "lk_client")
    posted = entry_body()
    posted["posting_rule"] = {"event_type": "a.b", "version": 1, "event_id": "e1"}
    stub.script(
        Reply(200, rule_body("a.b", reference="{{data.r}}")),
        Reply(200, rule_body("a.b")),
        Reply(200, {"items": [rule_body("a.b")], "next_cursor": "more"}),
        Reply(200, {"items": [rule_body("c.d")], "next_cursor": None}),
        Reply(200, {**posted, "dry_run": True}),
    )
    event = InboundEvent("e1", "a.b", "ldg_x", datetime(2026, 1, 1, tzinfo=UTC), {"r": "1"})

    # WHEN each method is called
    put = client.put_rule(
        "ldg_x",
        "a.b",
        [
            RuleLine(Side.DEBIT, "1", account_code="cash"),
            {"account_id": "a", "side": "credit", "amount": "1"},
        ],
        reference="{{data.r}}",
    )
    read = client.get_rule("ldg_x", "a.b")
    every = list(client.iter_rules("ldg_x", page_size=1))
    entry = client.dry_run_event(event)

    # THEN the bodies went as the API takes them, and the answers came back typed
    assert stub.requests[0].body == {
        "lines": [
            {"account_code": "cash", "side": "debit", "amount": "1"},
            {"account_id": "a", "side": "credit", "amount": "1"},
        ],
        "reference": "{{data.r}}",
    }
    assert (put.reference, read.version, [rule.event_type for rule in every]) == (
        "{{data.r}}",
        1,
        ["a.b", "c.d"],
    )
    assert put.lines[0] == RuleLine(Side.DEBIT, "1", account_code="cash")
    assert stub.requests[4].body == {
        "event": {
            "id": "e1",
            "type": "a.b",
            "ledger_id": "ldg_x",
            "occurred_at": "2026-01-01T00:00:00Z",
            "data": {"r": "1"},
        }
    }
    assert entry.posting_rule is not None
    assert entry.posting_rule.event_id == "e1"
