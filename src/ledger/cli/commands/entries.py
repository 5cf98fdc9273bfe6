"""`ledger entries list|show` and `ledger reverse`: the journal."""

from __future__ import annotations

import click

from ledger.cli.commands.common import (
    answer,
    api_options,
    connected,
    idempotency_option,
    page_options,
    quiet_option,
)
from ledger.cli.commands.output import debits, echo_object, echo_page, field

entry_columns = (
    field("id"),
    field("kind"),
    field("status"),
    ("amount", debits),
    field("reference"),
    field("created_at"),
)


@click.group()
def entries() -> None:
    """List and show journal entries."""


@entries.command("list")
@click.option("--ledger-id", help="Entries of this ledger, newest first.")
@click.option("--account-id", help="Only entries touching this account.")
@click.option("--reference", help="Only entries with this reference.")
@page_options
@quiet_option
@api_options
def list_entries(
    *,
    ledger_id: str | None,
    account_id: str | None,
    reference: str | None,
    limit: int | None,
    cursor: str | None,
    quiet: bool,
    url: str | None,
    api_key: str | None,
    as_json: bool,
) -> None:
    """List entries, one page at a time."""
    if ledger_id is None and account_id is None and reference is None:
        raise click.UsageError("name a --ledger-id, an --account-id or a --reference")
    with connected(url, api_key) as client:
        client.list_entries(
            ledger_id, reference=reference, account_id=account_id, limit=limit, cursor=cursor
        )
    echo_page(answer(client), entry_columns, as_json, quiet)


@entries.command("show")
@click.argument("entry_id")
@api_options
def show_entry(entry_id: str, url: str | None, api_key: str | None, as_json: bool) -> None:
    """Show the entry ENTRY_ID with its lines."""
    with connected(url, api_key) as client:
        client.get_entry(entry_id)
    echo_object(answer(client), as_json)


@click.command("reverse-entry")
@click.argument("entry_id")
@click.option("--description", help="What the reversal is for.")
@idempotency_option
@quiet_option
@api_options
def reverse(
    *,
    entry_id: str,
    description: str | None,
    idempotency_key: str | None,
    quiet: bool,
    url: str | None,
    api_key: str | None,
    as_json: bool,
) -> None:
    """Post the mirror of the entry ENTRY_ID (at most once per entry)."""
    with connected(url, api_key) as client:
        client.reverse_entry(entry_id, description=description, idempotency_key=idempotency_key)
    echo_object(answer(client), as_json, quiet)
