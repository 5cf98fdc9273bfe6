"""`ledger reconcile external`: an outside statement (CSV or JSON) matched against one
account's entries, sent in chunks, with tables of what matched and what did not."""

from __future__ import annotations

import csv
import io
import json
import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from ledger.cli.commands.common import api_options, connected, fail
from ledger.cli.commands.output import Column, echo_json, table
from ledger.client import LedgerClient
from ledger.domain.errors import NotFound, ValidationError
from ledger.domain.ids import parse_account_id
from ledger.domain.matches import StatementMatchRun
from ledger.reporting.matching import match_fields, strategies

# The rows of one request; the API takes up to 10,000, and smaller requests each end well
# inside the API's time bound.
chunk_rows = 1_000
row_columns = ("id", "amount", "date", "reference", "description")
required_columns = ("id", "amount", "date")
_row_field = re.compile(r"^rows\[(?P<index>[0-9]+)\](?P<rest>.*)$")
matched_columns: tuple[Column, ...] = (
    ("row", lambda item: item["external_id"]),
    ("entries", lambda item: item["entry_ids"]),
)
unmatched_row_columns: tuple[Column, ...] = (("unmatched row", lambda item: item["id"]),)
unmatched_entry_columns: tuple[Column, ...] = (("unmatched entry", lambda item: item["id"]),)


# A row as sent, and where it came from in the file ("line 3", "row 3").
Placed = tuple[dict[str, str], str]


def parse_columns(
    _context: click.Context, _parameter: click.Parameter, values: tuple[str, ...]
) -> dict[str, str]:
    """`--column FIELD=HEADER` options: which header names each row field."""
    mapping = {name: name for name in row_columns}
    for value in values:
        name, separator, header = value.partition("=")
        if not separator or not header or name not in row_columns:
            raise click.BadParameter(
                f"expected FIELD=HEADER with FIELD one of {', '.join(row_columns)}, got {value!r}"
            )
        mapping[name] = header
    return mapping


def read_rows(file: Path, columns: Mapping[str, str]) -> list[Placed]:
    """The file's rows, each with its place: CSV by its header, JSON a list of row objects
    or `{"rows": [...]}`; a missing column or a bad row is refused, naming where."""
    try:
        text = file.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise click.BadParameter(f"cannot read {file}: {error}", param_hint="--file") from None
    if file.suffix.lower() == ".json":
        return _json_rows(text)
    return _csv_rows(text, columns)


def _csv_rows(text: str, columns: Mapping[str, str]) -> list[Placed]:
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    header = reader.fieldnames or []
    for name in required_columns:
        if columns[name] not in header:
            raise click.BadParameter(
                f"the file has no column {columns[name]!r} for the row's {name} "
                f"(its header: {', '.join(header) or 'none'}; map one with --column {name}=NAME)",
                param_hint="--file",
            )
    placed: list[Placed] = []
    try:
        for record in reader:
            where = f"line {reader.line_num}"
            if None in record or None in record.values():
                raise click.BadParameter(
                    f"{where}: has {len(header)} fields in its header but not in the row",
                    param_hint="--file",
                )
            row = {
                name: record[columns[name]]
                for name in row_columns
                if columns[name] in record and record[columns[name]] != ""
            }
            placed.append((_checked(row, where), where))
    except csv.Error as error:
        raise click.BadParameter(
            f"line {reader.line_num + 1}: not CSV ({error})", param_hint="--file"
        ) from None
    return placed


def _json_rows(text: str) -> list[Placed]:
    try:
        body = json.loads(text)
    except ValueError as error:
        raise click.BadParameter(f"not JSON ({error})", param_hint="--file") from None
    rows = body.get("rows") if isinstance(body, dict) else body
    if not isinstance(rows, list):
        raise click.BadParameter('expected a list of rows or {"rows": [...]}', param_hint="--file")
    placed: list[Placed] = []
    for number, row in enumerate(rows, start=1):
        where = f"row {number}"
        if not isinstance(row, dict) or not all(isinstance(value, str) for value in row.values()):
            raise click.BadParameter(f"{where}: expected an object of strings", param_hint="--file")
        placed.append((_checked(row, where), where))
    return placed


def _checked(row: dict[str, str], where: str) -> dict[str, str]:
    """The row, with its required fields present and its date readable (rows are sent in
    date order, so each chunk spans as few days as it can)."""
    for name in required_columns:
        if not row.get(name):
            raise click.BadParameter(f"{where}: no {name}", param_hint="--file")
    _date(row, where)
    return row


