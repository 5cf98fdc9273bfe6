"""The `ledger` commands that talk to the API (and, for keys, to the table)."""

from __future__ import annotations

import click

from ledger.cli.commands.batches import batch
from ledger.cli.commands.books import accounts, balance, ledgers
from ledger.cli.commands.entries import entries, reverse
from ledger.cli.commands.escrows import escrow, refund_escrow, release_escrow
from ledger.cli.commands.events import events
from ledger.cli.commands.keys import keys
from ledger.cli.commands.movements import (
    confirm,
    deposit,
    hold,
    refund,
    release,
    spend,
    transfer,
    withdraw,
)
from ledger.cli.commands.rebuilding import projections
from ledger.cli.commands.reports import balance_sheet, reconcile, trial_balance
from ledger.cli.commands.rules import rules

commands: tuple[click.Command, ...] = (
    ledgers,
    accounts,
    balance,
    deposit,
    withdraw,
    spend,
    refund,
    transfer,
    hold,
    confirm,
    release,
    escrow,
    release_escrow,
    refund_escrow,
    entries,
    reverse,
    batch,
    trial_balance,
    balance_sheet,
    reconcile,
    projections,
    keys,
    rules,
    events,
)


def register(group: click.Group) -> None:
    """Add every command to the `ledger` group."""
    for command in commands:
        group.add_command(command)
