"""What the ledger's Lambda functions read from their environment, refused when missing."""

from __future__ import annotations

import os

table_name_variable = "LEDGER_TABLE_NAME"


class MissingSetting(RuntimeError):
    """A function started without a setting it cannot guess."""


def table_name() -> str:
    """The ledger's table, from `LEDGER_TABLE_NAME`; a function never guesses it, since a
    guess would read or write some other table of the account."""
    name = os.environ.get(table_name_variable, "").strip()
    if not name:
        raise MissingSetting(
            f"{table_name_variable} is not set: the function needs the name of the ledger's "
            "table (the stack sets it; `ledger dev` too)"
        )
    return name


projections_variable = "LEDGER_PROJECTIONS"
deployed_projections = ("history", "audit")


def projections() -> tuple[str, ...]:
    """The projections the table's stream consumers write, from `LEDGER_PROJECTIONS`
    (comma-separated): unset is what the stack deploys (history and audit), empty is none
    (a table without its consumers, which reconciliation then does not check against)."""
    value = os.environ.get(projections_variable)
    if value is None:
        return deployed_projections
    return tuple(name.strip() for name in value.split(",") if name.strip())
