"""Property-based fuzzing of the HTTP API with schemathesis, against `ledger dev`.

What is fuzzed: every operation of the OpenAPI document the server serves at
`GET /v1/openapi.json`, called over HTTP with the admin key. Each test seeds its own
ledger (a funded payer and a payee account, a pending hold, a pending escrow and a
reader key) so that generated requests reach real handlers rather than only 404s.

- Refusals: every write operation (POST, PATCH, DELETE) in negative mode. An operation
  with a body gets bodies that break its schema (wrong types, missing or unknown fields,
  out-of-range strings, bodies that are not JSON objects or not UTF-8), sent to the
  seeded objects: path parameters, and every valid id or currency field of the body,
  point at them. One without a body gets schema-breaking headers (e.g. no key) with
  generated path parameters. Every POST and PATCH operation also gets each of a fixed
  set of hostile bodies (nesting past any parser's depth, an integer of thousands of
  digits, a key given twice, and for one with a body control characters), sent first
  so the time budget never skips them. Every answer must be a documented 4xx, and
  afterwards every financial item of the table (partition key `LEDGER#...`, `ACCOUNT#...`,
  `ENTRY#...`, read by a Scan of DynamoDB Local) must be exactly as before.
- Conformance: every operation in positive mode with the seeded ids, and every read
  operation in negative mode with generated parameters. No answer may be a 5xx, and
  each must have a documented status, content type and body schema.

The unchanged-table check covers the whole table; the one writer besides the fuzz is the
dev server's expiry sweep (every 60 s), whose work — a pending entry of another test
turned `expired`, and the accounts it touched, or noticed as expiring, with its event in
the outbox — is set aside.

Bounds: at most `examples_per_operation_max` examples per operation and mode,
derandomized (a fixed seed), no shrinking, no example database (nothing is written to
disk), no Hypothesis deadline, `http_timeout_s` per request, and `fuzz_s_max` of wall
clock per test: past it the remaining examples are skipped, with a warning.
"""

from __future__ import annotations

import json
import secrets
import time
import urllib.error
import urllib.request
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ledger.local.dynamodb_local import make_client

# One pytest worker runs every end-to-end test, against one `ledger dev`.
pytestmark = pytest.mark.xdist_group("e2e")

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import TypeAlias

    from hypothesis.strategies import SearchStrategy
    from schemathesis import APIOperation, BaseSchema, Case

    from .conftest import DevServer

    Operation: TypeAlias = APIOperation[Any, Any, Any, Any]
    Generated: TypeAlias = Case[Operation]

