"""`ledger rules apply|list|show|dry-run`: a ledger's posting rules through the API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from ledger.cli.commands.common import answer, api_options, connected, fail, page_options
from ledger.cli.commands.output import echo_json, echo_object, echo_page, field
from ledger.domain.errors import ValidationError

rule_columns = (field("event_type"), field("version"), field("reference"), field("created_at"))
rule_fields = frozenset({"event_type", "lines", "reference", "description"})


def read_rules(path: Path) -> list[dict[str, Any]]:
    """The rules a JSON file holds: one rule object, or a list of them, each naming its
    `event_type`; ValidationError naming what is wrong."""
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValidationError("file", f"{path}: not a readable JSON file ({error})") from None
    rules = loaded if isinstance(loaded, list) else [loaded]
    for index, rule in enumerate(rules):
        where = f"{path}[{index}]" if isinstance(loaded, list) else str(path)
        if not isinstance(rule, dict) or not isinstance(rule.get("event_type"), str):
            raise ValidationError("event_type", f"{where}: a rule is an object with an event_type")
        unknown = sorted(set(rule) - rule_fields)
        if unknown:
            raise ValidationError(unknown[0], f"{where}: a rule has no field {unknown[0]!r}")
    return rules


@click.group()
def rules() -> None:
    """Apply, list, show and dry-run a ledger's posting rules (inbound events -> entries)."""


@rules.command("apply")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--ledger", "ledger_id", required=True, help="The ledger whose rules these are.")
@api_options
def apply_rules(
    *, files: tuple[Path, ...], ledger_id: str, url: str | None, api_key: str | None, as_json: bool
) -> None:
    """Put each rule of the JSON FILES (one rule, or a list of rules, each with its
    event_type) as the next version of the ledger's rule for its type (admin key)."""
    try:
        loaded = [rule for path in files for rule in read_rules(path)]
    except ValidationError as error:
        fail(error.code, error.message)
    applied: list[Any] = []
    with connected(url, api_key) as client:
        for rule in loaded:
            client.put_rule(
                ledger_id,
                rule["event_type"],
                rule.get("lines") or [],
                reference=rule.get("reference"),
                description=rule.get("description"),
            )
            applied.append(answer(client))
    if as_json:
        echo_json(applied)
        return
    for rule in applied:
        click.echo(f"{rule['event_type']}: version {rule['version']}")


@rules.command("list")
@click.argument("ledger_id")
@page_options
@api_options
def list_rules(
    *,
    ledger_id: str,
    limit: int | None,
    cursor: str | None,
    url: str | None,
    api_key: str | None,
    as_json: bool,
) -> None:
    """List the latest version of each of the ledger LEDGER_ID's rules, by event type."""
    with connected(url, api_key) as client:
        client.list_rules(ledger_id, limit=limit, cursor=cursor)
    echo_page(answer(client), rule_columns, as_json)


@rules.command("show")
@click.argument("ledger_id")
@click.argument("event_type")
@click.option("--version", type=click.IntRange(min=1), help="One version (default: the latest).")
@api_options
def show_rule(
    *,
    ledger_id: str,
    event_type: str,
    version: int | None,
    url: str | None,
    api_key: str | None,
    as_json: bool,
) -> None:
    """Show the ledger LEDGER_ID's rule for EVENT_TYPE."""
    with connected(url, api_key) as client:
        client.get_rule(ledger_id, event_type, version)
    echo_object(answer(client), as_json)


@rules.command("dry-run")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@api_options
def dry_run(*, file: Path, url: str | None, api_key: str | None, as_json: bool) -> None:
    """Show the entry the inbound event in FILE (one JSON object) would post; nothing is
    written."""
    try:
        event = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        fail("validation_error", f"{file}: not a readable JSON file ({error})")
    if not isinstance(event, dict):
        fail("validation_error", f"{file}: an event is one JSON object")
    with connected(url, api_key) as client:
        client.dry_run_event(event)
    echo_object(answer(client), as_json)
