"""`ledger batch FILE|-`: many operations as one transaction, from the body of POST /v1/batches."""

from __future__ import annotations

import json
from typing import Any, BinaryIO

import click

from ledger.cli.commands.common import (
    answer,
    api_options,
    connected,
    idempotency_option,
    quiet_option,
)
from ledger.cli.commands.entries import entry_columns
from ledger.cli.commands.output import echo_json, echo_page
from ledger.domain import limits

body_shape = 'a JSON object {"operations": [{"type": "transfer", ...}, ...], "net": false}'
body_fields = frozenset({"operations", "net"})


def batch_body(file: BinaryIO) -> tuple[list[dict[str, Any]], bool]:
    """The operations and `net` of a batch body; what the client would not send is refused
    here rather than dropped, and so is a body larger than the API takes."""
    data = file.read(limits.request_body_bytes_max + 1)
    if len(data) > limits.request_body_bytes_max:
        raise click.BadParameter(
            f"larger than the {limits.request_body_bytes_max} bytes the API takes",
            param_hint="FILE",
        )
    try:
        body = json.loads(data)
    except ValueError as error:
        raise click.BadParameter(f"not JSON ({error})", param_hint="FILE") from None
    if (
        not isinstance(body, dict)
        or not body_fields.issuperset(body)
        or not isinstance(body.get("operations"), list)
        or not all(isinstance(operation, dict) for operation in body["operations"])
        or not isinstance(body.get("net", False), bool)
    ):
        raise click.BadParameter(f"expected {body_shape}", param_hint="FILE")
    return body["operations"], body.get("net", False)


@click.command()
@click.argument("file", type=click.File("rb"))
@click.option(
    "--net",
    is_flag=True,
    help='Net transfers between the same two accounts into one entry (as "net": true).',
)
@idempotency_option
@quiet_option
@api_options
def batch(
    *,
    file: BinaryIO,
    net: bool,
    idempotency_key: str | None,
    quiet: bool,
    url: str | None,
    api_key: str | None,
    as_json: bool,
) -> None:
    """Post the operations of FILE as one transaction.

    FILE (`-` for stdin) holds the JSON body of POST /v1/batches. Every entry is written or
    none; they print in the order of the operations."""
    operations, net_in_file = batch_body(file)
    with connected(url, api_key) as client:
        try:
            client.batch(operations, net=net or net_in_file, idempotency_key=idempotency_key)
        except TypeError as error:
            # The client refuses a JSON number as an amount, as the service would.
            raise click.BadParameter(str(error), param_hint="FILE") from None
    if as_json:
        echo_json(answer(client))
        return
    echo_page({"items": answer(client)["entries"]}, entry_columns, as_json, quiet)
