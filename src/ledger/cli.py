"""The `ledger` command line."""

from __future__ import annotations

import signal
import threading
from pathlib import Path

import click

from ledger.local.dev import (
    DevSettings,
    default_data_dir,
    default_dynamodb_port,
    default_table_name,
    run_dev,
)


@click.group()
def main() -> None:
    """Serverless Ledger: a double-entry ledger on DynamoDB."""


def _wait_for_stop_signal() -> None:
    """Block until Ctrl-C or SIGTERM, so DynamoDB Local is stopped either way."""
    stop = threading.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {number: signal.signal(number, lambda *_: stop.set()) for number in signals}
    try:
        stop.wait()
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


@main.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=default_data_dir,
    show_default=True,
    help="Where DynamoDB Local keeps the ledger's data.",
)
@click.option("--table-name", default=default_table_name, show_default=True)
@click.option("--dynamodb-port", type=int, default=default_dynamodb_port, show_default=True)
def dev(data_dir: Path, table_name: str, dynamodb_port: int) -> None:
    """Run the ledger locally on DynamoDB Local, with data kept on disk."""
    settings = DevSettings(data_dir=data_dir, table_name=table_name, dynamodb_port=dynamodb_port)
    run_dev(settings, wait=_wait_for_stop_signal, say=click.echo)