examples_per_operation_max = 5
fuzz_s_max = 90
http_timeout_s = 30
failure_text_chars_max = 1500
changes_shown_max = 10
id_length_max = 200
currency = "USD"
currency_length_max = 12
financial_prefixes = ("LEDGER#", "ACCOUNT#", "ENTRY#")
read_methods = frozenset({"GET", "HEAD", "OPTIONS"})
body_methods = frozenset({"POST", "PATCH"})
# Bodies that once crashed a parser or slipped past one, sent as they are: no route reads
# them as JSON at all (so every POST and PATCH gets them, with a body or without)...
unreadable_bodies = (
    b'{"metadata": {"note": ' + b"[" * 1000 + b"]" * 1000 + b"}}",
    b'{"a": ' * 1000 + b"1" + b"}" * 1000,
    b'{"amount": 1' + b"0" * 4300 + b', "expires_in": 1}',
    b'{"name": "first", "amount": "1.00", "name": "second"}',
    b'{"metadata": {"note": "a", "note": "b"}}',
)
# ... and readable JSON whose strings no field takes (a route without a body ignores it).
control_character_body = (
    b'{"name": "N\\u0000", "reference": "r\\u001b", "metadata": {"k\\u0001": "v"}}'
)
checks = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
fuzz_settings = settings(
    max_examples=examples_per_operation_max,
    derandomize=True,
    database=None,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@dataclass(frozen=True)
class Seeds:
    """The objects generated requests are pointed at."""

    ledger_id: str
    payer_id: str
    payee_id: str
    hold_id: str
    escrow_id: str
    key_id: str

    def path_parameters(self, operation: Operation) -> dict[str, str]:
        """A seeded value for each path parameter the seeds know; others are generated."""
        values = {
            "ledger_id": self.ledger_id,
            "account_id": self.payer_id,
            "entry_id": self.hold_id,
            "hold_id": self.hold_id,
            "escrow_id": self.escrow_id,
            "key_id": self.key_id,
        }
        names = {parameter.name for parameter in operation.path_parameters}
        return {name: value for name, value in values.items() if name in names}

    def query(self, operation: Operation) -> dict[str, str]:
        """A seeded value for each id or currency filter of the operation's query."""
        values = {"ledger_id": self.ledger_id, "account_id": self.payer_id, "currency": currency}
        names = {parameter.name for parameter in operation.query}
        return {name: value for name, value in values.items() if name in names}

    def body_fields(self) -> dict[str, Seed]:
        """The seeded value of each id (and currency) field a request body may carry."""
        payer = ("account_id", "from_account_id", "buyer_account_id", "parent_id")
        payee = ("to_account_id", "seller_account_id", "counterparty_account_id")
        return {
            "ledger_id": Seed(self.ledger_id),
            "ledger_ids": Seed(self.ledger_id),
            "currency": Seed(currency, currency_length_max),
            **dict.fromkeys(payer, Seed(self.payer_id)),
            **dict.fromkeys(payee, Seed(self.payee_id)),
        }


@dataclass(frozen=True)
class Seed:
    """A field's seeded value, and the length bound the schema puts on the field."""

    value: str
    length_max: int = id_length_max

    def fits(self, generated: object) -> bool:
        """Whether a generated value is valid for the field, so the seed may replace it: of
        its length, and free of the control characters its pattern refuses. A value that
        breaks either is the broken part of a negative case and must stay."""
        return (
            isinstance(generated, str)
            and 1 <= len(generated) <= self.length_max
            and not any(character < " " for character in generated)
        )


def _seeded(value: Any, fields: Mapping[str, Seed]) -> Any:
    """`value` with every schema-valid id (or currency) field replaced by its seed.

    Only valid values are replaced, by other valid values: a body that broke its schema
    elsewhere still breaks it, and a broken field stays broken.
    """
    if isinstance(value, list):
        return [_seeded(item, fields) for item in value]
    if not isinstance(value, dict):
        return value
    seeded: dict[str, object] = {}
    for name, item in value.items():
        seed = fields.get(name)
        if seed is not None and seed.fits(item):
            seeded[name] = seed.value
        elif seed is not None and isinstance(item, list):
            seeded[name] = [seed.value if seed.fits(member) else member for member in item]
        else:
            seeded[name] = _seeded(item, fields)
    return seeded


@dataclass
class Fuzzer:
    """Runs generated cases against the server and collects what went wrong."""

    server: DevServer
    deadline_s: float
    statuses: Counter[int] = field(default_factory=Counter)
    failures: dict[tuple[str, str], str] = field(default_factory=dict)
    skipped: int = 0
    ungenerated: list[str] = field(default_factory=list)

    def run(
        self, operation: Operation, strategy: SearchStrategy[Generated], *, refusal: bool
    ) -> None:
        """Up to the bound of examples; with `refusal`, no answer may be a success."""

        @fuzz_settings
        @given(strategy)
        def example(case: Generated) -> None:
            if time.monotonic() > self.deadline_s:
                self.skipped += 1
                return
            self.send(operation, case, refusal=refusal)

        try:
            example()
        except Unsatisfiable:
            self.ungenerated.append(operation.label)

    def send(self, operation: Operation, case: Generated, *, refusal: bool) -> None:
        """One case: its answer counted and checked; with `refusal`, no success."""
        headers = {"Authorization": f"Bearer {self.server.admin_key}"}
        response = case.call(base_url=self.server.url, headers=headers, timeout=http_timeout_s)
        self.statuses[response.status_code] += 1
        # A 5xx is `not_a_server_error`'s to report; anything below 400 is acceptance.
        if refusal and response.status_code < 400:
            sent = response.request.body
            shown = sent if isinstance(sent, bytes | str | None) else repr(sent)
            self.failures.setdefault(
                (operation.label, f"accepted with {response.status_code}"),
                f"a schema-breaking request was answered {response.status_code}: "
                f"sent {shown!r:.500} with headers {dict(response.request.headers)!r:.500}, "
                f"got {response.text[:500]}",
            )
        try:
            case.validate_response(response, checks=checks, headers=headers)
        except FailureGroup as group:
            for failure in group.exceptions:
                self.failures.setdefault(
                    (operation.label, failure.title), str(group)[:failure_text_chars_max]
                )

    def report(self) -> str:
        """Every distinct failure, one block each."""
        return "\n\n".join(
            f"{label}: {title}\n{text}" for (label, title), text in sorted(self.failures.items())
        )

    def warn_if_cut_short(self) -> None:
        """Say so when the time budget, not the example bound, ended the run."""
        if self.skipped:
            warnings.warn(
                f"fuzzing stopped at its {fuzz_s_max} s budget: {self.skipped} examples skipped",
                stacklevel=2,
            )


def _operations(schema: BaseSchema) -> list[Operation]:
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()
        operations.append(result.ok())
    return operations


def _has_body(operation: Operation) -> bool:
    return any(True for _ in operation.body)


def _financial_items(server: DevServer) -> dict[tuple[str, str], Any]:
    """Every ledger, account, entry, code and idempotency item of the table, by key."""
    client = make_client(server.dynamodb_endpoint)
    items: dict[tuple[str, str], Any] = {}
    pages = client.get_paginator("scan").paginate(TableName=server.table_name, ConsistentRead=True)
    for page in pages:
        for item in page["Items"]:
            key = (item["pk"]["S"], item["sk"]["S"])
            if key[0].startswith(financial_prefixes):
                items[key] = item
    return items


def _changed_keys(
    before: dict[tuple[str, str], Any], after: dict[tuple[str, str], Any]
) -> list[tuple[str, str]]:
    """The items that changed, less what the dev server's expiry sweep did meanwhile (a
    pending entry of another test expiring, and the accounts that entry touched)."""
    changed = {key for key in before.keys() | after.keys() if before.get(key) != after.get(key)}
    expired = {
        key[0].removeprefix("ENTRY#")
        for key in changed
        if key in before
        and key in after
        and before[key].get("status") == {"S": "pending"}
        and after[key].get("status") == {"S": "expired"}
    }
    swept_entries = {key for key in changed if key[0].removeprefix("ENTRY#") in expired}
    swept_accounts = {
        key
        for key in changed
        if key[0].startswith("ACCOUNT#")
        and key in before
        and after.get(key, {}).get("last_entry_id", {}).get("S") in expired
    }
    # The sweep's expiring notices: an entry marked noticed, and its event in the outbox.
    noticed = {
        key
        for key in changed
        if key[0].startswith("OUTBOX#")
        or (
            key in before
            and key in after
            and {**before[key], "expiring_noticed_at": None}
            == {**after[key], "expiring_noticed_at": None}
        )
    }
    return sorted(changed - swept_entries - swept_accounts - noticed)


@pytest.fixture(scope="module")
def fuzz_schema(dev_server: DevServer) -> BaseSchema:
    """The OpenAPI document the server serves, loaded by schemathesis."""
    return schemathesis.openapi.from_url(
        f"{dev_server.url}/v1/openapi.json", timeout=http_timeout_s
    )


@pytest.fixture
def seeds(dev_server: DevServer) -> Seeds:
    """A fresh ledger with a funded payer, a payee, a hold, an escrow and a reader key."""

    def created(path: str, body: dict[str, Any]) -> str:
        status, _, answer = dev_server.request("POST", path, body)
        assert status == 201, answer
        identifier: str = answer["id"]
        return identifier

    ledger_id = created("/v1/ledgers", {"name": f"fuzz-{secrets.token_hex(4)}"})
    account = {"ledger_id": ledger_id, "type": "liability", "currency": currency}
    payer_id = created("/v1/accounts", {**account, "name": "payer"})
    payee_id = created("/v1/accounts", {**account, "name": "payee"})
    created("/v1/deposits", {"account_id": payer_id, "amount": "1000.00"})
    hold_id = created("/v1/holds", {"account_id": payer_id, "amount": "10.00"})
    escrow_id = created(
        "/v1/escrows",
        {"buyer_account_id": payer_id, "seller_account_id": payee_id, "amount": "10.00"},
    )
    key_id = created("/v1/api-keys", {"role": "reader", "ledger_ids": [ledger_id]})
    return Seeds(ledger_id, payer_id, payee_id, hold_id, escrow_id, key_id)


def _refusal_strategy(operation: Operation, seeds: Seeds) -> SearchStrategy[Generated]:
    """Schema-breaking requests: a broken body aimed at the seeded objects if the
    operation takes one, else broken headers with generated path parameters."""
    if not _has_body(operation):
        return operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
    strategy = operation.as_strategy(
        generation_mode=GenerationMode.NEGATIVE,
        path_parameters=seeds.path_parameters(operation),
    )
    # Only a broken body is sure to be refused: a "broken" header may be an extra header.
    return strategy.filter(_breaks_body).map(_aimed_at(seeds))


def _aimed_at(seeds: Seeds) -> Callable[[Generated], Generated]:
    """A case's body with its id (and currency) fields pointing at the seeded objects."""
    fields = seeds.body_fields()

    def aimed(case: Generated) -> Generated:
        case.body = _seeded(case.body, fields)
        return case

    return aimed


def _breaks_body(case: Generated) -> bool:
    return case.meta is not None and case.meta.is_negative_at(ParameterLocation.BODY)


def _hostile_cases(operation: Operation, seeds: Seeds) -> list[Generated]:
    """Each hostile body the operation must refuse, sent as raw JSON at the seeded objects."""
    parameters = {parameter.name: "unseeded" for parameter in operation.path_parameters}
    parameters |= seeds.path_parameters(operation)
    bodies: tuple[bytes, ...] = unreadable_bodies
    if _has_body(operation):
        bodies = (*bodies, control_character_body)
    return [
        operation.Case(path_parameters=parameters, body=body, media_type="application/json")
        for body in bodies
    ]


def _valid_strategy(operation: Operation, seeds: Seeds) -> SearchStrategy[Generated]:
    """Schema-valid requests aimed at the seeded objects."""
    return operation.as_strategy(
        generation_mode=GenerationMode.POSITIVE,
        path_parameters=seeds.path_parameters(operation),
        query=seeds.query(operation),
    ).map(_aimed_at(seeds))


def test_refused_writes_change_no_financial_item(
    dev_server: DevServer, fuzz_schema: BaseSchema, seeds: Seeds
) -> None:
    # GIVEN seeded books, and every financial item of the table as it stands
    before = _financial_items(dev_server)
    fuzzer = Fuzzer(dev_server, time.monotonic() + fuzz_s_max)
    writes = [op for op in _operations(fuzz_schema) if op.method.upper() not in read_methods]

    # WHEN every write operation gets schema-breaking requests, and every one that takes a
    # body each hostile body
    for operation in writes:
        if operation.method.upper() in body_methods:
            for case in _hostile_cases(operation, seeds):
                fuzzer.send(operation, case, refusal=True)
        fuzzer.run(operation, _refusal_strategy(operation, seeds), refusal=True)
    fuzzer.warn_if_cut_short()

    # THEN every answer was a documented, well-formed 4xx
    assert not fuzzer.failures, fuzzer.report()
    assert fuzzer.statuses[400] > 0, fuzzer.statuses
    assert fuzzer.ungenerated == []
    # AND not one financial item changed
    changed = _changed_keys(before, _financial_items(dev_server))
    assert changed == [], changed[:changes_shown_max]


def test_generated_requests_get_documented_answers(
    dev_server: DevServer, fuzz_schema: BaseSchema, seeds: Seeds
) -> None:
    # GIVEN seeded books
    fuzzer = Fuzzer(dev_server, time.monotonic() + fuzz_s_max)
    operations = _operations(fuzz_schema)

    # WHEN every operation gets valid requests aimed at them, and every read operation
    # also gets schema-breaking parameters
    for operation in operations:
        fuzzer.run(operation, _valid_strategy(operation, seeds), refusal=False)
        if operation.method.upper() in read_methods and any(operation.iter_parameters()):
            strategy = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
            fuzzer.run(operation, strategy, refusal=False)
    fuzzer.warn_if_cut_short()

    # THEN no answer was a server error or strayed from the document
    assert not fuzzer.failures, fuzzer.report()
    assert fuzzer.ungenerated == []
    # AND the requests reached real handlers: some reads and some writes succeeded
    assert fuzzer.statuses[200] > 0, fuzzer.statuses
    assert fuzzer.statuses[201] > 0, fuzzer.statuses


# Requests fuzzing found, pinned so that every run checks them whatever it generates.


def _post_bytes(server: DevServer, path: str, data: bytes) -> tuple[int, Any]:
    """POST raw bytes as a JSON body with the admin key: status and JSON answer."""
    headers = {
        "Authorization": f"Bearer {server.admin_key}",
        "Content-Type": "application/json",
    }
    request = urllib.request.Request(server.url + path, data=data, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=http_timeout_s) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _posted(server: DevServer, account_id: str) -> str:
    status, _, balance = server.request("GET", f"/v1/accounts/{account_id}/balance")
    assert status == 200, balance
    posted: str = balance["posted"]
    return posted


def test_a_body_that_is_not_utf8_is_refused(dev_server: DevServer, seeds: Seeds) -> None:
    # GIVEN a deposit body, valid but for a description in Latin-1, not UTF-8
    body = {"account_id": seeds.payer_id, "amount": "1.00", "description": "caf\u00e9"}
    data = json.dumps(body, ensure_ascii=False).encode("latin-1")
    posted = _posted(dev_server, seeds.payer_id)

    # WHEN it is posted
    status, answer = _post_bytes(dev_server, "/v1/deposits", data)

    # THEN it is a validation error of the body, and no money moved
    assert status == 400, answer
    assert (answer["error"]["code"], answer["error"]["details"]["field"]) == (
        "validation_error",
        "body",
    )
    assert _posted(dev_server, seeds.payer_id) == posted


def test_a_json_array_body_is_refused(dev_server: DevServer, seeds: Seeds) -> None:
    # GIVEN a valid deposit body, wrapped in a JSON array
    body = [{"account_id": seeds.payer_id, "amount": "1.00"}]
    posted = _posted(dev_server, seeds.payer_id)

    # WHEN it is posted
    status, _, answer = dev_server.request("POST", "/v1/deposits", body)

    # THEN it is a validation error of the body, and no money moved
    assert status == 400, answer
    assert (answer["error"]["code"], answer["error"]["details"]["field"]) == (
        "validation_error",
        "body",
    )
    assert _posted(dev_server, seeds.payer_id) == posted


def test_an_effective_time_out_of_range_in_utc_is_refused(
    dev_server: DevServer, seeds: Seeds
) -> None:
    # GIVEN an effective time that is year 1 in its offset but year 0 in UTC
    body = {
        "account_id": seeds.payer_id,
        "amount": "1.00",
        "effective_at": "0001-01-01T00:30:00+01:00",
    }

    # WHEN a deposit is posted with it
    status, _, answer = dev_server.request("POST", "/v1/deposits", body)

    # THEN it is a validation error of that field
    assert status == 400, answer
    assert (answer["error"]["code"], answer["error"]["details"]["field"]) == (
        "validation_error",
        "effective_at",
    )


def test_an_entry_effective_before_year_1000_stays_readable(
    dev_server: DevServer, seeds: Seeds
) -> None:
    # GIVEN a deposit effective in year 441
    body = {"account_id": seeds.payer_id, "amount": "1.00", "effective_at": "0441-02-25T11:12:34Z"}
    status, _, created = dev_server.request("POST", "/v1/deposits", body)
    assert status == 201, created

    # WHEN the entry is read back, alone and in its ledger's listing
    status, _, read = dev_server.request("GET", f"/v1/entries/{created['id']}")
    listed_status, _, listed = dev_server.request(
        "GET", f"/v1/entries?ledger_id={seeds.ledger_id}&limit=100"
    )

    # THEN both answer with it, as it was written
    assert (status, read) == (200, created)
    assert listed_status == 200, listed
    assert created in listed["items"]
