"""The `ledger` commands that talk to the API (and, for keys, to the table)."""

from __future__ import annotations

import click

from ledger.cli.commands.books import accounts, balance, ledgers
from ledger.cli.commands.entries import entries
from ledger.cli.commands.keys import keys
from ledger.cli.commands.movements import confirm, deposit, hold, release, transfer

commands: tuple[click.Command, ...] = (
    ledgers,
    accounts,
    balance,
    deposit,
    transfer,
    hold,
    confirm,
    release,
    entries,
    keys,
)


def register(group: click.Group) -> None:
    """Add every command to the `ledger` group."""
    for command in commands:
        group.add_command(command)
