"""API keys (admin): create one, shown once; revoke one."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from ledger.api.bodies import NewApiKey
from ledger.api.routing import IdempotencyKey, Router, answers, reply
from ledger.api.views import ApiKeyView, NewApiKeyView, api_key_view
from ledger.auth.keys import Role
from ledger.errors import Forbidden, NotFound

router = Router()


@router.post(
    "/v1/api-keys", responses=answers(201, NewApiKeyView, "The key and its secret"), tags=["keys"]
)
def create_api_key(
    body: NewApiKey, idempotency_key: IdempotencyKey = None
) -> Response[NewApiKeyView]:
    """Create a key within the caller's own scope; its secret is shown once, never stored.

    A repeated Idempotency-Key is refused with 409 rather than replayed: a replay would
    need the secret, which is not kept.
    """
    caller = router.caller()
    caller.require(Role.ADMIN)
    ledger_ids = tuple(body.ledger_ids or ())
    owner_id = body.owner_id if body.owner_id is not None else caller.owner_id
    if not caller.covers(ledger_ids, owner_id):
        raise Forbidden("a key cannot grant more than the scope of the key that creates it")
    key, secret = router.runtime().keys.create(
        body.role,
        ledger_ids=ledger_ids,
        owner_id=owner_id,
        created_by=caller.key_id,
        idempotency_key=idempotency_key,
    )
    return reply(201, {**api_key_view(key), "key": secret})


@router.delete(
    "/v1/api-keys/<key_id>", responses=answers(200, ApiKeyView, "The key, revoked"), tags=["keys"]
)
def revoke_api_key(key_id: str) -> Response[ApiKeyView]:
    """Revoke a key for good; requests with it get 401 from then on."""
    caller = router.caller()
    caller.require(Role.ADMIN)
    keys = router.runtime().keys
    key = keys.get(key_id)
    if not caller.covers(key.ledger_ids, key.owner_id):
        raise NotFound("api_key", key_id)
    return reply(200, api_key_view(keys.revoke(key_id)))
