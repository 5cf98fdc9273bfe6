"""CPU time of the API per request, in this process, with DynamoDB answered by a stand-in.

Requests go through the local gateway as `ledger dev` sends them: the real authorizer, then
the decorated API handler, each called here rather than in a worker. The DynamoDB client
is a fake that answers at once, so what is timed is the ledger's own work per request.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import json
import os
import secrets
import statistics
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast
from unittest import mock

from bench.counting import cpu_ms_decimals, items_written_by, nanoseconds_per_ms
from bench.scenarios import ScenarioFailed
from bench.targets import transfer_items_written
from ledger import Ledger, MemoryStore
from ledger.api import runtime as runtime_module
from ledger.auth.api_keys import KeyStore, Role
from ledger.local.container import LambdaContext, load_handler
from ledger.local.events import HttpRequest
from ledger.local.gateway import Gateway, authorizer_key, functions, handler_key
from ledger.local.workers import invocation_timeout_ms
from ledger.store.dynamodb.codec import encode

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

    from ledger.domain.model import Account
    from ledger.local.events import HttpResponse

requests_default = 300
warm_up_requests = 30
table_name = "ledger-bench-api"
currency = "USD"
funding_amount = Decimal("1000000.00")
transfer_amount = "1.00"
# Quiet powertools as in the tests: no X-Ray, no metrics on stdout, no info lines.
environment = {
    "LEDGER_TABLE_NAME": table_name,
    # The authorizer makes its client when first imported, before the fake replaces it.
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_SERVICE_NAME": "ledger",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
status_created = 201
status_ok = 200


class FakeDynamoDB:
    """The two calls the measured requests make: reads from fixed items, writes accepted."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.transactions: list[list[dict[str, Any]]] = []
        self.reads = 0

    def add(self, item: Mapping[str, Any]) -> None:
        """Hold an item for reads, under its key."""
        self.items[item["pk"]["S"], item["sk"]["S"]] = dict(item)

    def get_item(self, **request: Any) -> dict[str, Any]:
        """The item at the key, if held; as DynamoDB answers, `Item` is absent otherwise."""
        self.reads += 1
        key = request["Key"]
        item = self.items.get((key["pk"]["S"], key["sk"]["S"]))
        return {} if item is None else {"Item": item}

    def transact_write_items(self, **request: Any) -> dict[str, Any]:
        """Accept the transaction as DynamoDB does when every condition holds."""
        self.transactions.append(request["TransactItems"])
        return {}


class TimedInvoker:
    """Invokes the functions in this process, as the gateway would a worker, timing each."""

    def __init__(self, handlers: Mapping[str, Callable[[Any, LambdaContext], Any]]) -> None:
        self._handlers = handlers
        self._names = {key: function.name for key, function in functions().items()}
        self.cpu_ns: dict[str, list[int]] = {key: [] for key in handlers}

    def invoke(self, key: str, event: object, request_id: str) -> object:
        """The function's result, its CPU time kept under its key."""
        deadline_s = time.monotonic() + invocation_timeout_ms / 1000
        context = LambdaContext(self._names[key], request_id, deadline_s)
        start_ns = time.process_time_ns()
        result = self._handlers[key](event, context)
        self.cpu_ns[key].append(time.process_time_ns() - start_ns)
        return result

    def reset(self) -> None:
        """Forget the times so far (the warm-up's)."""
        for times in self.cpu_ns.values():
            times.clear()


@dataclass(frozen=True)
class Fixture:
    """The stubbed table's contents: a funded payer, a payee and an operator key."""

    payer: Account
    payee_id: str
    secret: str


def seed(fake: FakeDynamoDB) -> Fixture:
    """Accounts made by the real library (in memory), then held by the fake as items."""
    ledger = Ledger(MemoryStore())
    ledger_id = ledger.create_ledger(f"bench-{secrets.token_hex(4)}").id
    payer = ledger.create_account(ledger_id, "payer", "asset", currency)
    payee = ledger.create_account(ledger_id, "payee", "asset", currency)
    ledger.deposit(payer.id, funding_amount)
    payer = ledger.get_account(payer.id)
    fake.add(encode(payer))
    _, secret = KeyStore(table_name, cast("DynamoDBClient", fake)).create(Role.OPERATOR)
    for action in fake.transactions.pop():
        fake.add(action["Put"]["Item"])
    return Fixture(payer, payee.id, secret)


@contextlib.contextmanager
def stubbed_functions(fake: FakeDynamoDB) -> Iterator[dict[str, Callable[[Any, Any], Any]]]:
    """The authorizer and API handler over the fake; the process's runtime is rebuilt after.

    The handler and authorizer modules build their runtime and key lookup when first
    imported, which needs the environment: so they are imported only once it is set, with
    the client replaced, and the cached runtime and lookup are dropped on both sides.
    """
    with (
        mock.patch.dict(os.environ, environment),
        mock.patch.object(runtime_module, "default_client", return_value=fake),
        # Imported (and its lookup built) only once the environment names the table.
        mock.patch("ledger.auth.authorizer.default_client", return_value=fake),
        # The fake answers in this process: a botocore client's first-call work, which
        # priming does at init, is not part of it.
        mock.patch.object(runtime_module, "prime"),
        mock.patch("ledger.auth.authorizer.prime"),
        warnings.catch_warnings(),
        # With metrics disabled, powertools never clears its metric set, and prints it
        # whenever one metric reaches 100 values: not output of the bench.
        contextlib.redirect_stdout(io.StringIO()),
    ):
        # A read publishes no metric, and powertools warns so (once per container in Lambda).
        warnings.filterwarnings("ignore", "No application metrics to publish", UserWarning)
        lookups = importlib.import_module("ledger.auth.authorizer").key_lookup
        runtime_module.runtime.cache_clear()
        lookups.cache_clear()
        try:
            yield {key: load_handler(function.handler) for key, function in functions().items()}
        finally:
            runtime_module.runtime.cache_clear()
            lookups.cache_clear()


