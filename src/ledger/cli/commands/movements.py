"""`ledger deposit`, `transfer`, `hold`, `confirm` and `release`: money moving."""

from __future__ import annotations

import click

from ledger.cli.commands.common import api_options, connected, idempotency_option
from ledger.cli.commands.output import echo_object
from ledger.domain import limits

reference_option = click.option("--reference", help="Your reference, e.g. an order id.")
description_option = click.option("--description", help="What the entry is for.")
counterparty_option = click.option(
    "--counterparty-account-id", help="The other side (default: the ledger's world account)."
)


@click.command()
@click.argument("account_id")
@click.argument("amount")
@counterparty_option
@reference_option
@description_option
@idempotency_option
@api_options
def deposit(
    *,
    account_id: str,
    amount: str,
    counterparty_account_id: str | None,
    reference: str | None,
    description: str | None,
    idempotency_key: str | None,
    url: str | None,
    api_key: str | None,
    as_json: bool,
) -> None:
    """Deposit AMOUNT (a decimal such as 10.50) into the account ACCOUNT_ID."""
    with connected(url, api_key) as client:
        entry = client.deposit(
            account_id,
            amount,
            counterparty_account_id=counterparty_account_id,
            reference=reference,
            description=description,
            idempotency_key=idempotency_key,
        )
    echo_object(entry, as_json)


@click.command()
@click.argument("from_account_id", metavar="FROM")
@click.argument("to_account_id", metavar="TO")
@click.argument("amount")
@reference_option
@description_option
@idempotency_option
@api_options
def transfer(
    *,
    from_account_id: str,
    to_account_id: str,
    amount: str,
    reference: str | None,
    description: str | None,
    idempotency_key: str | None,
    url: str | None,
    api_key: str | None,
    as_json: bool,
) -> None:
    """Move AMOUNT from the account FROM to the account TO."""
    with connected(url, api_key) as client:
        entry = client.transfer(
            from_account_id,
            to_account_id,
            amount,
            reference=reference,
            description=description,
            idempotency_key=idempotency_key,
        )
    echo_object(entry, as_json)


@click.command()
@click.argument("account_id")
@click.argument("amount")
@click.option(
    "--expires-in",
    type=click.IntRange(1, limits.expires_in_s_max),
    help="Seconds until the hold is released by itself.",
)
@counterparty_option
@reference_option
@idempotency_option
@api_options
def hold(
    *,
    account_id: str,
    amount: str,
    expires_in: int | None,
    counterparty_account_id: str | None,
    reference: str | None,
    idempotency_key: str | None,
    url: str | None,
    api_key: str | None,
    as_json: bool,
) -> None:
    """Hold AMOUNT of the account ACCOUNT_ID; prints the pending entry (the hold id)."""
    with connected(url, api_key) as client:
        entry = client.hold(
            account_id,
            amount,
            counterparty_account_id=counterparty_account_id,
            expires_in=expires_in,
            reference=reference,
            idempotency_key=idempotency_key,
        )
    echo_object(entry, as_json)


@click.command()
@click.argument("hold_id")
@click.option("--amount", help="Settle for less than held; the rest is released.")
@api_options
def confirm(
    *, hold_id: str, amount: str | None, url: str | None, api_key: str | None, as_json: bool
) -> None:
    """Confirm the hold HOLD_ID: the held amount is spent."""
    with connected(url, api_key) as client:
        entry = client.confirm_hold(hold_id, amount)
    echo_object(entry, as_json)


@click.command()
@click.argument("hold_id")
@api_options
def release(hold_id: str, url: str | None, api_key: str | None, as_json: bool) -> None:
    """Release the hold HOLD_ID: the held amount is available again."""
    with connected(url, api_key) as client:
        entry = client.release_hold(hold_id)
    echo_object(entry, as_json)
