"""What the API commands share: where the API is, the key, and how failures are reported."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NoReturn, TypedDict, TypeVar

import click

from ledger.client import LedgerClient, ServiceUnreachable
from ledger.domain import limits
from ledger.domain.errors import LedgerError

F = TypeVar("F", bound=Callable[..., object])

url_help = "The ledger API's base URL, e.g. http://127.0.0.1:3000 (env LEDGER_URL)."
amount_message = "amount must be a positive decimal string such as 5.00"
_amount_text = re.compile(r"[0-9]+(\.[0-9]+)?")
# What click's parser names an option when it meets `-5` or `-.5`: a dash and one character.
_negative_amount_option = re.compile(r"-[0-9.]")


def parse_amount(
    _context: click.Context, _parameter: click.Parameter, value: str | None
) -> str | None:
    """An amount as given when it is a positive decimal string, checked before any request;
    its scale is the service's to check, since only the account knows its currency."""
    if value is not None and not _amount_text.fullmatch(value):
        raise click.BadParameter(f"{amount_message}, not {value!r}")
    return value


def parse_currency(_context: click.Context, _parameter: click.Parameter, value: str) -> str:
    """A currency code in upper case (`usd` is USD): every code, built in or registered, is."""
    return value.upper()


def parse_moment(
    _context: click.Context, _parameter: click.Parameter, value: str | None
) -> datetime | None:
    """An RFC 3339 time with its offset, e.g. 2026-01-31T12:00:00Z."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a time such as 2026-01-31T12:00:00Z") from None
    if moment.tzinfo is None:
        raise click.BadParameter(f"{value!r} needs an offset, e.g. 2026-01-31T12:00:00Z")
    return moment


class AmountCommand(click.Command):
    """A command with an amount argument: `-5` is refused as a negative amount instead of
    being taken for an unknown option."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        """Click's parsing, with a negative amount reported as such."""
        given: Sequence[str] = list(args)
        try:
            return super().parse_args(ctx, args)
        except click.NoSuchOption as error:
            if not _negative_amount_option.fullmatch(error.option_name):
                raise
            negative = next(arg for arg in given if arg.startswith(error.option_name))
            raise click.BadParameter(
                f"{amount_message}, not {negative!r}", ctx=ctx, param_hint="'AMOUNT'"
            ) from None


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


def quiet_option(command: F) -> F:
    """-q/--quiet: only the id (one per line for a list), for scripts."""
    return click.option(
        "-q", "--quiet", is_flag=True, help="Print only the id (one per line for a list)."
    )(command)


class EntryKeywords(TypedDict):
    """What `entry_options` hands a command: the client's keyword arguments for an entry."""

    reference: str | None
    description: str | None
    effective_at: datetime | None
    metadata: dict[str, str] | None
    idempotency_key: str | None


def entry_options(command: F) -> F:
    """What every command that creates an entry may add (see EntryKeywords)."""
    options = (
        click.option("--reference", help="Your reference, e.g. an order id."),
        click.option("--description", help="What the entry is for."),
        click.option(
            "--effective-at",
            callback=parse_moment,
            metavar="TIME",
            help="When it counts for the business (default: now), e.g. 2026-01-31T12:00:00Z.",
        ),
    )
    command = idempotency_option(metadata_option(command))
    for option in reversed(options):
        command = option(command)
    return command


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


def answer(client: LedgerClient) -> Any:
    """The JSON of the client's last answer, which a command prints as the API sent it."""
    response = client.last_response
    return None if response is None else response.body


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
    # stderr, so that --json and --quiet output stay what a script parses.
    if client.last_response is not None and client.last_response.replayed:
        click.echo("(replayed)", err=True)
