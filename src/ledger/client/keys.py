"""Client routes for API keys (admin)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from ledger.client.base import ClientBase, present
from ledger.client.transport import Call, path
from ledger.client.types import ApiKey, CreatedApiKey, Page


class ApiKeysClient(ClientBase):
    """Creating, listing, reading and revoking API keys; each needs an admin key."""

    def create_api_key(
        self,
        role: str,
        *,
        ledger_ids: Sequence[str] | None = None,
        owner_id: str | None = None,
        idempotency_key: str | None = None,
    ) -> CreatedApiKey:
        """A new API key; its secret (`key`) is in this answer only.

        The service refuses a repeated key with `idempotency_key_reused` instead of replaying
        it (a replay would need the secret, which is not kept): after a retry, that error means
        an earlier attempt created a key whose secret is lost. Revoke it and create another.
        """
        body = present(
            role=role,
            ledger_ids=None if ledger_ids is None else list(ledger_ids),
            owner_id=owner_id,
        )
        return cast("CreatedApiKey", self._create(body, idempotency_key, "api-keys"))

    def revoke_api_key(self, key_id: str) -> ApiKey:
        """Revoke a key for good; returns its record, now revoked."""
        return cast("ApiKey", self._send(Call("DELETE", path("api-keys", key_id))))

    def list_api_keys(self, *, limit: int | None = None, cursor: str | None = None) -> Page[ApiKey]:
        """A page of the keys within the caller's scope, oldest first; never a secret."""
        query = {"limit": limit, "cursor": cursor}
        return cast("Page[ApiKey]", self._send(Call("GET", path("api-keys"), query)))

    def get_api_key(self, key_id: str) -> ApiKey:
        """A key's record by id; never its secret."""
        return cast("ApiKey", self._send(Call("GET", path("api-keys", key_id))))
