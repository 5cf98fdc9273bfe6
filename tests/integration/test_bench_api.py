"""The benchmark's API timing (a fake DynamoDB behind the real functions) and its cold-start
children: what they check and refuse, never how fast anything was."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from bench.api import (
    FakeDynamoDB,
    measure_api_cpu,
    verify_balances,
    verify_transfers,
)
from bench.cold_start import (
    ColdStartFailed,
    child_program,
    lambda_environment,
    time_import,
)
from bench.scenarios import ScenarioFailed
from ledger.api import runtime as runtime_module
from ledger.local.events import HttpResponse
from ledger.store.dynamodb.store import default_client

transfer_actions: list[dict[str, Any]] = [{"Put": {}}, {"Update": {}}, {"Update": {}}]


def response(status: int, body: dict[str, str]) -> HttpResponse:
    return HttpResponse(status, (("content-type", "application/json"),), json.dumps(body).encode())


def entry_response() -> HttpResponse:
    return response(201, {"id": f"entry-{secrets.token_hex(4)}"})


def test_api_timing_runs_both_routes_and_leaves_the_runtime_as_it_found_it() -> None:
    # GIVEN this process, whose runtime other tests may have built over DynamoDB
    # WHEN the API is timed over a few requests per route
    medians = measure_api_cpu(requests=3)

    # THEN each route and the authorizer has a positive median
    assert list(medians) == ["transfer", "balance", "authorizer"]
    assert all(ms > 0 for ms in medians.values())
    # AND the next runtime is built afresh, from the real client factory, not the fake
    assert vars(runtime_module)["default_client"] is default_client
    assert runtime_module.runtime.cache_info().currsize == 0


def test_transfers_are_verified_one_transaction_and_no_read_each() -> None:
    # GIVEN two transfers answered 201, each written by one transaction of three items
    fake = FakeDynamoDB()
    fake.transactions = [transfer_actions, transfer_actions]
    fake.reads = 2
    responses = [entry_response(), entry_response()]

    # WHEN verified / THEN they pass
    verify_transfers(responses, fake)

    # AND a read besides the two key lookups is refused
    fake.reads = 3
    with pytest.raises(ScenarioFailed, match="read beyond the key lookup"):
        verify_transfers(responses, fake)
    # AND so is a transfer that wrote two items, and one that was refused
    fake.reads = 2
    fake.transactions = [transfer_actions, transfer_actions[:2]]
    with pytest.raises(ScenarioFailed, match="did not write 3 items"):
        verify_transfers(responses, fake)
    refused = response(422, {"code": "insufficient_funds"})
    with pytest.raises(ScenarioFailed, match="transfer: answered 422, not 201"):
        verify_transfers([entry_response(), refused], fake)


def test_a_balance_that_wrote_is_refused() -> None:
    # GIVEN a balance answered after a write
    fake = FakeDynamoDB()
    fake.reads = 2
    fake.transactions = [transfer_actions]
    body = {"account_id": "acct", "posted": "1000000.00"}

    # WHEN verified / THEN it is refused
    with pytest.raises(ScenarioFailed, match="a balance read wrote"):
        verify_balances([response(200, body)], fake, payer_id="acct")


def test_fake_reads_hold_items_by_key_and_count_every_read() -> None:
    # GIVEN a fake holding one item
    fake = FakeDynamoDB()
    pk = f"ACCOUNT#{secrets.token_hex(4)}"
    item = {"pk": {"S": pk}, "sk": {"S": "ACCOUNT"}, "name": {"S": "payer"}}
    fake.add(item)

    # WHEN the item and a missing one are read
    found = fake.get_item(TableName="t", Key={"pk": {"S": pk}, "sk": {"S": "ACCOUNT"}})
    missing = fake.get_item(TableName="t", Key={"pk": {"S": "nope"}, "sk": {"S": "ACCOUNT"}})

    # THEN the first answers the item, the second has no Item, and both are counted
    assert found == {"Item": item}
    assert missing == {}
    assert fake.reads == 2


def test_the_child_environment_is_lambdas_not_the_callers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a caller with its own AWS profile and tracing turned off
    monkeypatch.setenv("AWS_PROFILE", "someone")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")

    # WHEN the children's environment is made
    env = lambda_environment(tmp_path)

    # THEN none of the caller's settings reach it, and it looks like Lambda to powertools
    assert "AWS_PROFILE" not in env
    assert "POWERTOOLS_TRACE_DISABLED" not in env
    assert env["LAMBDA_TASK_ROOT"] == str(tmp_path)
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"]
    assert env["PYTHONPYCACHEPREFIX"].startswith(str(tmp_path))


def test_a_child_times_its_import_and_refuses_network_use(tmp_path: Path) -> None:
    # GIVEN the children's environment
    env = lambda_environment(tmp_path)

    # WHEN a harmless import is timed
    seconds = time_import(child_program("import json"), env, tmp_path)

    # THEN it is a positive time
    assert isinstance(seconds, float)
    assert seconds > 0
    # AND an import that sends a datagram is refused, naming the call
    sends = (
        "import socket\n"
        "socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'x', ('127.0.0.1', 9))"
    )
    with pytest.raises(ColdStartFailed, match=r"network used at import: socket\.sendto"):
        time_import(child_program(sends, guard_network=True), env, tmp_path)
    # AND a child that fails says how
    with pytest.raises(ColdStartFailed, match="exit 3"):
        time_import(child_program("raise SystemExit(3)"), env, tmp_path)
