"""The Lambda authorizer (HTTP API, simple responses): Bearer key -> role, scope, key id.

It always answers `isAuthorized: true` and says in the context whether the key was
accepted: API Gateway's own refusals carry neither the error contract nor a request id,
so the API handler turns an unauthenticated context into the contract's 401 itself.
"""

from __future__ import annotations

from typing import Any

from ledger.api.runtime import runtime
from ledger.auth.access import Principal
from ledger.auth.keys import KeyStatus

_scheme = "bearer "
_secret_length_max = 512


def authorize(headers: dict[str, str]) -> dict[str, str]:
    """The authorizer context for a request's headers."""
    header = headers.get("authorization", "")
    if header[: len(_scheme)].lower() != _scheme:
        return _refused("send the API key as 'Authorization: Bearer <key>'")
    secret = header[len(_scheme) :].strip()
    if not secret or len(secret) > _secret_length_max:
        return _refused("the API key is not valid")
    key = runtime().keys.find(secret)
    if key is None:
        return _refused("the API key is not valid")
    if key.status is not KeyStatus.ACTIVE:
        return _refused("the API key has been revoked")
    return Principal.of(key).context()


def lambda_handler(event: dict[str, Any], context: object) -> dict[str, Any]:
    """The authorizer's entry point."""
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    return {"isAuthorized": True, "context": authorize(headers)}


def _refused(reason: str) -> dict[str, str]:
    return {"authenticated": "false", "reason": reason}
