"""`ledger dev`: the whole API on one machine, from DynamoDB Local on disk to HTTP, no Docker.

DynamoDB Local holds the table (made from the stack's definition); worker processes run
the real authorizer and API handler as Lambda would; a gateway turns HTTP requests into
API Gateway events for them; a thread runs the expiry sweep on the stack's schedule, another
the reconciliation job on its own; another reads the table's stream and hands its batches
to the stream consumers, in their own worker; another delivers the inbound spool that
`ledger events send` fills to the inbound consumer, in its own worker.
"""

from __future__ import annotations

import contextlib
import os
import threading
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.auth.api_keys import KeyStatus, KeyStore, Role, new_secret
from ledger.consumers.dead_letters import dead_letters_file_name
from ledger.jobs.reconciliation import ReconciliationJob
from ledger.local import dynamodb_local
from ledger.local.bus import events_file_name
from ledger.local.container import Function
from ledger.local.dynamodb_local import DynamoDBLocal
from ledger.local.functions import inbound_consumer, stream_consumers
from ledger.local.gateway import Gateway, default_authorizer, default_handler, functions
from ledger.local.inbound import InboundPoller, files_environment
from ledger.local.reconciler import ScheduledReconciliation
from ledger.local.server import GatewayServer
from ledger.local.streams import StreamPoller
from ledger.local.sweeper import ExpirySweeper
from ledger.local.workers import WorkerPool
from ledger.service import Ledger
from ledger.service.expiring import default_notice_s
from ledger.store.dynamodb import DynamoDBStore, ensure_table
from ledger.store.dynamodb.checkpoints import DynamoDBCheckpoints

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping

    from mypy_boto3_dynamodb.client import DynamoDBClient

default_table_name = "ledger"
default_data_dir = Path(".ledger")
default_host = "127.0.0.1"
default_port = 3000
default_workers = 4
default_sweep_interval_s = 60.0
# 0 turns the scheduled reconciliation off.
default_reconcile_interval_s = 300.0
# The poller calls one consumer at a time, as a single event source mapping per consumer does.
consumer_workers = 1
admin_key_file_name = "admin-key"
admin_key_variable = "LEDGER_ADMIN_KEY"
port_variable = "LEDGER_PORT"
dynamodb_port_variable = "LEDGER_DYNAMODB_PORT"
data_dir_variable = "LEDGER_DATA_DIR"

