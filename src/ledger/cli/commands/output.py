"""How the commands print: aligned tables for lists, `key: value` lines for one object,
or the raw JSON answer with --json."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import click

Column = tuple[str, Callable[[Mapping[str, Any]], object]]


def field(name: str) -> Column:
    """A column showing one field; `a.b` reaches into a nested object."""

    def value(item: Mapping[str, Any]) -> object:
        current: object = item
        for part in name.split("."):
            if not isinstance(current, Mapping):
                return None
            current = current.get(part)
        return current

    return name.rsplit(".", 1)[-1], value


def debits(item: Mapping[str, Any]) -> str:
    """What an entry moves: its debit total per currency, e.g. `10.00 USD`."""
    totals: dict[str, Decimal] = {}
    for line in item.get("lines", ()):
        if line.get("side") == "debit":
            currency = str(line.get("currency", ""))
            totals[currency] = totals.get(currency, Decimal(0)) + Decimal(str(line["amount"]))
    return ", ".join(f"{amount} {currency}".strip() for currency, amount in totals.items())


def echo_json(value: object) -> None:
    """The answer as JSON, as the API sent it."""
    click.echo(json.dumps(value, indent=2, default=str))


def text(value: object) -> str:
    """A cell or a value as text; nothing shows as `-`."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, Mapping):
        return ", ".join(f"{key}={text(item)}" for key, item in value.items()) or "-"
    if isinstance(value, list | tuple):
        return ", ".join(text(item) for item in value) or "-"
    return str(value)


def table(items: Sequence[Mapping[str, Any]], columns: Sequence[Column]) -> list[str]:
    """Rows of text under a header row, each column as wide as its widest cell."""
    rows = [[header.upper() for header, _ in columns]]
    rows.extend([text(value(item)) for _, value in columns] for item in items)
    widths = [max(len(row[index]) for row in rows) for index in range(len(columns))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def echo_page(
    page: Mapping[str, Any], columns: Sequence[Column], as_json: bool, quiet: bool = False
) -> None:
    """A page of a listing as a table (quiet: its ids); where it continues goes to stderr."""
    if as_json:
        echo_json(page)
        return
    lines = [item["id"] for item in page["items"]] if quiet else table(page["items"], columns)
    for line in lines:
        click.echo(line)
    if page.get("next_cursor"):
        click.echo(f"more: pass --cursor {page['next_cursor']}", err=True)


def key_values(value: Mapping[str, Any], prefix: str = "") -> list[str]:
    """`key: value` lines; nested objects as `outer.inner`, lists of objects as tables."""
    lines: list[str] = []
    tables: list[str] = []
    for key, item in value.items():
        name = prefix + key
        if isinstance(item, Mapping) and item:
            lines.extend(key_values(item, f"{name}."))
        elif isinstance(item, list) and item and all(isinstance(row, Mapping) for row in item):
            columns = [field(column) for column in item[0]]
            tables.extend(["", f"{name}:", *("  " + row for row in table(item, columns))])
        else:
            lines.append(f"{name}: {text(item)}")
    return lines + tables


def echo_object(value: Mapping[str, Any], as_json: bool, quiet: bool = False) -> None:
    """One object as `key: value` lines, as JSON, or (quiet) its id alone."""
    if as_json:
        echo_json(value)
        return
    if quiet:
        click.echo(value["id"])
        return
    for line in key_values(value):
        click.echo(line)


def echo_report(
    shown: Mapping[str, Any], listed: str, columns: Sequence[Column], as_json: bool
) -> None:
    """A report as JSON, or as `key: value` lines then its `listed` items as a table."""
    if as_json:
        echo_json(shown)
        return
    for line in key_values({name: value for name, value in shown.items() if name != listed}):
        click.echo(line)
    if shown[listed]:
        click.echo("")
        for line in table(shown[listed], columns):
            click.echo(line)
