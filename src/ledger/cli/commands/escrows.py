"""`ledger escrow`, `release-escrow` and `refund-escrow`: money set aside for a seller."""

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
from ledger.cli.commands.movements import expires_in_option
from ledger.cli.commands.output import echo_object
from ledger.client import LedgerClient
from ledger.domain.model import Entry


@click.command(cls=AmountCommand)
@click.argument("buyer_account_id", metavar="BUYER")
@click.argument("seller_account_id", metavar="SELLER")
@click.argument("amount", callback=parse_amount)
@expires_in_option
@entry_options
@quiet_option
@api_options
def escrow(
    *,
    buyer_account_id: str,
    seller_account_id: str,
    amount: str,
    expires_in: int | None,
    quiet: bool,
    url: str | None,
    api_key: str | None,
    as_json: bool,
    **options: Unpack[EntryKeywords],
) -> None:
    """Set AMOUNT of BUYER aside for SELLER.

    Prints the pending entry: its id is the escrow id."""
    with connected(url, api_key) as client:
        client.escrow(
            buyer_account_id,
            seller_account_id,
            amount,
            expires_in=expires_in,
            **options,
        )
    echo_object(answer(client), as_json, quiet)


def resolution_command(name: str, resolve: Callable[..., Entry], summary: str) -> click.Command:
    """A command that resolves the escrow ESCROW_ID one way or the other."""

    @click.command(name, help=summary)
    @click.argument("escrow_id")
    @quiet_option
    @api_options
    def command(
        *, escrow_id: str, quiet: bool, url: str | None, api_key: str | None, as_json: bool
    ) -> None:
        with connected(url, api_key) as client:
            resolve(client, escrow_id)
        echo_object(answer(client), as_json, quiet)

    return command


release_escrow = resolution_command(
    "release-escrow",
    LedgerClient.release_escrow,
    "Pay the escrow ESCROW_ID to its seller.",
)
refund_escrow = resolution_command(
    "refund-escrow",
    LedgerClient.refund_escrow,
    "Return the escrow ESCROW_ID to its buyer.",
)
