"""The Lambda authorizer (HTTP API, simple responses): Bearer key -> role, scope, key id.

It always answers `isAuthorized: true` and says in the context whether the key was
accepted: API Gateway's own refusals carry neither the error contract nor a request id,
so the API handler turns an unauthenticated context into the contract's 401 itself.

It runs before every request, so its cold start is kept to the key lookup: botocore, the
key's codec and the principal, built at import with the client primed by one GetItem that
is never sent (a Lambda SnapStart snapshot holds it all); none of the service, pydantic or
powertools. The restore hook reseeds `random`, which botocore's retry jitter draws from.
An unknown and a revoked key get the same answer; only the log tells them apart.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

from ledger import snapstart
from ledger.auth.access import Principal
from ledger.domain import limits
from ledger.domain.api_keys import KeyStatus, digest
from ledger.environment import table_name
from ledger.store.dynamodb.client import default_client
from ledger.store.dynamodb.key_lookup import KeyLookup
from ledger.store.dynamodb.priming import prime

_scheme = "bearer "
_secret_length_max = 512
not_valid = "the API key is not valid"
logger = logging.getLogger(__name__)


@cache
def key_lookup() -> KeyLookup:
    """The container's key lookup over `LEDGER_TABLE_NAME` (required), made once, its
    client primed with the one call it makes (not sent)."""
    name = table_name()
    client = default_client(attempts_max=limits.key_lookup_attempts_max)
    prime(client, name, ("GetItem",))
    return KeyLookup(name, client)


key_lookup()
snapstart.install()


def authorize(headers: dict[str, str]) -> dict[str, str]:
    """The authorizer context for a request's headers."""
    header = headers.get("authorization", "")
    if header[: len(_scheme)].lower() != _scheme:
        return _refused("send the API key as 'Authorization: Bearer <key>'")
    secret = header[len(_scheme) :].strip()
    if not secret or len(secret) > _secret_length_max:
        return _refused(not_valid)
    key = key_lookup().find(digest(secret))
    if key is None:
        logger.warning("API key refused: unknown")
        return _refused(not_valid)
    if key.status is not KeyStatus.ACTIVE:
        logger.warning("API key refused: %s is revoked", key.id)
        return _refused(not_valid)
    return Principal.of(key).context()


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """The authorizer's entry point."""
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    return {"isAuthorized": True, "context": authorize(headers)}


def _refused(reason: str) -> dict[str, str]:
    return {"authenticated": "false", "reason": reason}
