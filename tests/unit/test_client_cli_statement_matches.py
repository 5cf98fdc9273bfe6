"""`ledger reconcile external` against a scripted server: files read by their header or as
JSON, sent in chunks in date order, the merged result printed, and clear refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from client_stub import Reply, StubServer

from ledger.cli import main

account = "acc_abcdefghijklmnop_USD-2-c_qrstuvwxyzabcdef"
ledger_id = "ldg_abcdefghijklmnop"


@pytest.fixture
def stub() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server


def run(stub: StubServer, *arguments: str) -> Result:
    environment = {"LEDGER_URL": stub.url, "LEDGER_API_KEY": "lk_cli"}
    return CliRunner().invoke(main, ["reconcile", "external", *arguments], env=environment)


def answer(**fields: Any) -> dict[str, Any]:
    return {
        "run_id": "mrun_abcdefghijklmnop",
        "matched": [],
        "unmatched_external": [],
        "unmatched_entries": [],
        "already_matched": [],
        "dry_run": False,
        **fields,
    }


def test_a_csv_is_sent_by_its_header_and_the_matches_printed(
    stub: StubServer, tmp_path: Path
) -> None:
    # GIVEN a CSV whose columns are mapped, rows out of date order
    file = tmp_path / "march.csv"
    file.write_text(
        "txn,amt,date,reference\n"
        "b,-2.00,2026-03-03T00:00:00Z,\n"
        "a,10.00,2026-03-02T00:00:00+01:00,inv-1\n"
    )
    stub.script(
        Reply(
            200,
            answer(matched=[{"external_id": "a", "entry_ids": ["ent_1"]}], already_matched=["b"]),
        )
    )
    # WHEN matched with rules
    result = run(
        stub, "--account", account, "--file", str(file), "--column", "id=txn",
        "--column", "amount=amt", "--strategy", "one_to_many", "--date-tolerance", "3600",
        "--amount-tolerance", "0.01", "--match-on", "amount", "--match-on", "date",
    )  # fmt: skip
    # THEN one request went, rows in date order, the source the file's stem
    assert result.exit_code == 0, result.output
    [request] = stub.requests
    assert request.path == f"/v1/ledgers/{ledger_id}/statement-matches"
    assert request.body == {
        "account_id": account,
        "source": "march",
        "rows": [
            {"id": "a", "amount": "10.00", "date": "2026-03-02T00:00:00+01:00",
             "reference": "inv-1"},
            {"id": "b", "amount": "-2.00", "date": "2026-03-03T00:00:00Z"},
        ],
        "rules": {"strategy": "one_to_many", "date_tolerance_s": 3600,
                  "amount_tolerance": "0.01", "match_on": ["amount", "date"]},
        "dry_run": False,
    }  # fmt: skip
    # AND the table shows the matched row and its entry
    assert "matched: 1" in result.stdout
    assert "already matched: 1" in result.stdout
    assert any(line.split() == ["a", "ent_1"] for line in result.stdout.splitlines())


def test_json_rows_are_sent_in_chunks_and_merged(stub: StubServer, tmp_path: Path) -> None:
    # GIVEN 1,500 rows as {"rows": [...]}
    rows = [
        {"id": f"r{n}", "amount": "1.00", "date": f"2026-03-02T00:{n // 60 % 60:02d}:{n % 60:02d}Z"}
        for n in range(1500)
    ]
    file = tmp_path / "rows.json"
    file.write_text(json.dumps({"rows": rows}))
    first = answer(
        matched=[{"external_id": "r0", "entry_ids": ["e1"]}],
        unmatched_entries=["e2", "e3"],
        unmatched_external=["r1"],
        dry_run=True,
    )
    second = answer(matched=[{"external_id": "r1000", "entry_ids": ["e2"]}], dry_run=True)
    stub.script(Reply(200, first), Reply(200, second))
    # WHEN matched dry with --json
    result = run(stub, "--account", account, "--file", str(file), "--dry-run", "--json",
                 "--source", "bank")  # fmt: skip
    # THEN two chunks went, of 1,000 and 500 rows, and the answer is merged
    assert [len(request.body["rows"]) for request in stub.requests] == [1000, 500]
    assert all(request.body["dry_run"] for request in stub.requests)
    merged = json.loads(result.stdout)
    assert merged["matched"] == [
        {"external_id": "r0", "entry_ids": ["e1"]},
        {"external_id": "r1000", "entry_ids": ["e2"]},
    ]
    assert (merged["unmatched_entries"], merged["unmatched_external"]) == (["e3"], ["r1"])
    assert merged["dry_run"] is True
    assert len(merged["run_ids"]) == 2
    # AND something is unmatched: exit status 1
    assert result.exit_code == 1
    assert "error: unmatched: 1 row(s) and 1 entry(ies)" in result.stderr


def test_a_plain_list_of_rows_prints_the_unmatched(stub: StubServer, tmp_path: Path) -> None:
    file = tmp_path / "rows.json"
    file.write_text(json.dumps([{"id": "r1", "amount": "1.00", "date": "2026-03-02T00:00:00Z"}]))
    stub.script(Reply(200, answer(unmatched_external=["r1"], unmatched_entries=["e9"],
                                  dry_run=True)))  # fmt: skip
    result = run(stub, "--account", account, "--file", str(file))
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert "dry run: nothing was recorded" in lines
    assert ["UNMATCHED", "ROW"] in [line.split() for line in lines]
    assert ["r1"] in [line.split() for line in lines]
    assert ["e9"] in [line.split() for line in lines]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("s.csv", "id,date\nr1,2026-03-02T00:00:00Z\n", "no column 'amount'"),
        ("s.csv", "id,amount,date\nr1,1.00\n", "line 2: has 3 fields"),
        ("s.csv", "id,amount,date\nr1,1.00,2026-03-02T00:00:00Z,extra\n", "line 2: has 3"),
        ("s.csv", "id,amount,date\nr1,,2026-03-02T00:00:00Z\n", "line 2: no amount"),
        ("s.csv", "id,amount,date\nr1,1.00,2026-03-02\n", "line 2: date '2026-03-02'"),
        ("s.csv", "id,amount,date\nr1,1.00,soon\n", "line 2: date 'soon'"),
        ("s.csv", 'id,amount,date\nr1,"1"0,2026-03-02T00:00:00Z\n', "line 2: not CSV"),
        ("s.csv", "id,amount,date\n", "no rows"),
        ("s.json", "[1", "not JSON"),
        ("s.json", '{"lines": []}', "expected a list of rows"),
        ("s.json", '[{"id": "r1", "amount": 1}]', "row 1: expected an object of strings"),
    ],
)
def test_bad_files_are_refused_before_any_request(
    stub: StubServer, tmp_path: Path, name: str, content: str, message: str
) -> None:
    file = tmp_path / name
    file.write_text(content)
    result = run(stub, "--account", account, "--file", str(file))
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert stub.requests == []


def test_an_unreadable_file_or_bad_options_are_refused(stub: StubServer, tmp_path: Path) -> None:
    binary = tmp_path / "s.csv"
    binary.write_bytes(b"\xff\xfe\x00")
    cases = [
        (["--account", account, "--file", str(binary)], "cannot read"),
        (["--account", account, "--file", str(tmp_path / "none.csv")], "does not exist"),
        (["--account", "acc_x", "--file", str(binary)], "is no account id"),
        (["--account", account, "--file", str(binary), "--column", "colour=c"], "FIELD=HEADER"),
    ]
    for arguments, message in cases:
        result = run(stub, *arguments)
        assert result.exit_code == 2, result.output
        assert message in result.stderr
    assert stub.requests == []


def test_a_refused_row_is_named_by_its_line(stub: StubServer, tmp_path: Path) -> None:
    # GIVEN a service that refuses the second row's amount
    file = tmp_path / "s.csv"
    file.write_text("id,amount,date\nr1,1.00,2026-03-02T00:00:00Z\nr2,1.001,2026-03-03T00:00:00Z\n")
    error = {"code": "validation_error", "message": "too many decimals",
             "details": {"field": "rows[1].amount"}}  # fmt: skip
    stub.script(Reply(400, {"error": error}))
    # WHEN matched, THEN the refusal names the file's line
    result = run(stub, "--account", account, "--file", str(file))
    assert result.exit_code == 2
    assert "line 3: too many decimals" in result.stderr
    # AND a refusal of anything else is the CLI's usual error
    stub.script(Reply(400, {"error": {**error, "details": {"field": "source"}}}))
    other = run(stub, "--account", account, "--file", str(file))
    assert other.exit_code == 1
    assert "error: validation_error: too many decimals" in other.stderr
