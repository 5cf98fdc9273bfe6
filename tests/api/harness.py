"""The API in process, as API Gateway drives it: event, authorizer, context, handler.

Each call builds a real HTTP API payload 2.0 event with `ledger.local.events`, runs the
real authorizer on it, puts the authorizer's context where API Gateway puts it
(`requestContext.authorizer.lambda`) and calls the decorated API handler with a Lambda
context. The table is a moto table, read directly for the "nothing written" checks.
"""

from __future__ import annotations

import json
import secrets
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from ledger.auth.api_keys import KeyStore, Role
from ledger.local.container import LambdaContext
from ledger.local.events import HttpRequest, api_event, authorization, authorizer_event
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore

region = "us-east-1"
source_ip = "203.0.113.7"
invocation_timeout_s = 30.0

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class _AdminKey:
    """The default of `Api.call(key=...)`: the module's admin key."""


admin_key = _AdminKey()


@dataclass(frozen=True)
class Reply:
    """One response: its status, headers (names as the handler wrote them) and JSON body."""

    status: int
    headers: dict[str, str]
    json: Any
    request_id: str

    def error(self) -> tuple[int, str, dict[str, Any]]:
        """The status, error code and details of an error response."""
        error = self.json["error"]
        assert set(error) == {"code", "message", "details"}, self.json
        assert isinstance(error["message"], str)
        assert error["message"]
        return self.status, error["code"], error["details"]


@dataclass
class Api:
    """Calls the API handler through the authorizer, on one moto table."""

    table_name: str
    handler: Handler
    authorizer: Handler
    key_store: KeyStore
    admin_secret: str
    last_event: dict[str, Any] = field(default_factory=dict)

    def call(
        self,
        method: str,
        path: str,
        body: object = None,
        *,
        key: str | _AdminKey | None = admin_key,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str | int] | None = None,
        raw_body: bytes | None = None,
        event_fields: Mapping[str, object] | None = None,
    ) -> Reply:
        """One request; `key` is a secret, None for no Authorization header, or by default
        the module's admin key. `body` is sent as JSON unless `raw_body` is given;
        `event_fields` replace fields of the event, as a gateway could send them."""
        header_pairs: list[tuple[str, str]] = [("content-type", "application/json")]
        secret = self.admin_secret if isinstance(key, _AdminKey) else key
        if secret is not None:
            header_pairs.append(("authorization", f"Bearer {secret}"))
        header_pairs.extend((headers or {}).items())
        if raw_body is None:
            raw_body = b"" if body is None else json.dumps(body).encode()
        target = path if not query else f"{path}?{urlencode(query)}"
        request = HttpRequest(method, target, tuple(header_pairs), raw_body, source_ip)
        request_id = secrets.token_hex(8)
        event = api_event(request, request_id, datetime.now(UTC)) | dict(event_fields or {})
        _, context = authorization(self.authorize(event))
        event["requestContext"]["authorizer"] = {"lambda": context}
        self.last_event = event
        lambda_context = LambdaContext(
            "ledger-api", request_id, time.monotonic() + invocation_timeout_s
        )
        with warnings.catch_warnings():
            # Metrics are disabled here, and powertools says so on every invocation.
            warnings.filterwarnings("ignore", "No application metrics", UserWarning)
            result = self.handler(event, lambda_context)
        text = result.get("body") or ""
        return Reply(
            status=result["statusCode"],
            headers=dict(result.get("headers") or {}),
            json=json.loads(text) if text else None,
            request_id=request_id,
        )

    def authorize(self, event: dict[str, Any]) -> dict[str, Any]:
        """The authorizer's answer for an API event, as API Gateway asks for it."""
        return self.authorizer(authorizer_event(event), None)

    def library(self, clock: Callable[[], datetime]) -> Ledger:
        """The library over the API's table, on its own clock (to make the past)."""
        return Ledger(DynamoDBStore(self.table_name, self.key_store.client), clock=clock)

    def state(self) -> dict[tuple[str, str], object]:
        """Every item of the table by (pk, sk), read from moto's own table (fast)."""
        backend = dynamodb_backends[DEFAULT_ACCOUNT_ID][region]
        items: dict[tuple[str, str], object] = {}
        for item in backend.get_table(self.table_name).all_items():
            attributes = item.to_json()["Attributes"]
            items[(attributes["pk"]["S"], attributes["sk"]["S"])] = attributes
        return items

    @contextmanager
    def nothing_written(self) -> Iterator[None]:
        """Asserts the block left every item of the table as it was."""
        before = self.state()
        yield
        after = self.state()
        added = sorted(after.keys() - before.keys())
        removed = sorted(before.keys() - after.keys())
        changed = sorted(key for key in before.keys() & after.keys() if before[key] != after[key])
        assert (added, removed, changed) == ([], [], []), "a refused request wrote items"


class Keys:
    """API keys of each role and scope, made through the KeyStore once per module.

    Every key makes the table bigger, and moto copies the whole table on each transaction,
    so tests share the keys they only use (a test that revokes a key makes its own).
    """

    def __init__(self, store: KeyStore) -> None:
        self._store = store
        self._made: dict[tuple[str, tuple[str, ...], str | None], str] = {}

    def of(
        self, role: Role | str, *, ledger_ids: Sequence[str] = (), owner_id: str | None = None
    ) -> str:
        """The secret of the module's key with this role and scope."""
        scope = (str(role), tuple(ledger_ids), owner_id)
        if scope not in self._made:
            _, secret = self._store.create(role, ledger_ids=ledger_ids, owner_id=owner_id)
            self._made[scope] = secret
        return self._made[scope]

    @property
    def reader(self) -> str:
        """An unscoped reader key."""
        return self.of(Role.READER)

    @property
    def operator(self) -> str:
        """An unscoped operator key."""
        return self.of(Role.OPERATOR)


def random_owner() -> str:
    """An owner id no other test uses."""
    return f"owner-{secrets.token_hex(6)}"


def random_key() -> str:
    """An idempotency key no other test uses."""
    return f"idem-{secrets.token_hex(8)}"
