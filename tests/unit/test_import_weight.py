"""What importing costs: the authorizer loads only its key lookup, the package root loads
nothing until a name is used, and the functions refuse to start without their table."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import ledger
from ledger.environment import MissingSetting, table_name, table_name_variable

source_root = str(Path(ledger.__file__).resolve().parents[1])
# What the authorizer's cold start must not pay for.
heavy_prefixes = (
    "ledger.service",
    "ledger.planning",
    "pydantic",
    "aws_lambda_powertools",
    "boto3",
)


def loaded_after(statement: str, *, table: str | None = "ledger-test") -> dict[str, object]:
    """The modules a fresh interpreter holds after `statement`, or the error it raised."""
    program = (
        "import json, sys\n"
        "try:\n"
        f"    {statement}\n"
        "except Exception as error:\n"
        "    print(json.dumps({'error': type(error).__name__, 'message': str(error)}))\n"
        "else:\n"
        "    print(json.dumps({'modules': sorted(sys.modules)}))\n"
    )
    env = {
        "PATH": os.environ.get("PATH", os.defpath),
        "PYTHONPATH": source_root,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if table is not None:
        env[table_name_variable] = table
    completed = subprocess.run(
        [sys.executable, "-c", program], env=env, capture_output=True, text=True, check=True
    )
    answer: dict[str, object] = json.loads(completed.stdout)
    return answer


def heavy(modules: object) -> list[str]:
    assert isinstance(modules, list)
    return [
        name
        for name in modules
        if any(name == prefix or name.startswith(f"{prefix}.") for prefix in heavy_prefixes)
    ]


def test_the_authorizer_loads_its_key_lookup_and_nothing_of_the_service() -> None:
    # GIVEN / WHEN a fresh interpreter imports the authorizer, as its Lambda does
    answer = loaded_after(
        "import ledger.auth.authorizer as a; assert a.key_lookup.cache_info().currsize == 1"
    )

    # THEN it built its lookup at import, without the service, plans, pydantic,
    # powertools or boto3
    assert "error" not in answer, answer
    assert heavy(answer["modules"]) == []
    assert "botocore.client" in answer["modules"]  # type: ignore[operator]


def test_importing_a_module_of_the_package_does_not_load_the_service() -> None:
    # GIVEN / WHEN a fresh interpreter imports only the limits
    answer = loaded_after("import ledger.domain.limits")

    # THEN the package root re-exported nothing yet
    assert heavy(answer["modules"]) == []
    assert "ledger.domain.model" not in answer["modules"]  # type: ignore[operator]


def test_the_authorizer_refuses_to_start_without_its_table() -> None:
    # GIVEN / WHEN the authorizer is imported where LEDGER_TABLE_NAME is not set
    answer = loaded_after("import ledger.auth.authorizer", table=None)

    # THEN it refuses, naming the setting, rather than guessing a table
    assert answer["error"] == "MissingSetting"
    assert table_name_variable in str(answer["message"])


@pytest.mark.parametrize("value", [None, "", "  "])
def test_the_api_runtime_refuses_to_start_without_its_table(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    # GIVEN no table name, or a blank one
    if value is None:
        monkeypatch.delenv(table_name_variable, raising=False)
    else:
        monkeypatch.setenv(table_name_variable, value)
    from ledger.api.runtime import runtime

    # WHEN the API's runtime is built / THEN it refuses, naming the setting
    runtime.cache_clear()
    with pytest.raises(MissingSetting, match=table_name_variable):
        runtime()
    with pytest.raises(MissingSetting):
        table_name()


def test_the_root_names_its_exports_and_loads_each_on_first_use() -> None:
    # GIVEN the package root / WHEN each exported name is read
    # THEN it is the class of its home module, and every name of __all__ resolves
    from ledger.service import Ledger
    from ledger.store.memory import MemoryStore

    assert ledger.Ledger is Ledger
    assert ledger.MemoryStore is MemoryStore
    assert all(getattr(ledger, name) is not None for name in ledger.__all__)
    # AND a name it does not export is an AttributeError, as for any module
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        _ = ledger.Nothing  # type: ignore[attr-defined]


def test_the_dynamodb_package_loads_its_store_on_first_use() -> None:
    # GIVEN / WHEN a fresh interpreter imports the DynamoDB client alone, as the authorizer does
    answer = loaded_after("import ledger.store.dynamodb.client")

    # THEN neither the store nor the plan's steps came with it
    assert heavy(answer["modules"]) == []
    assert "ledger.store.dynamodb.store" not in answer["modules"]  # type: ignore[operator]
    # AND the package's names resolve to their homes, and an unknown one is refused
    import ledger.store.dynamodb as package
    from ledger.store.dynamodb.store import DynamoDBStore
    from ledger.store.dynamodb.table import table_definition

    assert package.DynamoDBStore is DynamoDBStore
    assert package.table_definition is table_definition
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        _ = package.Nothing  # type: ignore[attr-defined]


def test_the_expiry_function_loads_neither_boto3_nor_the_api_and_reads_nothing_at_import() -> None:
    # GIVEN / WHEN a fresh interpreter imports the expiry function, as its Lambda does,
    # without a table name
    answer = loaded_after(
        "import functions.expiry.handler; "
        "from ledger.jobs.expiry_function import sweep; "
        "assert sweep.cache_info().currsize == 0",
        table=None,
    )

    # THEN it started: its settings are read on the first invocation, not at import
    assert "error" not in answer, answer
    modules = answer["modules"]
    assert isinstance(modules, list)
    # AND it loaded the service and botocore, but not boto3, pydantic, the API or other jobs
    assert "ledger.service" in modules
    unwanted = ("boto3", "pydantic", "ledger.api", "ledger.consumers", "ledger.jobs.reconciliation")
    assert [name for name in modules if name.startswith(unwanted)] == []


def test_the_external_balances_function_loads_neither_boto3_nor_the_api_at_import() -> None:
    # GIVEN / WHEN a fresh interpreter imports the external balances function, as its Lambda
    # does, without a table name or checks
    answer = loaded_after(
        "import functions.external_balances.handler; "
        "from ledger.jobs.external_balances_function import job; "
        "assert job.cache_info().currsize == 0",
        table=None,
    )

    # THEN it started: its settings are read on the first invocation, not at import
    assert "error" not in answer, answer
    modules = answer["modules"]
    assert isinstance(modules, list)
    # AND it loaded the service and its sources, but not boto3, pydantic, the API or other jobs
    assert "ledger.jobs.external_sources" in modules
    unwanted = ("boto3", "pydantic", "ledger.api", "ledger.consumers", "ledger.jobs.reconciliation")
    assert [name for name in modules if name.startswith(unwanted)] == []