def _date(row: Mapping[str, str], where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(row["date"].replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise click.BadParameter(
            f"{where}: date {row['date']!r} is not an RFC 3339 time with a zone",
            param_hint="--file",
        )
    return moment


def merged(runs: Sequence[StatementMatchRun]) -> dict[str, Any]:
    """The runs of every chunk as one answer: an entry is unmatched only if no chunk
    matched it."""
    matched = [(row_id, entry_ids) for run in runs for row_id, entry_ids in run.matched]
    taken = {entry_id for _, entry_ids in matched for entry_id in entry_ids}
    unmatched_entries = dict.fromkeys(
        entry_id for run in runs for entry_id in run.unmatched_entries if entry_id not in taken
    )
    return {
        "run_ids": [run.run_id for run in runs],
        "matched": [
            {"external_id": row_id, "entry_ids": list(entry_ids)} for row_id, entry_ids in matched
        ],
        "unmatched_external": [row_id for run in runs for row_id in run.unmatched_external],
        "unmatched_entries": list(unmatched_entries),
        "already_matched": [row_id for run in runs for row_id in run.already_matched],
        "dry_run": all(run.dry_run for run in runs),
    }


@contextmanager
def rows_named(places: Sequence[str]) -> Iterator[None]:
    """A refusal of one row of a chunk, named by its place in the file (exit status 2)."""
    try:
        yield
    except ValidationError as error:
        found = _row_field.fullmatch(error.field)
        if found is None or int(found.group("index")) >= len(places):
            raise
        where = places[int(found.group("index"))]
        raise click.BadParameter(f"{where}: {error.message}", param_hint="--file") from None


@click.command("external")
@click.option("--account", "account_id", required=True, help="The account the statement is of.")
@click.option(
    "--file",
    "file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, readable=True, path_type=Path),
    help="The statement: a CSV with a header row, or JSON (.json).",
)
@click.option("--source", help="The statement's source name (default: the file's stem).")
@click.option("--dry-run", is_flag=True, help="Match without recording anything.")
@click.option(
    "--column",
    "columns",
    multiple=True,
    callback=parse_columns,
    metavar="FIELD=HEADER",
    help="The CSV column of a row field (id, amount, date, reference, description).",
)
@click.option("--strategy", type=click.Choice(strategies), help="Default: one_to_one.")
@click.option("--date-tolerance", type=click.IntRange(min=0), metavar="SECONDS", help="Default: 0.")
@click.option("--amount-tolerance", metavar="AMOUNT", help="Default: 0.")
@click.option(
    "--match-on",
    multiple=True,
    type=click.Choice(sorted(match_fields)),
    help="A field that must agree; repeat for more (default: all three).",
)
@api_options
def external(
    *,
    account_id: str,
    file: Path,
    source: str | None,
    dry_run: bool,
    columns: dict[str, str],
    strategy: str | None,
    date_tolerance: int | None,
    amount_tolerance: str | None,
    match_on: tuple[str, ...],
    url: str | None,
    api_key: str | None,
    as_json: bool,
) -> None:
    """Match an outside statement against an account's entries.

    Reads the rows of the statement (CSV columns id, amount, date, reference,
    description, named in its header or mapped with --column; or JSON), sends them in
    chunks of 1,000 rows in date order, and prints the matched rows with their entries,
    then the rows and entries left unmatched. Unless --dry-run, the matches are recorded:
    a row or an entry is never matched twice across runs. Exits with status 1 when a row
    or an entry is left unmatched."""
    try:
        ledger_id = parse_account_id(account_id).ledger_id
    except NotFound:
        raise click.BadParameter(
            f"{account_id!r} is no account id", param_hint="--account"
        ) from None
    placed = read_rows(file, columns)
    if not placed:
        raise click.BadParameter("the statement has no rows", param_hint="--file")
    placed.sort(key=lambda each: _date(each[0], each[1]))
    rules = {
        name: value
        for name, value in (
            ("strategy", strategy),
            ("date_tolerance_s", date_tolerance),
            ("amount_tolerance", amount_tolerance),
            ("match_on", list(match_on) or None),
        )
        if value is not None
    }
    with connected(url, api_key) as client:
        runs = _send(
            client,
            ledger_id=ledger_id,
            account_id=account_id,
            source=source or file.stem,
            placed=placed,
            rules=rules,
            dry_run=dry_run,
        )
    shown = merged(runs)
    _echo(shown, as_json)
    if shown["unmatched_external"] or shown["unmatched_entries"]:
        rows, entries = len(shown["unmatched_external"]), len(shown["unmatched_entries"])
        fail("unmatched", f"{rows} row(s) and {entries} entry(ies) are left unmatched")


def _send(
    client: LedgerClient,
    *,
    ledger_id: str,
    account_id: str,
    source: str,
    placed: list[Placed],
    rules: dict[str, Any],
    dry_run: bool,
) -> list[StatementMatchRun]:
    runs: list[StatementMatchRun] = []
    with click.progressbar(length=len(placed), label="matching rows", file=sys.stderr) as bar:
        for start in range(0, len(placed), chunk_rows):
            chunk = placed[start : start + chunk_rows]
            with rows_named([where for _, where in chunk]):
                runs.append(
                    client.match_statement(
                        ledger_id,
                        account_id,
                        source,
                        [row for row, _ in chunk],
                        rules=rules or None,
                        dry_run=dry_run,
                    )
                )
            bar.update(len(chunk))
    return runs


def _echo(shown: Mapping[str, Any], as_json: bool) -> None:
    if as_json:
        echo_json(shown)
        return
    lines = [
        f"matched: {len(shown['matched'])}",
        f"already matched: {len(shown['already_matched'])}",
    ]
    if shown["dry_run"]:
        lines.append("dry run: nothing was recorded")
    sections = (
        (shown["matched"], matched_columns),
        ([{"id": row_id} for row_id in shown["unmatched_external"]], unmatched_row_columns),
        ([{"id": entry_id} for entry_id in shown["unmatched_entries"]], unmatched_entry_columns),
    )
    for items, shown_columns in sections:
        if items:
            lines += ["", *table(items, shown_columns)]
    for line in lines:
        click.echo(line)
