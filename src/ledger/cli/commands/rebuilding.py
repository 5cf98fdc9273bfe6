"""`ledger projections rebuild`: history and effective-time aggregates rebuilt from the
journal, on the table itself (ADR 0026)."""

from __future__ import annotations

from dataclasses import asdict

import click
from botocore.exceptions import BotoCoreError, ClientError

from ledger.cli.commands.common import fail, reporting
from ledger.cli.commands.output import echo_report, field
from ledger.cli.commands.progress import PhaseProgress
from ledger.cli.commands.table import table_access, table_options, table_store
from ledger.service import Ledger
from ledger.store.dynamodb.rebuild import UnprocessedDeletes

rebuild_errors = (BotoCoreError, ClientError, UnprocessedDeletes)
refusal_columns = (field("account_id"), field("shard"), field("reason"))


@click.group()
def projections() -> None:
    """Work on what the stream consumers write: history and its aggregates."""


@projections.command()
@click.option("--ledger", "ledger_id", metavar="ID", help="Rebuild every account of ledger ID.")
@click.option("--account", "account_id", metavar="ID", help="Rebuild account ID alone.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@table_options
def rebuild(
    ledger_id: str | None,
    account_id: str | None,
    *,
    as_json: bool,
    table_name: str | None,
    endpoint_url: str | None,
    region: str | None,
) -> None:
    """Rebuild history and effective-time aggregates from the journal.

    For a history consumer that was down longer than the stream keeps records (24 hours):
    replaces the history of every balance item of the ledger, or of one account, with the
    records its entries make, each marked rebuilt. An item the journal does not explain is
    left as it is and listed, and the command exits with status 1. The audit chain is never
    rebuilt. Works on the table itself: give --table. Progress goes to stderr."""
    if (ledger_id is None) == (account_id is None):
        raise click.UsageError("give exactly one of --ledger and --account")
    access = table_access(table_name, endpoint_url, region)
    if access is None:
        raise click.UsageError("a rebuild works on the table itself: give --table")
    progress = PhaseProgress()
    with reporting(rebuild_errors):
        try:
            report = Ledger(table_store(access)).rebuild_projections(
                ledger_id=ledger_id, account_id=account_id, progress=progress
            )
        finally:
            progress.close()
    echo_report(asdict(report), "refused", refusal_columns, as_json)
    if report.refused:
        fail("rebuild_refused", f"{len(report.refused)} item(s) left as they were")
