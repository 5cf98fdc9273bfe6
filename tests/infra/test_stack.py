"""The stack wires its constructs together: each consumer is fed, each queue watched, each
output given; and with every option of the context on, it is as clean as without."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import ManualArgs, lint_file
from stack_synthesis import Synthesis, bank_checks, environment, synthesize

from infra.stack import stream_consumers

pytestmark = pytest.mark.xdist_group("cdk")

Resource = dict[str, Any]

everything_on = {
    "ledger:provisionedConcurrency": "2",
    "ledger:logRetentionDays": "2557",
    "ledger:domainName": "ledger.example.com",
    "ledger:certificateArn": "arn:aws:acm:eu-west-1:123456789012:certificate/abc",
    "ledger:alertEmail": "ops@example.com",
    "ledger:externalChecks": json.dumps(bank_checks),
    "ledger:expiringNoticeSeconds": "600",
    "ledger:webhooks": json.dumps(
        [
            {
                "name": "payouts",
                "endpoint": "https://hooks.example.com/ledger",
                "detailTypes": ["ledger.entry.posted"],
                "secretArn": "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hook-AbCdEf",
            }
        ]
    ),
}


@pytest.fixture(scope="module")
def configured(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    """The stack with every option of the context on."""
    return synthesize(tmp_path_factory.mktemp("configured"), everything_on)


def _functions(synthesis: Synthesis) -> dict[str, str]:
    """Logical id -> function name, read from the handlers."""
    return {
        logical_id: resource["Properties"]["Handler"].split(".")[1]
        for logical_id, resource in synthesis.resources("AWS::Lambda::Function").items()
    }


def _mapped(synthesis: Synthesis) -> dict[str, list[Resource]]:
    """Each function's event source mappings, by function name."""
    names = _functions(synthesis)
    found: dict[str, list[Resource]] = {}
    for mapping in synthesis.resources("AWS::Lambda::EventSourceMapping").values():
        target = mapping["Properties"]["FunctionName"]["Ref"]
        found.setdefault(names[target], []).append(mapping)
    return found


def test_each_stream_consumer_reads_the_table_stream_and_inbound_its_queue(
    ledger_stack: Synthesis,
) -> None:
    mapped = _mapped(ledger_stack)
    assert sorted(mapped) == sorted((*stream_consumers, "inbound"))
    (table_id,) = ledger_stack.resources("AWS::DynamoDB::Table")
    for name in stream_consumers:
        (mapping,) = mapped[name]
        assert mapping["Properties"]["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}, (
            name
        )
    (inbound,) = mapped["inbound"]
    queue_id = inbound["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]
    assert ledger_stack.resources("AWS::SQS::Queue")[queue_id]


def test_the_outputs_name_what_a_deployment_uses(ledger_stack: Synthesis) -> None:
    assert set(ledger_stack.template["Outputs"]) >= {
        "ApiUrl",
        "TableName",
        "EventBusName",
        "AlertsTopicArn",
        "InboundQueueUrl",
        "InboundDeadLetterQueueUrl",
        "StreamFailuresQueueUrl",
        "JobFailuresQueueUrl",
        "DashboardName",
    }
    assert "ApiDomainTarget" not in ledger_stack.template["Outputs"]


def test_every_queue_that_collects_failures_has_an_alarm(ledger_stack: Synthesis) -> None:
    alarmed = {
        dimension["Value"]["Fn::GetAtt"][0]
        for alarm in ledger_stack.resources("AWS::CloudWatch::Alarm").values()
        if alarm["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        for dimension in alarm["Properties"]["Dimensions"]
    }
    fed = {
        queue_id
        for queue_id, queue in ledger_stack.resources("AWS::SQS::Queue").items()
        if not queue["Properties"].get("RedrivePolicy")
        and queue_id not in _source_queues(ledger_stack)
    }
    assert fed <= alarmed
    assert len(alarmed) >= 5


def _source_queues(synthesis: Synthesis) -> set[str]:
    return {
        mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]
        for mapping in synthesis.resources("AWS::Lambda::EventSourceMapping").values()
        if "Fn::GetAtt" in mapping["Properties"]["EventSourceArn"]
        and mapping["Properties"]["EventSourceArn"]["Fn::GetAtt"][1] == "Arn"
    }


def test_the_jobs_are_scheduled_and_external_checks_only_when_configured(
    ledger_stack: Synthesis, configured: Synthesis
) -> None:
    def scheduled(synthesis: Synthesis) -> set[str]:
        names = _functions(synthesis)
        return {
            names[target["Arn"]["Fn::GetAtt"][0]]
            for rule in synthesis.resources("AWS::Events::Rule").values()
            if "ScheduleExpression" in rule["Properties"]
            for target in rule["Properties"]["Targets"]
        }

    assert scheduled(ledger_stack) == {"expiry", "reconciliation"}
    assert scheduled(configured) == {"expiry", "reconciliation", "external_balances"}


def test_the_context_reaches_the_functions_and_the_topic(configured: Synthesis) -> None:
    names = _functions(configured)
    variables = {
        names[logical_id]: resource["Properties"]["Environment"]["Variables"]
        for logical_id, resource in configured.resources("AWS::Lambda::Function").items()
    }
    assert json.loads(variables["external_balances"]["LEDGER_EXTERNAL_CHECKS"]) == bank_checks
    assert variables["expiry"]["LEDGER_EXPIRING_NOTICE_S"] == "600"
    (subscription,) = configured.resources("AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "ops@example.com"
    for group in configured.resources("AWS::Logs::LogGroup").values():
        assert group["Properties"]["RetentionInDays"] == 2557
    assert "ApiDomainTarget" in configured.template["Outputs"]
    aliases = configured.resources("AWS::Lambda::Alias").values()
    assert [a["Properties"]["ProvisionedConcurrencyConfig"] for a in aliases] == [
        {"ProvisionedConcurrentExecutions": 2}
    ] * 2


def test_with_every_option_on_the_packs_and_cfn_lint_find_nothing(configured: Synthesis) -> None:
    assert configured.findings == []
    matches = lint_file(
        Path(configured.template_path), config=ManualArgs(regions=[str(environment.region)])
    )
    assert [f"{match.rule.id} {match.path} {match.message}" for match in matches] == []