# Settings a developer may override in their own environment (say, DEBUG logs).
_powertools_defaults = {
    "POWERTOOLS_SERVICE_NAME": "ledger",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


class DevError(RuntimeError):
    """The local runtime cannot start as asked (a port in use, for one)."""


@dataclass(frozen=True)
class DevSettings:
    """Where the local ledger keeps its data, what it serves and how."""

    data_dir: Path = default_data_dir
    table_name: str = default_table_name
    dynamodb_port: int | None = None
    host: str = default_host
    port: int = default_port
    admin_key: str | None = None
    workers: int = default_workers
    sweep_interval_s: float = default_sweep_interval_s
    expiring_notice_s: int = default_notice_s
    reconcile_interval_s: float = default_reconcile_interval_s
    authorizer: str = default_authorizer
    handler: str = default_handler
    consumers: tuple[Function, ...] = stream_consumers
    inbound: Function | None = inbound_consumer


def lambda_environment(
    base: Mapping[str, str], table_name: str, endpoint_url: str
) -> dict[str, str]:
    """The environment the functions see: the table on DynamoDB Local, powertools quiet.

    The caller's AWS settings are left out, so that no profile, credential or endpoint
    override can send a local request to a real account.
    """
    inherited = {
        name: value
        for name, value in base.items()
        if not name.startswith(("AWS_", "LEDGER_", "BOTO_"))
    }
    return {
        **_powertools_defaults,
        **inherited,
        "LEDGER_TABLE_NAME": table_name,
        "AWS_ENDPOINT_URL_DYNAMODB": endpoint_url,
        "AWS_REGION": dynamodb_local.region,
        "AWS_DEFAULT_REGION": dynamodb_local.region,
        "AWS_ACCESS_KEY_ID": dynamodb_local.credentials_dummy,
        "AWS_SECRET_ACCESS_KEY": dynamodb_local.credentials_dummy,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def bootstrap_admin_key(keys: KeyStore, given: str | None, key_file: Path) -> tuple[str, str]:
    """The admin key to print, valid in the table, and a note on where it comes from.

    Without a given key, the one generated on the first run is kept in `key_file`, so a
    restart on the same data prints the same key instead of adding another.
    """
    if given is not None:
        secret, origin = given, "as given"
    elif key_file.is_file():
        secret, origin = key_file.read_text().strip(), f"kept in {key_file}"
    else:
        secret, origin = new_secret(), f"generated, kept in {key_file}"
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.touch(mode=0o600)
        key_file.write_text(secret + "\n")
    key = keys.ensure(secret)
    if key.status is not KeyStatus.ACTIVE or key.role is not Role.ADMIN:
        origin += f"; WARNING: this key is {key.status.value}, role {key.role.value}"
    return secret, origin


def url_of(host: str, port: int) -> str:
    """The base URL of the API."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def banner(
    settings: DevSettings, local: DynamoDBLocal, admin_key: str, origin: str, url: str
) -> str:
    """What to tell the developer once the API is up, before the listening line."""
    reach = (
        "127.0.0.1 only"
        if local.loopback_only
        else "EVERY network interface (no javac to build its loopback launcher)"
    )
    return f"""\
DynamoDB Local: {local.endpoint_url}, table {settings.table_name!r}, data in {settings.data_dir}
DynamoDB Local listens on {reach}
Admin key: {admin_key} ({origin})

Try it:
    curl {url}/v1/health
    curl -H "Authorization: Bearer {admin_key}" -H "Content-Type: application/json" \\
         -d '{{"name": "main"}}' {url}/v1/ledgers

Events: {settings.data_dir / events_file_name} (ledger events tail --follow); inbound events:
ledger events send FILE, refusals in {settings.data_dir / dead_letters_file_name}

Data in {settings.data_dir} survives a restart, but DynamoDB Local may lose the last writes
if it is killed: it is for development. Press Ctrl-C to stop."""


def run_dev(settings: DevSettings, wait: Callable[[], None], say: Callable[[str], None]) -> None:
    """Start everything, announce the API, run until `wait` returns, then stop everything."""
    local = DynamoDBLocal(port=settings.dynamodb_port, data_dir=settings.data_dir / "dynamodb")
    environment = {
        **lambda_environment(os.environ, settings.table_name, local.endpoint_url),
        **files_environment(settings.data_dir),
    }
    pool = WorkerPool(
        functions(settings.authorizer, settings.handler), environment, settings.workers
    )
    consumers = {consumer.name: consumer for consumer in settings.consumers}
    consumer_pool = WorkerPool(consumers, environment, consumer_workers) if consumers else None
    inbound = settings.inbound
    inbound_pool = None if inbound is None else WorkerPool({inbound.name: inbound}, environment, 1)
    # Bound first: a port in use fails in a moment, not after DynamoDB Local has started.
    try:
        server = GatewayServer((settings.host, settings.port), Gateway(pool))
    except OSError as error:
        raise DevError(
            f"cannot listen on {settings.host}:{settings.port} ({error.strerror}); "
            "pass another --port"
        ) from error
    with contextlib.ExitStack() as running:
        running.callback(server.server_close)
        # The workers import their functions (seconds each) while DynamoDB Local boots;
        # importing makes a client but sends nothing, so the endpoint need not be up yet.
        running.callback(pool.stop)
        pool.launch()
        if consumer_pool is not None:
            running.callback(consumer_pool.stop)
            consumer_pool.launch()
        if inbound_pool is not None:
            running.callback(inbound_pool.stop)
            inbound_pool.launch()
        running.enter_context(local)
        client = local.client()
        ensure_table(client, settings.table_name)
        admin_key, origin = bootstrap_admin_key(
            KeyStore(settings.table_name, client),
            settings.admin_key,
            settings.data_dir / admin_key_file_name,
        )
        pool.wait_ready()
        ledger = Ledger(DynamoDBStore(settings.table_name, client))
        running.enter_context(
            ExpirySweeper(
                ledger.expire_pending,
                settings.sweep_interval_s,
                partial(ledger.notice_expiring, settings.expiring_notice_s),
            )
        )
        if settings.reconcile_interval_s > 0:
            running.enter_context(_reconciliation(settings, client))
        if consumer_pool is not None:
            consumer_pool.wait_ready()
            stream_arn = client.describe_table(TableName=settings.table_name)["Table"][
                "LatestStreamArn"
            ]
            running.enter_context(
                StreamPoller(
                    local.streams_client(),
                    stream_arn,
                    list(consumers),
                    consumer_pool,
                    settings.data_dir,
                )
            )
        if inbound is not None and inbound_pool is not None:
            # Its worker warms up in the poller's thread: the API need not wait for it.
            poller = InboundPoller(
                inbound_pool, inbound.name, settings.data_dir, ready=inbound_pool.wait_ready
            )
            running.enter_context(poller)
        running.enter_context(_serving(server))
        url = url_of(settings.host, server.port)
        say(banner(settings, local, admin_key, origin, url))
        say(f"Ledger API listening on {url}")
        wait()
    say("Stopped.")


def _reconciliation(settings: DevSettings, client: DynamoDBClient) -> ScheduledReconciliation:
    """The reconciliation schedule, checking the projections the consumers here write."""
    kept = ("history", "audit") if settings.consumers else ()
    store = DynamoDBStore(settings.table_name, client, projections=kept)
    job = ReconciliationJob(Ledger(store), DynamoDBCheckpoints(settings.table_name, client))
    return ScheduledReconciliation(job, settings.data_dir, settings.reconcile_interval_s)


@contextlib.contextmanager
def _serving(server: GatewayServer) -> Iterator[None]:
    """Serve in a background thread; on exit stop accepting and close the socket."""
    thread = threading.Thread(target=server.serve_forever, name="gateway", daemon=True)
    thread.start()
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
