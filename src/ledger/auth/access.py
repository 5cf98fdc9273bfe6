"""Who is calling and what they may touch: a key's role and scope, checked per object."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from ledger.domain import limits
from ledger.domain.api_keys import ApiKey, Role
from ledger.domain.errors import Forbidden, NotFound, Unauthorized

_ranks = {Role.READER: 0, Role.OPERATOR: 1, Role.ADMIN: 2}


@dataclass(frozen=True)
class Principal:
    """The caller as the authorizer established it: key id, role and scope."""

    key_id: str
    role: Role
    ledger_ids: frozenset[str]
    owner_id: str | None

    @classmethod
    def of(cls, key: ApiKey) -> Principal:
        """The principal an active key stands for."""
        return cls(key.id, key.role, frozenset(key.ledger_ids), key.owner_id)

    def context(self) -> dict[str, str]:
        """The authorizer context that carries this principal to the API handler."""
        return {
            "authenticated": "true",
            "key_id": self.key_id,
            "role": self.role.value,
            "ledger_ids": ",".join(sorted(self.ledger_ids)),
            "owner_id": self.owner_id or "",
        }

    @classmethod
    def from_context(cls, context: Mapping[str, object] | None) -> Principal:
        """The principal in an authorizer context; Unauthorized if the key was not accepted."""
        if not context or context.get("authenticated") != "true":
            reason = (context or {}).get("reason") or "a valid API key is required"
            raise Unauthorized(str(reason))
        ledger_ids = str(context.get("ledger_ids") or "")
        return cls(
            key_id=str(context["key_id"]),
            role=Role(str(context["role"])),
            ledger_ids=frozenset(filter(None, ledger_ids.split(","))),
            owner_id=str(context.get("owner_id") or "") or None,
        )

    def require(self, role: Role) -> None:
        """Refuse a caller whose role is below `role`."""
        if _ranks[self.role] < _ranks[role]:
            raise Forbidden(
                f"this needs the {role.value} role; the key has {self.role.value}",
                {"role": self.role.value, "required": role.value},
            )

    def covers(self, ledger_ids: Iterable[str], owner_id: str | None) -> bool:
        """Whether a scope lies within this key's (a key cannot grant more than it has)."""
        wanted = set(ledger_ids)
        if self.ledger_ids and not (wanted and wanted <= self.ledger_ids):
            return False
        return self.owner_id is None or owner_id == self.owner_id


class Scope:
    """Checks objects against a principal's ledgers; a ledger's owner is read once per
    container, since it never changes."""

    def __init__(self, owner_of: Callable[[str], str | None]) -> None:
        self._owner_of = owner_of
        self._owners: dict[str, str | None] = {}

    def reaches(self, principal: Principal, ledger_id: str) -> bool:
        """Whether the principal's scope includes the ledger."""
        if principal.ledger_ids and ledger_id not in principal.ledger_ids:
            return False
        return principal.owner_id is None or self.owner(ledger_id) == principal.owner_id

    def owner(self, ledger_id: str) -> str | None:
        """A ledger's owner, cached: owners never change. A missing ledger has none (and is
        not cached: a ledger id derived from an idempotency key may exist later)."""
        if ledger_id not in self._owners:
            try:
                owner = self._owner_of(ledger_id)
            except NotFound:
                return None
            if len(self._owners) >= limits.ledger_owner_cache_max:
                self._owners.clear()
            self._owners[ledger_id] = owner
        return self._owners[ledger_id]

    def read(self, principal: Principal, ledger_id: str, resource: str, identifier: str) -> None:
        """A read outside the scope sees nothing: 404, as if the object did not exist."""
        if not self.reaches(principal, ledger_id):
            raise NotFound(resource, identifier)

    def write(self, principal: Principal, role: Role, ledger_ids: Iterable[str]) -> None:
        """A write needs the role and every ledger it touches in scope, else 403."""
        principal.require(role)
        for ledger_id in sorted(set(ledger_ids)):
            if not self.reaches(principal, ledger_id):
                raise Forbidden(
                    f"the API key's scope does not include ledger {ledger_id}",
                    {"ledger_id": ledger_id},
                )
