"""What the API commands share: where the API is, the key, and how failures are reported."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn, TypeVar

import click

from ledger.client import LedgerClient, ServiceUnreachable
from ledger.domain import limits
from ledger.domain.errors import LedgerError

F = TypeVar("F", bound=Callable[..., object])

url_help = "The ledger API's base URL, e.g. http://127.0.0.1:3000 (env LEDGER_URL)."


def api_options(command: F) -> F:
    """--url, --api-key and --json, for every command that calls the API."""
    options = (
        click.option("--url", envvar="LEDGER_URL", help=url_help),
        click.option("--api-key", envvar="LEDGER_API_KEY", help="API key (env LEDGER_API_KEY)."),
        click.option("--json", "as_json", is_flag=True, help="Print the raw JSON answer."),
    )
    for option in reversed(options):
        command = option(command)
    return command


def idempotency_option(command: F) -> F:
    """--idempotency-key, for commands that create something."""
    return click.option(
        "--idempotency-key",
        help="Send again with the same key to retry safely (default: a fresh one).",
    )(command)


def page_options(command: F) -> F:
    """--limit and --cursor, for list commands."""
    command = click.option("--cursor", help="Continue a listing where a page ended.")(command)
    return click.option(
        "--limit",
        type=click.IntRange(1, limits.page_size_max),
        help=f"Items per page (1..{limits.page_size_max}).",
    )(command)


def parse_metadata(
    _context: click.Context, _parameter: click.Parameter, values: tuple[str, ...]
) -> dict[str, str] | None:
    """`--metadata KEY=VALUE` options as a map."""
    metadata = {}
    for value in values:
        key, separator, text = value.partition("=")
        if not separator or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {value!r}")
        metadata[key] = text
    return metadata or None


def metadata_option(command: F) -> F:
    """--metadata KEY=VALUE, repeatable."""
    return click.option(
        "--metadata",
        multiple=True,
        callback=parse_metadata,
        metavar="KEY=VALUE",
        help="A metadata pair; repeat for more.",
    )(command)


def fail(code: str, message: str) -> NoReturn:
    """Report a failure as `error: <code>: <message>` on stderr and exit with status 1."""
    click.echo(f"error: {code}: {message}", err=True)
    raise click.exceptions.Exit(1)


@contextmanager
def reporting(error_types: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """Turn the ledger's errors (and `error_types`, reported by class name) into `fail`."""
    try:
        yield
    except LedgerError as error:
        fail(error.code, error.message)
    except ServiceUnreachable as error:
        fail("unreachable", error.message)
    except error_types as error:
        fail(type(error).__name__, str(error))


@contextmanager
def connected(url: str | None, api_key: str | None) -> Iterator[LedgerClient]:
    """A client for the API at `url`; its errors end the command with status 1."""
    if not url:
        raise click.UsageError(
            "no ledger API URL: set LEDGER_URL or pass --url (e.g. http://127.0.0.1:3000)"
        )
    try:
        client = LedgerClient(url, api_key)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--url / LEDGER_URL") from None
    with reporting():
        yield client
