"""API keys (admin): create one, shown once; list and read them; revoke one.

A key scoped to some ledgers (or an owner) manages only the keys within its own scope, the
same rule that stops it granting more than it has: others it neither lists nor reads
(404, as for any object outside a scope) nor revokes.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from ledger.api.bodies import NewApiKey
from ledger.api.routing import Cursor, IdempotencyKey, Limit, Router, answers, reply
from ledger.api.views import ApiKeyPage, ApiKeyView, NewApiKeyView, api_key_view
from ledger.auth.api_keys import ApiKey, Role
from ledger.domain import limits
from ledger.domain.errors import Forbidden, NotFound
from ledger.domain.views import page_view

router = Router()


@router.post(
    "/v1/api-keys",
    responses=answers(201, NewApiKeyView, "The key and its secret"),
    summary="Create an API key",
    tags=["keys"],
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


@router.get(
    "/v1/api-keys",
    responses=answers(200, ApiKeyPage, "A page of API keys"),
    summary="List API keys",
    tags=["keys"],
)
def list_api_keys(
    limit: Limit = limits.page_size_default, cursor: Cursor = None
) -> Response[ApiKeyPage]:
    """The keys within the caller's scope, oldest first, active and revoked; never a secret."""
    caller = router.caller()
    caller.require(Role.ADMIN)

    def within(key: ApiKey) -> bool:
        return caller.covers(key.ledger_ids, key.owner_id)

    page = router.runtime().keys.list_keys(
        limit=limit, cursor=cursor, within=within, caller=caller.key_id
    )
    return reply(200, page_view(page, api_key_view))


@router.get(
    "/v1/api-keys/<key_id>",
    responses=answers(200, ApiKeyView, "The key"),
    summary="Read an API key",
    tags=["keys"],
)
def get_api_key(key_id: str) -> Response[ApiKeyView]:
    """A key's record by id; never its secret."""
    return reply(200, api_key_view(_managed_key(key_id)))


@router.delete(
    "/v1/api-keys/<key_id>",
    responses=answers(200, ApiKeyView, "The key, revoked"),
    summary="Revoke an API key",
    tags=["keys"],
)
def revoke_api_key(key_id: str) -> Response[ApiKeyView]:
    """Revoke a key for good; requests with it get 401 from then on."""
    _managed_key(key_id)
    return reply(200, api_key_view(router.runtime().keys.revoke(key_id)))


def _managed_key(key_id: str) -> ApiKey:
    """A key the calling admin may manage; one outside its scope is not found."""
    caller = router.caller()
    caller.require(Role.ADMIN)
    key = router.runtime().keys.get(key_id)
    if not caller.covers(key.ledger_ids, key.owner_id):
        raise NotFound("api_key", key_id)
    return key
