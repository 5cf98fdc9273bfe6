"""`ledger deposit`, `withdraw`, `spend`, `refund`, `transfer`, `hold`, `confirm` and
`release`: money moving."""

from __future__ import annotations

from collections.abc import Callable
from typing import Unpack

import click

from ledger.cli.commands.common import (
    AmountCommand,
    EntryKeywords,
    answer,
    api_options,
    connected,
    entry_options,
    parse_amount,
    quiet_option,
)
from ledger.cli.commands.output import echo_object
from ledger.client import LedgerClient
from ledger.domain import limits
from ledger.domain.model import Entry

counterparty_option = click.option(
    "--counterparty-account-id", help="The other side (default: the ledger's world account)."
)
expires_in_option = click.option(
    "--expires-in",
    type=click.IntRange(1, limits.expires_in_s_max),
    help="Seconds until the pending entry is released by itself.",
)


def one_account_command(name: str, create: Callable[..., Entry], summary: str) -> click.Command:
    """A command for one of the client's one-account operations (deposit, withdraw, ...)."""

    @click.command(name, cls=AmountCommand, help=summary)
    @click.argument("account_id")
    @click.argument("amount", callback=parse_amount)
    @counterparty_option
    @entry_options
    @quiet_option
    @api_options
    def command(
        *,
        account_id: str,
        amount: str,
        counterparty_account_id: str | None,
        quiet: bool,
        url: str | None,
        api_key: str | None,
        as_json: bool,
        **options: Unpack[EntryKeywords],
    ) -> None:
        with connected(url, api_key) as client:
            create(
                client,
                account_id,
                amount,
                counterparty_account_id=counterparty_account_id,
                **options,
            )
        echo_object(answer(client), as_json, quiet)

    return command


deposit = one_account_command(
    "deposit",
    LedgerClient.deposit,
    "Deposit AMOUNT (a decimal such as 10.50) into the account ACCOUNT_ID.",
)
withdraw = one_account_command(
    "withdraw",
    LedgerClient.withdraw,
    "Withdraw AMOUNT from the account ACCOUNT_ID, within its floor.",
)
spend = one_account_command(
    "spend",
    LedgerClient.spend,
    "Pay AMOUNT from the account ACCOUNT_ID to the counterparty, within its floor.",
)
refund = one_account_command(
    "refund",
    LedgerClient.refund,
    "Give AMOUNT back into the account ACCOUNT_ID from the counterparty.",
)


@click.command(cls=AmountCommand)
@click.argument("from_account_id", metavar="FROM")
@click.argument("to_account_id", metavar="TO")
@click.argument("amount", callback=parse_amount)
@entry_options
@quiet_option
@api_options
def transfer(
    *,
    from_account_id: str,
    to_account_id: str,
    amount: str,
    quiet: bool,
    url: str | None,
    api_key: str | None,
    as_json: bool,
    **options: Unpack[EntryKeywords],
) -> None:
    """Move AMOUNT from the account FROM to the account TO."""
    with connected(url, api_key) as client:
        client.transfer(
            from_account_id,
            to_account_id,
            amount,
            **options,
        )
    echo_object(answer(client), as_json, quiet)


@click.command(cls=AmountCommand)
@click.argument("account_id")
@click.argument("amount", callback=parse_amount)
@counterparty_option
@expires_in_option
@entry_options
@quiet_option
@api_options
def hold(
    *,
    account_id: str,
    amount: str,
    counterparty_account_id: str | None,
    expires_in: int | None,
    quiet: bool,
    url: str | None,
    api_key: str | None,
    as_json: bool,
    **options: Unpack[EntryKeywords],
) -> None:
    """Hold AMOUNT of the account ACCOUNT_ID; prints the pending entry (the hold id)."""
    with connected(url, api_key) as client:
        client.hold(
            account_id,
            amount,
            counterparty_account_id=counterparty_account_id,
            expires_in=expires_in,
            **options,
        )
    echo_object(answer(client), as_json, quiet)


@click.command("confirm-hold")
@click.argument("hold_id")
@click.option(
    "--amount", callback=parse_amount, help="Settle for less than held; the rest is released."
)
@quiet_option
@api_options
def confirm(
    *,
    hold_id: str,
    amount: str | None,
    quiet: bool,
    url: str | None,
    api_key: str | None,
    as_json: bool,
) -> None:
    """Confirm the hold HOLD_ID: the held amount is spent."""
    with connected(url, api_key) as client:
        client.confirm_hold(hold_id, amount)
    echo_object(answer(client), as_json, quiet)


@click.command("release-hold")
@click.argument("hold_id")
@quiet_option
@api_options
def release(hold_id: str, quiet: bool, url: str | None, api_key: str | None, as_json: bool) -> None:
    """Release the hold HOLD_ID: the held amount is available again."""
    with connected(url, api_key) as client:
        client.release_hold(hold_id)
    echo_object(answer(client), as_json, quiet)