def _request(method: str, target: str, secret: str, body: Mapping[str, str] | None) -> HttpRequest:
    headers = [("host", "api.example.com"), ("authorization", f"Bearer {secret}")]
    if body is not None:
        headers.append(("content-type", "application/json"))
        headers.append(("idempotency-key", f"bench-{secrets.token_hex(8)}"))
    payload = b"" if body is None else json.dumps(body).encode()
    return HttpRequest(method, target, tuple(headers), payload, "203.0.113.7")


def transfer_request(fixture: Fixture) -> HttpRequest:
    """POST /v1/transfers from the payer to the payee, with an idempotency key."""
    body = {
        "from_account_id": fixture.payer.id,
        "to_account_id": fixture.payee_id,
        "amount": transfer_amount,
    }
    return _request("POST", "/v1/transfers", fixture.secret, body)


def balance_request(fixture: Fixture) -> HttpRequest:
    """GET the payer's balance."""
    return _request("GET", f"/v1/accounts/{fixture.payer.id}/balance", fixture.secret, None)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ScenarioFailed(message)


def _statuses(responses: Sequence[HttpResponse], expected: int, route: str) -> list[Any]:
    """The JSON bodies, once every response has the expected status."""
    for response in responses:
        _require(
            response.status == expected,
            f"{route}: answered {response.status}, not {expected}: {response.body[:300]!r}",
        )
    return [json.loads(response.body) for response in responses]


def verify_transfers(responses: Sequence[HttpResponse], fake: FakeDynamoDB) -> None:
    """Each transfer is a new entry, written by one transaction of three items, read-free.

    The authorizer's key lookup is the only read of each request.
    """
    bodies = _statuses(responses, status_created, "transfer")
    _require(len({body["id"] for body in bodies}) == len(bodies), "transfers share an entry id")
    _require(len(fake.transactions) == len(responses), "a transfer was not one transaction")
    _require(
        all(
            items_written_by("TransactWriteItems", {"TransactItems": actions})
            == transfer_items_written
            for actions in fake.transactions
        ),
        f"a transfer did not write {transfer_items_written} items",
    )
    _require(fake.reads == len(responses), "a transfer read beyond the key lookup")


def verify_balances(responses: Sequence[HttpResponse], fake: FakeDynamoDB, payer_id: str) -> None:
    """Each balance is the payer's funding, read with one GetItem and no write."""
    bodies = _statuses(responses, status_ok, "balance")
    _require(
        all(Decimal(body["posted"]) == funding_amount for body in bodies), "wrong balance read"
    )
    _require(all(body["account_id"] == payer_id for body in bodies), "another account's balance")
    _require(not fake.transactions, "a balance read wrote")
    _require(fake.reads == 2 * len(responses), "a balance was not one read besides the key's")


def _median_ms(times_ns: Sequence[int]) -> float:
    return round(statistics.median(times_ns) / nanoseconds_per_ms, cpu_ms_decimals)


def _send(
    gateway: Gateway, make: Callable[[], HttpRequest], count: int, fake: FakeDynamoDB
) -> list[HttpResponse]:
    """`count` fresh requests, counted by the fake from zero."""
    requests = [make() for _ in range(count)]
    fake.transactions.clear()
    fake.reads = 0
    return [gateway.handle(request) for request in requests]


def measure_api_cpu(requests: int = requests_default) -> dict[str, float]:
    """Median CPU ms per request of the handler (transfer, balance) and of the authorizer."""
    if requests < 1:
        raise ValueError("requests must be at least 1")
    fake = FakeDynamoDB()
    fixture = seed(fake)
    moment = datetime.now(UTC)
    with stubbed_functions(fake) as handlers:
        invoker = TimedInvoker(handlers)
        gateway = Gateway(invoker, clock=lambda: moment)
        routes = (
            ("transfer", lambda: transfer_request(fixture)),
            ("balance", lambda: balance_request(fixture)),
        )
        for _, make in routes:
            _send(gateway, make, warm_up_requests, fake)
        medians: dict[str, float] = {}
        authorizer_ns: list[int] = []
        for route, make in routes:
            invoker.reset()
            responses = _send(gateway, make, requests, fake)
            if route == "transfer":
                verify_transfers(responses, fake)
            else:
                verify_balances(responses, fake, fixture.payer.id)
            medians[route] = _median_ms(invoker.cpu_ns[handler_key])
            authorizer_ns += invoker.cpu_ns[authorizer_key]
        medians["authorizer"] = _median_ms(authorizer_ns)
    return medians
