"""The `ledger` command line."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from ledger.domain.errors import ValidationError
from ledger.domain.limits import expires_in_s_max
from ledger.local.dev import (
    DevError,
    DevSettings,
    admin_key_variable,
    data_dir_variable,
    default_data_dir,
    default_host,
    default_port,
    default_reconcile_interval_s,
    default_sweep_interval_s,
    default_table_name,
    default_workers,
    dynamodb_port_variable,
    port_variable,
    run_dev,
)
from ledger.local.dynamodb_local import DynamoDBLocalError
from ledger.service.expiring import default_notice_s

# How soon the dev runtime sees a stop signal that another of its threads received.
stop_check_interval_s = 0.2


@click.group()
def main() -> None:
    """Serverless Ledger: a double-entry ledger on DynamoDB."""


def _wait_for_stop_signal() -> None:
    """Block until Ctrl-C or SIGTERM, so DynamoDB Local is stopped either way.

    The kernel may hand a signal to any thread of the process; its handler then runs only
    when the main thread next wakes, so the main thread waits in short steps rather than
    once for good, which would miss a signal another thread took.
    """
    stop = threading.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in signals}
    try:
        while not stop.wait(stop_check_interval_s):
            pass
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@main.command()
@click.option(
    "--host",
    default=default_host,
    show_default=True,
    help="Address to serve the API on; 0.0.0.0 exposes it to every machine able to reach this one.",
)
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=default_port,
    show_default=True,
    envvar=port_variable,
    show_envvar=True,
    help="Port to serve the API on; 0 picks a free one.",
)
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=default_data_dir,
    show_default=True,
    envvar=data_dir_variable,
    show_envvar=True,
    help="Where DynamoDB Local keeps the ledger's data (and the generated admin key).",
)
@click.option(
    "--admin-key",
    envvar=admin_key_variable,
    show_envvar=True,
    help="A secret (16+ characters) to make an admin key of; generated when absent.",
)
@click.option("--table-name", default=default_table_name, show_default=True)
@click.option(
    "--dynamodb-port",
    type=click.IntRange(1, 65535),
    envvar=dynamodb_port_variable,
    show_envvar=True,
    help="Port for DynamoDB Local on 127.0.0.1; a free one when absent.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=default_workers,
    show_default=True,
    help="Worker processes, each running one request at a time as a Lambda container does.",
)
@click.option(
    "--sweep-interval",
    type=click.FloatRange(min=0, min_open=True),
    default=default_sweep_interval_s,
    show_default=True,
    help="Seconds between sweeps that expire pending entries past their expiry.",
)
@click.option(
    "--expiring-notice",
    type=click.IntRange(min=1, max=expires_in_s_max),
    default=default_notice_s,
    show_default=True,
    help="Seconds before a pending entry's expiry that its ledger.entry.expiring event is "
    "written (once per entry, at a sweep).",
)
@click.option(
    "--reconcile-interval",
    type=click.FloatRange(min=0),
    default=default_reconcile_interval_s,
    show_default=True,
    help="Seconds between scheduled reconciliations of every ledger (results in "
    "<data-dir>/reconciliations.jsonl); 0 turns them off.",
)
def dev(
    *,
    host: str,
    port: int,
    data_dir: Path,
    admin_key: str | None,
    table_name: str,
    dynamodb_port: int | None,
    workers: int,
    sweep_interval: float,
    expiring_notice: int,
    reconcile_interval: float,
) -> None:
    """Run the ledger's HTTP API locally on DynamoDB Local, with data kept on disk."""
    settings = DevSettings(
        data_dir=data_dir,
        table_name=table_name,
        dynamodb_port=dynamodb_port,
        host=host,
        port=port,
        admin_key=admin_key,
        workers=workers,
        sweep_interval_s=sweep_interval,
        expiring_notice_s=expiring_notice,
        reconcile_interval_s=reconcile_interval,
    )
    # Until the API is up, both signals interrupt (even where a launcher ignored SIGINT),
    # so a stop during startup still stops what has started.
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, signal.default_int_handler) for number in signals}
    try:
        run_dev(settings, wait=_wait_for_stop_signal, say=click.echo)
    except ValidationError as error:
        raise click.BadParameter(error.message, param_hint="--admin-key") from error
    except (DevError, DynamoDBLocalError) as error:
        raise click.ClickException(str(error)) from error
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


# Imported last: the commands are defined in their own modules and join the group here.
from ledger.cli.commands import register  # noqa: E402

register(main)
