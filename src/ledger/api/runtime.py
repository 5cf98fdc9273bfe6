"""What a Lambda container builds once and reuses: settings, the client, the ledger."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

from ledger.auth.access import Scope
from ledger.auth.keys import KeyStore
from ledger.service import Ledger
from ledger.store.dynamodb.store import DynamoDBStore, default_client

table_name_variable = "LEDGER_TABLE_NAME"


@dataclass(frozen=True)
class Runtime:
    """The ledger, the key store and the scope checks of one container."""

    ledger: Ledger
    keys: KeyStore
    scope: Scope

    @classmethod
    def over(cls, ledger: Ledger, keys: KeyStore) -> Runtime:
        """A runtime over a given ledger and key store (tests, embedding)."""
        return cls(ledger, keys, Scope(lambda ledger_id: ledger.get_ledger(ledger_id).owner_id))


@cache
def runtime() -> Runtime:
    """The container's runtime, built on first use from `LEDGER_TABLE_NAME`."""
    table_name = os.environ.get(table_name_variable, "ledger")
    client = default_client()
    return Runtime.over(Ledger(DynamoDBStore(table_name, client)), KeyStore(table_name, client))
