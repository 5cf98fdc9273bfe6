"""`ledger ledgers`, `ledger accounts` and `ledger balance`."""

from __future__ import annotations

import click

from ledger.cli.commands.common import (
    answer,
    api_options,
    connected,
    idempotency_option,
    metadata_option,
    page_options,
    parse_currency,
    quiet_option,
)
from ledger.cli.commands.output import echo_object, echo_page, field
from ledger.domain import limits

account_types = ("asset", "liability", "equity", "revenue", "expense")
overdraft_modes = ("forbid", "limit", "allow")

ledger_columns = (field("id"), field("name"), field("owner_id"), field("created_at"))
currency_columns = (field("code"), field("scale"), field("builtin"))
account_columns = (
    field("id"),
    field("code"),
    field("name"),
    field("type"),
    field("currency"),
    field("status"),
    field("balance.available"),
)


@click.group()
def ledgers() -> None:
    """Create, list and show ledgers."""


@ledgers.command("create")
@click.argument("name")
@click.option("--owner-id", help="Who owns the ledger.")
@click.option(
    "--world-shards",
    type=click.IntRange(1, limits.shards_max),
    help="Items each world account spreads over (default 8).",
)
@metadata_option
@idempotency_option
@quiet_option
@api_options
def create_ledger(
    *,
    name: str,
    owner_id: str | None,
    world_shards: int | None,
    metadata: dict[str, str] | None,
    idempotency_key: str | None,
    quiet: bool,
    url: str | None,
    api_key: str | None,
    as_json: bool,
) -> None:
    """Create a ledger named NAME."""
    with connected(url, api_key) as client:
        client.create_ledger(
            name,
            owner_id=owner_id,
            metadata=metadata,
            idempotency_key=idempotency_key,
            world_shards=world_shards,
        )
    echo_object(answer(client), as_json, quiet)


@ledgers.command("list")
@click.option("--owner-id", help="Only this owner's ledgers.")
@page_options
@quiet_option
@api_options
def list_ledgers(
    *,
    owner_id: str | None,
    limit: int | None,
    cursor: str | None,
    quiet: bool,
    url: str | None,
    api_key: str | None,
    as_json: bool,
) -> None:
    """List the ledgers the key reaches (or one owner's), one page at a time."""
    with connected(url, api_key) as client:
        client.list_ledgers(owner_id=owner_id, limit=limit, cursor=cursor)
    echo_page(answer(client), ledger_columns, as_json, quiet)


@ledgers.command("show")
@click.argument("ledger_id")
@api_options
def show_ledger(ledger_id: str, url: str | None, api_key: str | None, as_json: bool) -> None:
    """Show the ledger LEDGER_ID."""
    with connected(url, api_key) as client:
        client.get_ledger(ledger_id)
    echo_object(answer(client), as_json)


@ledgers.command("register-currency")
@click.argument("ledger_id")
@click.argument("code", callback=parse_currency)
@click.argument("scale", type=click.IntRange(0, limits.currency_scale_max))
@api_options
def register_currency(
    *, ledger_id: str, code: str, scale: int, url: str | None, api_key: str | None, as_json: bool
) -> None:
    """Register the currency CODE in the ledger LEDGER_ID with SCALE decimals in its minor
    unit, 0 for whole units (admin key)."""
    with connected(url, api_key) as client:
        client.register_currency(ledger_id, code, scale)
    echo_object(answer(client), as_json)


@ledgers.command("currencies")
@click.argument("ledger_id")
@api_options
def list_currencies(ledger_id: str, url: str | None, api_key: str | None, as_json: bool) -> None:
    """List the currencies the ledger LEDGER_ID knows, built in or registered."""
    with connected(url, api_key) as client:
        client.list_currencies(ledger_id)
    echo_page(answer(client), currency_columns, as_json)


@click.group()
def accounts() -> None:
    """Open, list and show accounts."""


@accounts.command("create")
@click.argument("ledger_id")
@click.argument("name")
@click.argument("account_type", metavar="TYPE", type=click.Choice(account_types))
@click.argument("currency", callback=parse_currency)
@click.option("--code", help="A chart-of-accounts code, unique in the ledger.")
@click.option("--parent-id", help="The parent account (same ledger, same type).")
@click.option("--owner-id", help="The account holder.")
@click.option("--overdraft", type=click.Choice(overdraft_modes), help="Default: forbid.")
@click.option("--credit-limit", help="The credit line, with --overdraft limit.")
@click.option(
    "--shards",
    type=click.IntRange(1, limits.shards_max),
    help="Items a hot account spreads over, with --overdraft allow (default 1).",
)
@metadata_option
@idempotency_option
@quiet_option
@api_options
def create_account(
    *,
    ledger_id: str,
    name: str,
    account_type: str,
    currency: str,
    code: str | None,
    parent_id: str | None,
    owner_id: str | None,
    overdraft: str | None,
    credit_limit: str | None,
    shards: int | None,
    metadata: dict[str, str] | None,
    idempotency_key: str | None,
    quiet: bool,
    url: str | None,
    api_key: str | None,
    as_json: bool,
) -> None:
    """Open an account NAME of TYPE in CURRENCY (e.g. USD) in the ledger LEDGER_ID."""
    with connected(url, api_key) as client:
        client.create_account(
            ledger_id,
            name,
            account_type,
            currency,
            code=code,
            parent_id=parent_id,
            owner_id=owner_id,
            overdraft=overdraft,
            credit_limit=credit_limit,
            metadata=metadata,
            idempotency_key=idempotency_key,
            shards=shards,
        )
    echo_object(answer(client), as_json, quiet)


@accounts.command("list")
@click.argument("ledger_id")
@click.option("--type", "account_type", type=click.Choice(account_types))
@click.option("--owner-id", help="Only this holder's accounts.")
@click.option("--parent-id", help="Only the children of this account.")
@page_options
@quiet_option
@api_options
def list_accounts(
    *,
    ledger_id: str,
    account_type: str | None,
    owner_id: str | None,
    parent_id: str | None,
    limit: int | None,
    cursor: str | None,
    quiet: bool,
    url: str | None,
    api_key: str | None,
    as_json: bool,
) -> None:
    """List the accounts of the ledger LEDGER_ID, one page at a time."""
    with connected(url, api_key) as client:
        client.list_accounts(
            ledger_id,
            type=account_type,
            owner_id=owner_id,
            parent_id=parent_id,
            limit=limit,
            cursor=cursor,
        )
    echo_page(answer(client), account_columns, as_json, quiet)


@accounts.command("show")
@click.argument("account_id")
@api_options
def show_account(account_id: str, url: str | None, api_key: str | None, as_json: bool) -> None:
    """Show the account ACCOUNT_ID with its balance."""
    with connected(url, api_key) as client:
        client.get_account(account_id)
    echo_object(answer(client), as_json)


@click.command()
@click.argument("account_id")
@api_options
def balance(account_id: str, url: str | None, api_key: str | None, as_json: bool) -> None:
    """Show the balance of the account ACCOUNT_ID."""
    with connected(url, api_key) as client:
        client.get_balance(account_id)
    echo_object(answer(client), as_json)
