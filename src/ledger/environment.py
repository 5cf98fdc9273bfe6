"""What the ledger's Lambda functions read from their environment, refused when missing or
unusable."""

from __future__ import annotations

import os

from ledger.domain import limits

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


class InvalidSetting(RuntimeError):
    """A function started with a setting it cannot use."""


expiring_notice_variable = "LEDGER_EXPIRING_NOTICE_S"


def expiring_notice_s(default: int) -> int:
    """How long before its expiry a pending entry is noticed, in seconds, from
    `LEDGER_EXPIRING_NOTICE_S`: unset or blank is `default`; anything but a whole number of
    seconds from 1 to the longest expiry is refused, never rounded or clamped."""
    value = os.environ.get(expiring_notice_variable, "").strip()
    if not value:
        return default
    if value.isascii() and value.isdigit() and 0 < int(value) <= limits.expires_in_s_max:
        return int(value)
    raise InvalidSetting(
        f"{expiring_notice_variable} is {value!r}: it must be a whole number of seconds from 1 "
        f"to {limits.expires_in_s_max}"
    )
