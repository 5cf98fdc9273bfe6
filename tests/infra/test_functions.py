"""Every function runs as the issue of the stack says: Python 3.14 on arm64, traced, its own
role and encrypted log group, SnapStart (or provisioned concurrency) for the two that answer
people, and a dead-letter queue for the scheduled jobs."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk.assertions import Template
from stack_synthesis import Synthesis, source_code

from infra.assets import functions
from infra.functions import ColdStart, LedgerFunctions, specs

pytestmark = pytest.mark.xdist_group("cdk")

Resource = dict[str, Any]


def _by_handler(synthesis: Synthesis) -> dict[str, Resource]:
    """The stack's ledger functions by name, read from their handlers."""
    found: dict[str, Resource] = {}
    for resource in synthesis.resources("AWS::Lambda::Function").values():
        handler = resource["Properties"]["Handler"]
        name = handler.removeprefix("functions.").removesuffix(".handler.lambda_handler")
        found[name] = resource
    return found


@pytest.fixture(scope="module")
def deployed(ledger_stack: Synthesis) -> dict[str, Resource]:
    return _by_handler(ledger_stack)


def test_every_function_of_the_project_is_deployed_once(deployed: dict[str, Resource]) -> None:
    assert sorted(deployed) == sorted(functions)
    assert set(specs) == set(functions)


def test_functions_run_python_3_14_on_arm64_traced_with_their_budget(
    deployed: dict[str, Resource],
) -> None:
    for name, resource in deployed.items():
        properties = resource["Properties"]
        assert properties["Runtime"] == "python3.14", name
        assert properties["Architectures"] == ["arm64"], name
        assert properties["TracingConfig"] == {"Mode": "Active"}, name
        assert properties["MemorySize"] == specs[name].memory_mb, name
        assert properties["Timeout"] == specs[name].timeout.to_seconds(), name
    # An HTTP API gives up on its integration after 30 s: the API must answer before.
    assert deployed["api"]["Properties"]["Timeout"] < 30


def test_functions_know_their_table_and_powertools_settings(
    ledger_stack: Synthesis, deployed: dict[str, Resource]
) -> None:
    (table_id,) = ledger_stack.resources("AWS::DynamoDB::Table")
    for name, resource in deployed.items():
        variables = resource["Properties"]["Environment"]["Variables"]
        assert variables["LEDGER_TABLE_NAME"] == {"Ref": table_id}, name
        assert variables["POWERTOOLS_SERVICE_NAME"] == specs[name].service, name
        assert variables["POWERTOOLS_METRICS_NAMESPACE"] == "ServerlessLedger", name
        assert variables["POWERTOOLS_LOG_LEVEL"] == "INFO", name


def test_services_match_what_the_code_names_its_metrics(deployed: dict[str, Resource]) -> None:
    from ledger.api import observability as api_observability
    from ledger.consumers import observability as consumer_observability
    from ledger.jobs import expiry_function

    expected = {
        "api": api_observability.service,
        "history": consumer_observability.service,
        "inbound": consumer_observability.service,
        "reconciliation": expiry_function.service,
    }
    for name, service in expected.items():
        assert (
            deployed[name]["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
            == service
        )


def test_each_function_logs_to_its_own_encrypted_retained_group(
    ledger_stack: Synthesis, deployed: dict[str, Resource]
) -> None:
    groups = ledger_stack.resources("AWS::Logs::LogGroup")
    used = set()
    for name, resource in deployed.items():
        group_id = resource["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        group = groups[group_id]
        assert group["Properties"]["RetentionInDays"] == 365, name
        assert "KmsKeyId" in group["Properties"], name
        assert group["DeletionPolicy"] == "Retain", name
        used.add(group_id)
    assert len(used) == len(deployed)


def test_roles_have_no_managed_policies(ledger_stack: Synthesis) -> None:
    roles = ledger_stack.resources("AWS::IAM::Role")
    lambda_roles = [
        role
        for role in roles.values()
        if "lambda.amazonaws.com"
        in str(role["Properties"]["AssumeRolePolicyDocument"]["Statement"])
    ]
    assert len(lambda_roles) >= len(functions)
    for role in lambda_roles:
        assert "ManagedPolicyArns" not in role["Properties"]


def test_snapstart_on_the_two_functions_that_answer_people_only(
    ledger_stack: Synthesis, deployed: dict[str, Resource]
) -> None:
    started = {name for name, r in deployed.items() if "SnapStart" in r["Properties"]}
    assert started == {"api", "authorizer"}
    for name in started:
        assert deployed[name]["Properties"]["SnapStart"] == {"ApplyOn": "PublishedVersions"}
    aliases = ledger_stack.resources("AWS::Lambda::Alias")
    versions = ledger_stack.resources("AWS::Lambda::Version")
    assert len(aliases) == 2
    for alias in aliases.values():
        properties = alias["Properties"]
        assert properties["Name"] == "live"
        assert "ProvisionedConcurrencyConfig" not in properties
        version_id = properties["FunctionVersion"]["Fn::GetAtt"][0]
        assert version_id in versions


def test_scheduled_jobs_have_a_dead_letter_queue(
    ledger_stack: Synthesis, deployed: dict[str, Resource]
) -> None:
    queues = ledger_stack.resources("AWS::SQS::Queue")
    with_queue = {
        name: r["Properties"]["DeadLetterConfig"]["TargetArn"]["Fn::GetAtt"][0]
        for name, r in deployed.items()
        if "DeadLetterConfig" in r["Properties"]
    }
    assert set(with_queue) == {"expiry", "reconciliation", "external_balances"}
    (queue_id,) = set(with_queue.values())
    assert queues[queue_id]["Properties"]["SqsManagedSseEnabled"] is True


def test_provisioned_concurrency_replaces_snapstart() -> None:
    app = cdk.App()
    stack = cdk.Stack(app, "Provisioned")
    table = dynamodb.Table(
        stack,
        "Table",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
    )
    LedgerFunctions(
        stack, "Functions", table=table, code=source_code, cold_start=ColdStart(provisioned=3)
    )
    template = Template.from_stack(stack).to_json()
    resources = template["Resources"].values()
    assert not [r for r in resources if "SnapStart" in r.get("Properties", {})]
    aliases = [r for r in resources if r["Type"] == "AWS::Lambda::Alias"]
    assert len(aliases) == 2
    for alias in aliases:
        assert alias["Properties"]["ProvisionedConcurrencyConfig"] == {
            "ProvisionedConcurrentExecutions": 3
        }


def test_rule_packs_find_nothing_unacknowledged(ledger_stack: Synthesis) -> None:
    assert ledger_stack.findings == []


def test_the_cost_bench_prices_the_memory_the_stack_deploys(
    deployed: dict[str, Resource],
) -> None:
    from bench.cost import deployment_default

    assert deployed["api"]["Properties"]["MemorySize"] == deployment_default.api_memory_mb
    assert (
        deployed["authorizer"]["Properties"]["MemorySize"]
        == deployment_default.authorizer_memory_mb
    )
