"""`ledger trial-balance`, `balance-sheet` and `reconcile`: what the books add up to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click
from botocore.exceptions import BotoCoreError, ClientError

from ledger.cli.commands.common import (
    answer,
    api_options,
    connected,
    fail,
    parse_currency,
    reporting,
)
from ledger.cli.commands.output import Column, echo_json, echo_object, echo_report, field
from ledger.cli.commands.progress import PhaseProgress, spinning
from ledger.cli.commands.statement_matches import external
from ledger.cli.commands.table import TableAccess, table_access, table_options, table_store
from ledger.domain.results import Reconciliation
from ledger.service import Ledger

dynamodb_errors = (BotoCoreError, ClientError)

# The mismatch table `ledger reconcile` prints: what was checked against what, where.
mismatch_columns: tuple[Column, ...] = (
    field("kind"),
    ("account", lambda item: item.get("account_id")),
    field("shard"),
    field("field"),
    field("expected"),
    field("actual"),
    ("missing", lambda item: item.get("missing_versions")),
)


@click.command("trial-balance")
@click.argument("ledger_id")
@click.argument("currency", callback=parse_currency)
@api_options
def trial_balance(
    ledger_id: str, currency: str, url: str | None, api_key: str | None, as_json: bool
) -> None:
    """Show a ledger's trial balance in CURRENCY.

    Every account of the ledger LEDGER_ID in CURRENCY, with its debit or credit balance."""
    with connected(url, api_key) as client:
        client.trial_balance(ledger_id, currency)
    echo_object(answer(client), as_json)


def chart_rows(nodes: Sequence[Mapping[str, Any]], depth: int = 0) -> list[dict[str, Any]]:
    """A balance sheet's accounts, each parent before its children, names indented by depth."""
    rows: list[dict[str, Any]] = []
    for node in nodes:
        rows.append(
            {
                "account_id": node["account_id"],
                "code": node["code"],
                "name": "  " * depth + node["name"],
                "balance": node["balance"],
                "total": node["total"],
            }
        )
        rows.extend(chart_rows(node["children"], depth + 1))
    return rows


@click.command("balance-sheet")
@click.argument("ledger_id")
@click.argument("currency", callback=parse_currency)
@api_options
def balance_sheet(
    ledger_id: str, currency: str, url: str | None, api_key: str | None, as_json: bool
) -> None:
    """Show a ledger's balance sheet in CURRENCY.

    The accounts of the ledger LEDGER_ID per type, children under their parent, with
    rolled-up totals."""
    with connected(url, api_key) as client:
        client.balance_sheet(ledger_id, currency)
    if as_json:
        echo_json(answer(client))
        return
    shown = answer(client)
    charts = {name: chart_rows(nodes) for name, nodes in shown["accounts"].items()}
    echo_object({**shown, "accounts": charts}, as_json)


@click.command("reconcile")
@click.argument("ledger_id")
@api_options
@table_options
def check_ledger(
    ledger_id: str,
    *,
    url: str | None,
    api_key: str | None,
    as_json: bool,
    table_name: str | None,
    endpoint_url: str | None,
    region: str | None,
) -> None:
    """Check a ledger against its journal and its projections.

    Checks the conservation of the ledger LEDGER_ID per currency, recomputes every account
    from the journal, and compares every balance item with its latest history record, its
    history versions and its audit chain head (where the service keeps them). Prints a table
    of mismatches and exits with status 1 when something does not add up.

    Through the API by default; with --table, in this process on the table itself, with a
    progress bar per phase. Progress goes to stderr, never into the --json output.

    `ledger reconcile external --account ID --file FILE` matches an outside statement
    against an account's entries instead (see `ledger reconcile external --help`)."""
    access = table_access(table_name, endpoint_url, region)
    if access is None:
        if not as_json:
            click.echo(f"reconciling {ledger_id}...", err=True)
        with connected(url, api_key) as client, spinning(f"reconciling {ledger_id}"):
            report = client.reconcile(ledger_id)
        shown = answer(client)
    else:
        report = reconcile_on_table(ledger_id, access)
        # Imported here: the API's views cost more to import than the other commands need.
        from ledger.domain.views import reconciliation_view  # noqa: PLC0415

        shown = reconciliation_view(report)
    echo_report(shown, "mismatches", mismatch_columns, as_json)
    if not report.ok:
        mismatches = len(report.mismatches)
        fail("unreconciled", f"the ledger does not reconcile ({mismatches} mismatch(es))")


class ReconcileGroup(click.Group):
    """`ledger reconcile`: `external` as its first argument runs that subcommand; anything
    else (a ledger id starts with `ldg_`) runs the ledger check, as it always ran."""

    def __init__(self, check: click.Command, subcommands: list[click.Command]) -> None:
        super().__init__(check.name, commands=subcommands, help=check.help)
        self.check = check

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        """The subcommand's group context, or the ledger check's own context."""
        if args and args[0] in self.commands:
            return super().make_context(info_name, args, parent=parent, **extra)
        return self.check.make_context(info_name, args, parent=parent, **extra)


reconcile = ReconcileGroup(check_ledger, [external])


def reconcile_on_table(ledger_id: str, access: TableAccess) -> Reconciliation:
    """The ledger reconciled in this process, on the table, showing progress on stderr."""
    progress = PhaseProgress()
    with reporting(dynamodb_errors):
        try:
            return Ledger(table_store(access)).reconcile(ledger_id, progress)
        finally:
            progress.close()
