"""What a Lambda container builds once and reuses: settings, the client, the ledger."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from ledger.auth.access import Scope
from ledger.auth.api_keys import ApiKeys, KeyStore
from ledger.environment import projections, table_name
from ledger.service import Ledger
from ledger.store.dynamodb.client import default_client
from ledger.store.dynamodb.priming import api_operations, prime
from ledger.store.dynamodb.store import DynamoDBStore


@dataclass(frozen=True)
class Runtime:
    """The ledger, the key store and the scope checks of one container."""

    ledger: Ledger
    keys: ApiKeys
    scope: Scope

    @classmethod
    def over(cls, ledger: Ledger, keys: ApiKeys) -> Runtime:
        """A runtime over a given ledger and key store (tests, embedding)."""
        return cls(ledger, keys, Scope(lambda ledger_id: ledger.get_ledger(ledger_id).owner_id))


@cache
def runtime() -> Runtime:
    """The container's runtime, built on first use from `LEDGER_TABLE_NAME` (required),
    its client primed with a call of each operation the API makes (none is sent)."""
    name = table_name()
    client = default_client()
    prime(client, name, api_operations)
    store = DynamoDBStore(name, client, projections=projections())
    return Runtime.over(Ledger(store), KeyStore(name, client))
