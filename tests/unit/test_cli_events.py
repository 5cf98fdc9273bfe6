"""`ledger events send` and `ledger events tail`, on a data dir of their own."""

from __future__ import annotations

import importlib
import json
import secrets
from typing import TYPE_CHECKING, Any

import pytest
from click.testing import CliRunner

from ledger.cli.app import main
from ledger.cli.commands.event_lines import event_line, inbound_events, short_id
from ledger.local.bus import FileBus

if TYPE_CHECKING:
    from pathlib import Path

# The module, not the `events` group its package exports under the same name.
events_command = importlib.import_module("ledger.cli.commands.events")

account = f"acc_{'a' * 16}_USD-2-d_{'b' * 8}k2m3pq7x"
ledger_id = f"ldg_{'c' * 16}"


def run(*arguments: str, given: str | None = None) -> Any:
    return CliRunner().invoke(main, ["events", *arguments], input=given)


def spooled(data_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (data_dir / "inbound.jsonl").read_text().splitlines()]


def event(**overrides: Any) -> dict[str, Any]:
    return {"id": f"evt-{secrets.token_hex(4)}", "type": "expense.created", **overrides}


def test_send_queues_one_object_or_one_per_line(tmp_path: Path) -> None:
    # GIVEN a pretty-printed event in a file, and two events one per line on stdin
    single = event(data={"amount": "1.00"})
    file = tmp_path / "event.json"
    file.write_text(json.dumps(single, indent=2))
    pair = [event(), event()]

    # WHEN both are sent to the data dir
    first = run("send", "--data-dir", str(tmp_path), str(file))
    second = run("send", "--data-dir", str(tmp_path), "-", given="\n".join(map(json.dumps, pair)))

    # THEN all three are queued in order, one line each, and each send said how many
    assert (first.exit_code, second.exit_code) == (0, 0)
    assert "Queued 1 inbound event(s)" in first.output
    assert "Queued 2 inbound event(s)" in second.output
    assert spooled(tmp_path) == [single, *pair]


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("", "no events"),
        ("[1, 2]", "not a JSON object"),
        ('{"id": "a"}\n{"id": \n', "line 2 is not JSON"),
        ('{"id": "a"}\n"text"\n', "line 2 is not a JSON object"),
    ],
)
def test_send_refuses_what_is_not_events_and_queues_nothing(
    tmp_path: Path, given: str, message: str
) -> None:
    # GIVEN / WHEN input that is not one object, nor one per line, is sent
    result = run("send", "--data-dir", str(tmp_path), "-", given=given)

    # THEN it fails with a clear error, and nothing is queued
    assert result.exit_code == 1
    assert message in result.output
    assert not (tmp_path / "inbound.jsonl").exists()


