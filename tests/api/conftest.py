"""One moto table per module, the API handler and authorizer over it, and an admin key.

Tests share their module's table: every id they create is random, so they cannot collide,
and the "nothing written" checks compare the whole table around a single request.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from moto import mock_aws
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.dynamodb.models import dynamodb_backends

from ledger.auth.api_keys import KeyStore, Role
from ledger.store.dynamodb import ensure_table

from .harness import Api, Keys, region

# Dummy credentials: whatever the machine has configured can never reach a real account.
environment_variables = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": region,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}
# An endpoint override (DynamoDB Local, say) would send the calls past moto.
removed_variables = ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB")


@pytest.fixture(scope="module")
def api(request: pytest.FixtureRequest) -> Iterator[Api]:
    """The API over a fresh moto table shared by the module's tests; a module's
    `projections` names the projections the API takes as kept (none by default)."""
    table_name = f"ledger-api-{secrets.token_hex(4)}"
    with pytest.MonkeyPatch.context() as environment, mock_aws():
        for name in removed_variables:
            environment.delenv(name, raising=False)
        for name, value in environment_variables.items():
            environment.setenv(name, value)
        environment.setenv("LEDGER_TABLE_NAME", table_name)
        # No stream consumers run on moto: no projections to reconcile against, unless a
        # module asks to read empty ones.
        environment.setenv("LEDGER_PROJECTIONS", getattr(request.module, "projections", ""))
        # Imported here: the handler builds its runtime at import, which needs the settings.
        from ledger.api import handler
        from ledger.api.runtime import runtime
        from ledger.auth import authorizer

        runtime.cache_clear()
        authorizer.key_lookup.cache_clear()
        key_store = runtime().keys
        assert isinstance(key_store, KeyStore)
        ensure_table(key_store.client, table_name)
        # moto deep-copies its stream log on every write; nothing here reads it.
        dynamodb_backends[DEFAULT_ACCOUNT_ID][region].get_table(table_name).stream_shard = None
        _, admin_secret = key_store.create(Role.ADMIN, created_by="tests")
        yield Api(
            table_name, handler.lambda_handler, authorizer.lambda_handler, key_store, admin_secret
        )
        runtime.cache_clear()
        authorizer.key_lookup.cache_clear()


@pytest.fixture(scope="module")
def keys(api: Api) -> Keys:
    """Keys of each role and scope for the module's tests, each made once."""
    return Keys(api.key_store)
