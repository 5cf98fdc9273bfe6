"""`ledger events`: the local event files of `ledger dev`, sent to and read from."""

from __future__ import annotations

import time
from pathlib import Path
from typing import IO, TYPE_CHECKING

import click

from ledger.cli.commands.event_lines import (
    NotEvents,
    event_line,
    inbound_events,
    send_bytes_max,
)
from ledger.local.bus import events_file_name
from ledger.local.dev import data_dir_variable, default_data_dir
from ledger.local.inbound import enqueue

if TYPE_CHECKING:
    from collections.abc import Callable

# How often --follow looks for new lines (or for the file to appear).
follow_interval_s = 0.5

data_dir_option = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=default_data_dir,
    show_default=True,
    envvar=data_dir_variable,
    show_envvar=True,
    help="The data dir of the `ledger dev` to reach.",
)


@click.group()
def events() -> None:
    """The local event bus and inbound queue of `ledger dev` (files in its data dir)."""


@events.command()
@data_dir_option
@click.argument("source", metavar="FILE|-", type=click.File("r", encoding="utf-8"))
def send(data_dir: Path, source: IO[str]) -> None:
    """Queue inbound events for the running `ledger dev`: one JSON object, or one per line.

    Each is posted through its ledger's posting rule within seconds; a refused one is
    written to <data-dir>/inbound-dlq.jsonl with the reason.
    """
    text = source.read(send_bytes_max + 1)
    if len(text) > send_bytes_max:
        raise click.ClickException(f"the input is over {send_bytes_max} bytes")
    try:
        queued = inbound_events(text)
    except NotEvents as error:
        raise click.ClickException(str(error)) from None
    spool = enqueue(data_dir, queued)
    click.echo(f"Queued {len(queued)} inbound event(s) in {spool}.")


@events.command()
@data_dir_option
@click.option("--follow", "-f", is_flag=True, help="Keep printing new events until Ctrl-C.")
@click.option("--json", "as_json", is_flag=True, help="Print each event's raw JSON line.")
def tail(data_dir: Path, follow: bool, as_json: bool) -> None:
    """Print the events `ledger dev` published (<data-dir>/events.jsonl), one a line."""
    path = data_dir / events_file_name
    tell: Callable[[str], str] = (lambda line: line) if as_json else event_line
    if not path.is_file():
        if not follow:
            raise click.ClickException(
                f"no events yet: {path} does not exist (`ledger dev --data-dir {data_dir}` "
                "writes it on the first change)"
            )
        click.echo(f"Waiting for {path} ...", err=True)
    try:
        offset = _print_new(path, 0, tell)
        while follow:
            _pause()
            offset = _print_new(path, offset, tell)
    except KeyboardInterrupt:
        return


def _pause() -> None:
    time.sleep(follow_interval_s)


def _print_new(path: Path, offset: int, tell: Callable[[str], str]) -> int:
    """Print the complete lines after `offset`; the offset after them."""
    if not path.is_file():
        return offset
    if path.stat().st_size < offset:
        # The file was made anew (its data dir cleared): read it from its start.
        offset = 0
    with path.open("rb") as file:
        file.seek(offset)
        for line in file:
            if not line.endswith(b"\n"):
                break
            offset += len(line)
            text = line.decode("utf-8", errors="replace").strip()
            if text:
                click.echo(tell(text))
    return offset