def test_send_bounds_an_event_and_the_events_of_one_send(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN an event over 256 KB / WHEN it is read / THEN it is refused
    with pytest.raises(ValueError, match="at most 262144"):
        inbound_events(json.dumps(event(data={"x": "y" * 262144})))
    # AND so is more events than one send takes
    monkeypatch.setattr("ledger.cli.commands.event_lines.events_per_send_max", 2)
    with pytest.raises(ValueError, match="at most 2 events"):
        inbound_events("{}\n{}\n{}\n")


def test_send_refuses_input_over_its_bound(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(events_command, "send_bytes_max", 10)
    result = run("send", "--data-dir", str(tmp_path), "-", given=json.dumps(event()))
    assert result.exit_code == 1
    assert "over 10 bytes" in result.output


def publish(data_dir: Path, detail_type: str, detail: dict[str, Any]) -> None:
    FileBus(data_dir / "events.jsonl").put_events(
        Entries=[{"Source": "ledger", "DetailType": detail_type, "Detail": json.dumps(detail)}]
    )


def posted_entry() -> dict[str, Any]:
    return {
        "id": "ent_1",
        "ledger_id": ledger_id,
        "lines": [
            {"account_id": account, "side": "debit", "amount": "10.00", "currency": "USD"},
            {"account_id": "acc_x", "side": "credit", "amount": "10.00", "currency": "USD"},
        ],
        "event_id": "evt_1",
    }


def test_tail_tells_each_event_in_one_line(tmp_path: Path) -> None:
    # GIVEN an entry, an account and a monitor event published
    publish(tmp_path, "ledger.entry.posted", posted_entry())
    balance = {"posted": "90.00", "available": "85.00", "currency": "USD"}
    publish(
        tmp_path,
        "ledger.account.updated",
        {"id": account, "ledger_id": ledger_id, "balance": balance},
    )
    publish(
        tmp_path,
        "ledger.monitor.triggered",
        {"id": "mon_1", "account_id": account, "ledger_id": ledger_id},
    )

    # WHEN the events are tailed
    result = run("tail", "--data-dir", str(tmp_path))

    # THEN each is one line: time, type, ids, and the amounts compactly
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == 3
    assert lines[0].endswith(
        f"ledger.entry.posted  ent_1  {ledger_id}  debit acc…k2m3pq7x 10.00 USD, "
        "credit acc_x 10.00 USD"
    )
    assert (
        f"ledger.account.updated  {account}  {ledger_id}  posted 90.00 available 85.00 USD"
        in lines[1]
    )
    assert f"ledger.monitor.triggered  mon_1  {account}  {ledger_id}" in lines[2]


def test_tail_json_prints_the_raw_lines(tmp_path: Path) -> None:
    # GIVEN one published event / WHEN tailed as JSON / THEN the line is printed as written
    publish(tmp_path, "ledger.entry.posted", posted_entry())
    result = run("tail", "--data-dir", str(tmp_path), "--json")
    assert result.output == (tmp_path / "events.jsonl").read_text()


def test_tail_of_a_missing_file_says_so(tmp_path: Path) -> None:
    # GIVEN / WHEN a data dir with no events file is tailed / THEN it says so, failing
    result = run("tail", "--data-dir", str(tmp_path))
    assert result.exit_code == 1
    assert "no events yet" in result.output
    assert "events.jsonl does not exist" in result.output


def test_tail_follow_waits_for_the_file_and_prints_new_lines_until_ctrl_c(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a data dir with no events yet, to which events come while tail follows
    sleeps: list[None] = []

    def sleep() -> None:
        sleeps.append(None)
        if len(sleeps) == 1:
            publish(tmp_path, "ledger.entry.posted", posted_entry())
        elif len(sleeps) == 2:
            with (tmp_path / "events.jsonl").open("a") as file:
                file.write("{half a line")
        elif len(sleeps) == 3:
            (tmp_path / "events.jsonl").write_text("not an event\n")
        else:
            raise KeyboardInterrupt

    monkeypatch.setattr(events_command, "_pause", sleep)

    # WHEN it follows until Ctrl-C
    result = run("tail", "--data-dir", str(tmp_path), "--follow")

    # THEN it waited for the file, printed the event, skipped the half line, read the
    # file made anew from its start, and stopped cleanly
    assert result.exit_code == 0
    assert "Waiting for" in result.output
    printed = result.output.splitlines()[1:]
    assert len(printed) == 2
    assert "ledger.entry.posted  ent_1" in printed[0]
    assert printed[1] == "? not an event"
    assert len(sleeps) == 4


def test_a_line_that_is_no_event_object_is_told_as_it_is() -> None:
    assert event_line("[1]") == "? [1]"
    assert event_line('{"time": "t", "detail-type": "x", "detail": 3}') == "t  x"
    assert event_line('{"detail": {"amount": "5.00", "currency": "EUR"}}') == "?  ?  5.00 EUR"


def test_a_short_id_is_kept_whole() -> None:
    assert short_id("acc_x") == "acc_x"
    assert short_id(account) == "acc…k2m3pq7x"


def test_tail_skips_blank_lines_and_follow_pauses_its_interval(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN an events file with a blank line between two events
    publish(tmp_path, "ledger.entry.posted", posted_entry())
    with (tmp_path / "events.jsonl").open("a") as file:
        file.write("\n")
    publish(tmp_path, "ledger.entry.posted", posted_entry())

    # WHEN it is tailed / THEN the blank line is no event
    assert len(run("tail", "--data-dir", str(tmp_path)).output.splitlines()) == 2
    # AND a pause of --follow sleeps its interval
    pauses: list[float] = []
    monkeypatch.setattr(events_command.time, "sleep", pauses.append)
    events_command._pause()
    assert pauses == [events_command.follow_interval_s]
