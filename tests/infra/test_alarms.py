"""The alarms watch metrics the functions emit, under the names and dimensions they emit
them with, and each tells the alerts topic when it fires and when it clears."""

from __future__ import annotations

import os

# The jsii node process that `import aws_cdk` starts inherits these; without them it prints a
# banner about the machine's Node 20 being past jsii's support window.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

import importlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Template

import ledger
from infra import alarms as infra_alarms
from infra.alarms import LedgerAlarms, LedgerMetric
from infra.compliance import Finding, add_rule_packs, synthesize_checked

Resource = dict[str, Any]

# One pytest worker synthesizes the stack once, rather than each worker on its own.
pytestmark = pytest.mark.xdist_group("cdk")

account, region = "111111111111", "eu-west-1"
api_id = "a1b2c3d4e5"
function_names = (
    "api",
    "authorizer",
    "history",
    "audit",
    "events",
    "monitors",
    "inbound",
    "expiry",
    "reconciliation",
    "external_balances",
)
stream_consumers = ("history", "audit", "events", "monitors")
queue_purposes = ("stream-failures", "inbound", "schedules", "webhooks")
runbook = Path(__file__).parents[2] / infra_alarms.runbook


def function_name(name: str) -> str:
    return f"ledger-{name}"


def queue_name(purpose: str) -> str:
    return f"ledger-{purpose}-dlq"


@dataclass(frozen=True)
class Synthesized:
    """The test stack's construct, its template, and what the rule packs found in it."""

    construct: LedgerAlarms
    template: Template
    topic: str
    key: str
    findings: list[Finding]


def build(stack: cdk.Stack, topic: sns.ITopic) -> LedgerAlarms:
    """The construct over stand-ins: the functions, the API and the queues are references
    to resources of other stacks, so the rule packs see only what the construct makes."""
    functions = {
        name: lambda_.Function.from_function_arn(
            stack,
            f"Function-{name}",
            f"arn:aws:lambda:{region}:{account}:function:{function_name(name)}",
        )
        for name in function_names
    }
    queues = {
        purpose: sqs.Queue.from_queue_arn(
            stack, f"Queue-{purpose}", f"arn:aws:sqs:{region}:{account}:{queue_name(purpose)}"
        )
        for purpose in queue_purposes
    }
    return LedgerAlarms(
        stack,
        "Alarms",
        topic=topic,
        http_api=apigwv2.HttpApi.from_http_api_attributes(stack, "Api", http_api_id=api_id),
        functions=functions,
        stream_consumers=stream_consumers,
        dead_letter_queues=queues,
    )


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """One synthesis, checked by the rule packs, of the construct and an encrypted topic."""
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("alarms")))
    add_rule_packs(app)
    stack = cdk.Stack(app, "AlarmsTest", env=cdk.Environment(account=account, region=region))
    key = kms.Key(stack, "Key", enable_key_rotation=True)
    topic = sns.Topic(stack, "Topic", master_key=key, enforce_ssl=True)
    construct = build(stack, topic)
    findings = synthesize_checked(app)
    key_resource, topic_resource = key.node.default_child, topic.node.default_child
    assert isinstance(key_resource, kms.CfnKey)
    assert isinstance(topic_resource, sns.CfnTopic)
    return Synthesized(
        construct,
        Template.from_stack(stack),
        stack.get_logical_id(topic_resource),
        stack.get_logical_id(key_resource),
        findings,
    )


@pytest.fixture(scope="module")
def alarms(synthesized: Synthesized) -> dict[str, Resource]:
    """Each alarm's properties, by its stable name (the end of its CloudWatch name)."""
    found: dict[str, Resource] = {}
    for resource in synthesized.template.find_resources("AWS::CloudWatch::Alarm").values():
        properties = resource["Properties"]
        prefix, name = properties["AlarmName"]["Fn::Join"][1]
        assert prefix == {"Ref": "AWS::StackName"}
        found[name.removeprefix("-")] = properties
    return found


def dimensions(metric: Resource) -> dict[str, str]:
    return {dimension["Name"]: dimension["Value"] for dimension in metric["Dimensions"]}


def single(alarm: Resource) -> Resource:
    """The one metric an alarm without metric math watches, with its statistic and period."""
    assert "Metrics" not in alarm
    return {
        "namespace": alarm["Namespace"],
        "name": alarm["MetricName"],
        "dimensions": dimensions(alarm),
        "statistic": alarm["Statistic"],
        "period": alarm["Period"],
    }


def rule(alarm: Resource) -> tuple[str, float, int, int | None, str]:
    return (
        alarm["ComparisonOperator"],
        alarm["Threshold"],
        alarm["EvaluationPeriods"],
        alarm.get("DatapointsToAlarm"),
        alarm["TreatMissingData"],
    )


at_least = "GreaterThanOrEqualToThreshold"


def expected_names() -> set[str]:
    return (
        {"api-5xx"}
        | {f"errors-{name}" for name in function_names}
        | {f"throttles-{name}" for name in function_names}
        | {f"iterator-age-{name}" for name in stream_consumers}
        | {f"dlq-{purpose}" for purpose in queue_purposes}
        | set(infra_alarms.invariants)
    )


def test_the_construct_s_alarms_are_the_template_s(
    synthesized: Synthesized, alarms: dict[str, Resource]
) -> None:
    # GIVEN the synthesized alarms THEN each has its stable name, and there are no others
    assert set(synthesized.construct.alarms) == set(alarms) == expected_names()


def test_every_alarm_tells_the_topic_when_it_fires_and_when_it_clears(
    synthesized: Synthesized, alarms: dict[str, Resource]
) -> None:
    topic = [{"Ref": synthesized.topic}]
    for name, alarm in alarms.items():
        assert (alarm["AlarmActions"], alarm["OKActions"]) == (topic, topic), name
        assert alarm.get("ActionsEnabled", True), name


def test_every_alarm_names_its_runbook_section_and_the_section_exists(
    alarms: dict[str, Resource],
) -> None:
    # GIVEN the runbook's headings
    headings = set(re.findall(r"^#{2,3} (\S+)$", runbook.read_text(), flags=re.MULTILINE))
    for name, alarm in alarms.items():
        # THEN each alarm's description ends with its section, and the section is there
        assert alarm["AlarmDescription"].endswith(f". Runbook: docs/runbook.md#{name}"), name
        assert name in headings, name


def test_the_api_5xx_alarm_is_the_share_of_5xx_answers_for_3_of_5_minutes(
    alarms: dict[str, Resource],
) -> None:
    alarm = alarms["api-5xx"]
    metrics = {metric["Id"]: metric for metric in alarm["Metrics"]}
    (returned,) = [metric for metric in metrics.values() if metric.get("ReturnData", True)]
    assert returned["Expression"] == "IF(requests > 0, 100 * server_errors / requests, 0)"
    for metric_id, metric_name in (("server_errors", "5xx"), ("requests", "Count")):
        stat = metrics[metric_id]["MetricStat"]
        assert stat["Metric"]["Namespace"] == "AWS/ApiGateway"
        assert stat["Metric"]["MetricName"] == metric_name
        assert dimensions(stat["Metric"]) == {"ApiId": api_id}
        assert (stat["Stat"], stat["Period"]) == ("Sum", 60)
    assert rule(alarm) == (at_least, infra_alarms.api_5xx_percent, 5, 3, "notBreaching")


def test_every_function_has_an_errors_alarm_kept_between_runs_for_jobs(
    alarms: dict[str, Resource],
) -> None:
    for name in function_names:
        alarm = alarms[f"errors-{name}"]
        assert single(alarm) == {
            "namespace": "AWS/Lambda",
            "name": "Errors",
            "dimensions": {"FunctionName": function_name(name)},
            "statistic": "Sum",
            "period": 300,
        }
        missing = "ignore" if name in infra_alarms.scheduled_jobs else "notBreaching"
        assert rule(alarm) == (at_least, 1, 1, None, missing), name
    assert infra_alarms.scheduled_jobs == {"expiry", "reconciliation", "external_balances"}


def test_every_function_has_a_throttles_alarm_for_2_of_5_minutes(
    alarms: dict[str, Resource],
) -> None:
    for name in function_names:
        alarm = alarms[f"throttles-{name}"]
        assert single(alarm) == {
            "namespace": "AWS/Lambda",
            "name": "Throttles",
            "dimensions": {"FunctionName": function_name(name)},
            "statistic": "Sum",
            "period": 60,
        }
        assert rule(alarm) == (at_least, 1, 5, 2, "notBreaching"), name


def test_only_stream_consumers_have_an_iterator_age_alarm(alarms: dict[str, Resource]) -> None:
    watched = {name.removeprefix("iterator-age-") for name in alarms if "iterator-age" in name}
    assert watched == set(stream_consumers)
    for name in stream_consumers:
        alarm = alarms[f"iterator-age-{name}"]
        assert single(alarm) == {
            "namespace": "AWS/Lambda",
            "name": "IteratorAge",
            "dimensions": {"FunctionName": function_name(name)},
            "statistic": "Maximum",
            "period": 60,
        }
        assert rule(alarm) == (at_least, 60_000, 5, 3, "notBreaching"), name


def test_every_dead_letter_queue_alarms_on_its_first_message(alarms: dict[str, Resource]) -> None:
    for purpose in queue_purposes:
        alarm = alarms[f"dlq-{purpose}"]
        assert single(alarm) == {
            "namespace": "AWS/SQS",
            "name": "ApproximateNumberOfMessagesVisible",
            "dimensions": {"QueueName": queue_name(purpose)},
            "statistic": "Maximum",
            "period": 60,
        }
        assert rule(alarm) == (at_least, 1, 1, None, "notBreaching"), purpose


invariant_metrics = {
    "reconciliation-mismatches": (
        "ReconciliationMismatches",
        {"service": "ledger-jobs"},
        "ignore",
    ),
    "external-balance-mismatches": (
        "ReconciliationMismatches",
        {"service": "ledger-jobs", "check": "external"},
        "ignore",
    ),
    "external-source-failures": (
        "ExternalSourceFailures",
        {"service": "ledger-jobs", "check": "external"},
        "ignore",
    ),
    "api-reconciliation-mismatches": (
        "ReconciliationMismatches",
        {"service": "ledger"},
        "notBreaching",
    ),
    "history-mismatch": ("HistoryMismatch", {"service": "ledger-consumers"}, "notBreaching"),
    "financial-item-removed": (
        "FinancialItemRemoved",
        {"service": "ledger-consumers"},
        "notBreaching",
    ),
    "audit-record-conflict": (
        "AuditRecordConflict",
        {"service": "ledger-consumers"},
        "notBreaching",
    ),
    "audit-chain-broken": ("AuditChainBroken", {"service": "ledger"}, "notBreaching"),
    "audit-digest-mismatch": ("AuditDigestMismatch", {"service": "ledger"}, "notBreaching"),
    "guard-mismatch": ("GuardMismatch", {"service": "ledger"}, "notBreaching"),
    "imbalanced-entries": ("ImbalancedEntries", {"service": "ledger"}, "notBreaching"),
}


def test_every_count_that_must_stay_0_alarms_on_any_value(alarms: dict[str, Resource]) -> None:
    assert set(invariant_metrics) == set(infra_alarms.invariants)
    for name, (metric_name, metric_dimensions, missing) in invariant_metrics.items():
        alarm = alarms[name]
        assert single(alarm) == {
            "namespace": "ServerlessLedger",
            "name": metric_name,
            "dimensions": metric_dimensions,
            "statistic": "Sum",
            "period": 300,
        }, name
        assert rule(alarm) == (at_least, 1, 1, None, missing), name


@dataclass(frozen=True)
class Emitter:
    """One module of src/ledger that emits metrics, as its source text says."""

    module: str
    service: str
    names: frozenset[str]
    fixed_dimensions: frozenset[tuple[str, str]]
    dimension_names: frozenset[str]


services = {
    "ledger.api": "ledger.api.observability",
    "ledger.consumers": "ledger.consumers.observability",
    "ledger.jobs": None,
}


def emitters() -> list[Emitter]:
    """Every module of the functions' packages that emits a metric: the metric names it
    passes to `add_metric` or `count` (as a literal or as a module constant), the fixed
    dimensions it adds, and the `service` its metrics carry."""
    from ledger.api.app import _counted_errors

    found: list[Emitter] = []
    root = Path(ledger.__file__).parent
    for package, observability in services.items():
        for path in sorted((root / package.split(".")[1]).rglob("*.py")):
            module_name = ".".join(path.relative_to(root.parent).with_suffix("").parts)
            text = path.read_text()
            names = set(re.findall(r'^\w+_metric = "(\w+)"$', text, flags=re.MULTILINE))
            names |= set(re.findall(r'add_metric\(name="(\w+)"', text))
            names |= set(re.findall(r'\bcount\("(\w+)"', text))
            if module_name == "ledger.api.app":
                names |= set(_counted_errors.values())
            if not names:
                continue
            module = importlib.import_module(observability or module_name)
            found.append(
                Emitter(
                    module_name,
                    module.service,
                    frozenset(names),
                    frozenset(re.findall(r'add_dimension\(name="(\w+)", value="(\w+)"\)', text)),
                    frozenset(re.findall(r'add_dimension\(name="(\w+)"', text)),
                )
            )
    return found


def used_metrics() -> list[tuple[LedgerMetric, tuple[str, ...]]]:
    """Every ledger metric the alarms and the dashboard name, with the dimensions a SEARCH
    leaves open."""
    used: list[tuple[LedgerMetric, tuple[str, ...]]] = [
        (invariant.metric, ()) for invariant in infra_alarms.invariants.values()
    ]
    used += [(metric, ()) for metrics in infra_alarms.activity.values() for metric in metrics]
    used += [
        (metric, found.dimensions)
        for found in infra_alarms.searched.values()
        for metric in found.metrics
    ]
    return used


def test_the_source_emits_every_metric_the_alarms_and_the_dashboard_name() -> None:
    # GIVEN what the modules of the functions emit, read from their source
    found = emitters()
    assert {emitter.module for emitter in found} >= {
        "ledger.api.app",
        "ledger.consumers.history",
        "ledger.consumers.audit",
        "ledger.jobs.reconciliation_function",
        "ledger.jobs.external_balances_function",
    }
    for metric, open_dimensions in used_metrics():
        # THEN some module emits each under its name and service, with exactly its fixed
        # dimensions, and adds the dimensions its SEARCH leaves open
        assert any(
            metric.name in emitter.names
            and metric.service == emitter.service
            and set(metric.dimensions) == emitter.fixed_dimensions
            and set(open_dimensions) <= emitter.dimension_names
            for emitter in found
        ), metric


def test_every_function_package_emits_in_the_ledger_s_namespace() -> None:
    for module in (
        "ledger.api.observability",
        "ledger.consumers.observability",
        "ledger.jobs.reconciliation_function",
        "ledger.jobs.external_balances_function",
        "ledger.jobs.expiry_function",
    ):
        assert importlib.import_module(module).namespace == infra_alarms.namespace, module
    assert {emitter.service for emitter in emitters()} == {
        infra_alarms.api_service,
        infra_alarms.consumers_service,
        infra_alarms.jobs_service,
    }


def dashboard_widgets(synthesized: Synthesized) -> dict[str, list[Any]]:
    """The dashboard's widgets' metrics by title, its region tokens read as a placeholder."""
    (dashboard,) = synthesized.template.find_resources("AWS::CloudWatch::Dashboard").values()
    parts = dashboard["Properties"]["DashboardBody"]["Fn::Join"][1]
    body = json.loads("".join(part if isinstance(part, str) else "REGION" for part in parts))
    return {
        widget["properties"]["title"]: widget["properties"]["metrics"] for widget in body["widgets"]
    }


def named(metrics: list[Any]) -> list[tuple[str, str, dict[str, str]]]:
    """A widget's metrics as namespace, name and dimensions."""
    found = []
    for metric in metrics:
        namespace, name, *rest = (part for part in metric if isinstance(part, str))
        found.append((namespace, name, dict(zip(rest[::2], rest[1::2], strict=True))))
    return found


def test_the_dashboard_shows_the_api_the_consumers_and_the_queues(
    synthesized: Synthesized,
) -> None:
    widgets = dashboard_widgets(synthesized)
    api = {"ApiId": api_id}
    assert named(widgets["API requests"]) == [("AWS/ApiGateway", "Count", api)]
    assert named(widgets["API latency (ms)"]) == [
        ("AWS/ApiGateway", "Latency", api),
        ("AWS/ApiGateway", "Latency", api),
        ("AWS/ApiGateway", "IntegrationLatency", api),
    ]
    assert named(widgets["API answers 4xx and 5xx"]) == [
        ("AWS/ApiGateway", "4xx", api),
        ("AWS/ApiGateway", "5xx", api),
    ]
    for title, metric_name in (
        ("Stream consumers: iterator age (ms)", "IteratorAge"),
        ("Stream consumers: errors", "Errors"),
    ):
        assert named(widgets[title]) == [
            ("AWS/Lambda", metric_name, {"FunctionName": function_name(name)})
            for name in stream_consumers
        ]
    for title, metric_name in (
        ("Functions: errors", "Errors"),
        ("Functions: throttles", "Throttles"),
        ("Functions: duration p99 (ms)", "Duration"),
    ):
        assert named(widgets[title]) == [
            ("AWS/Lambda", metric_name, {"FunctionName": function_name(name)})
            for name in function_names
        ]
    assert named(widgets["Dead-letter queues: messages waiting"]) == [
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": queue_name(purpose)})
        for purpose in queue_purposes
    ]


def test_the_dashboard_shows_the_ledger_s_own_counts(synthesized: Synthesized) -> None:
    widgets = dashboard_widgets(synthesized)
    assert named(widgets["Must stay 0"]) == [
        ("ServerlessLedger", metric_name, metric_dimensions)
        for metric_name, metric_dimensions, _ in invariant_metrics.values()
    ]
    for title, metrics in infra_alarms.activity.items():
        assert named(widgets[title]) == [
            (
                "ServerlessLedger",
                metric.name,
                {"service": metric.service, **dict(metric.dimensions)},
            )
            for metric in metrics
        ]


def test_the_dashboard_searches_the_metrics_with_a_dimension_per_value(
    synthesized: Synthesized,
) -> None:
    widgets = dashboard_widgets(synthesized)
    (refused,) = widgets["Inbound refusals by code"]
    assert refused[0]["expression"] == (
        'SEARCH(\'{ServerlessLedger,code,service} MetricName="InboundRefused" '
        "service=\"ledger-consumers\"', 'Sum', 300)"
    )
    assert refused[0]["label"] == "InboundRefused ${PROP('Dim.code')}"
    balances = widgets["Balances per ledger and currency (minor units)"]
    assert [metric[0]["expression"] for metric in balances] == [
        f'SEARCH(\'{{ServerlessLedger,currency,ledger_id,service}} MetricName="{name}" '
        "service=\"ledger-jobs\"', 'Maximum', 300)"
        for name in ("Available", "Pending", "Escrowed")
    ]


def test_cloudwatch_may_publish_to_the_topic_from_this_account_s_alarms_only(
    synthesized: Synthesized,
) -> None:
    (policy,) = synthesized.template.find_resources("AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (allowed,) = [s for s in statements if s["Effect"] == "Allow"]
    assert allowed["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert allowed["Action"] == "sns:Publish"
    assert allowed["Resource"] == {"Ref": synthesized.topic}
    source = allowed["Condition"]["ArnLike"]["aws:SourceArn"]["Fn::Join"][1]
    assert source[-1] == f":cloudwatch:{region}:{account}:alarm:*"
    assert allowed["Condition"]["StringEquals"] == {"aws:SourceAccount": account}


def test_cloudwatch_may_use_the_topic_s_key(synthesized: Synthesized) -> None:
    key = synthesized.template.to_json()["Resources"][synthesized.key]
    statements = key["Properties"]["KeyPolicy"]["Statement"]
    (granted,) = [
        s for s in statements if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    ]
    assert (granted["Effect"], granted["Action"]) == (
        "Allow",
        ["kms:Decrypt", "kms:GenerateDataKey*"],
    )


def test_a_topic_of_another_stack_keeps_its_policies() -> None:
    # GIVEN a topic known only by its ARN
    stack = cdk.Stack(cdk.App(), "Imported", env=cdk.Environment(account=account, region=region))
    arn = f"arn:aws:sns:{region}:{account}:ledger-alerts"
    construct = build(stack, sns.Topic.from_topic_arn(stack, "Topic", arn))
    template = Template.from_stack(stack)
    # THEN no policy is written for it, and the alarms still notify it
    assert template.find_resources("AWS::SNS::TopicPolicy") == {}
    resource = construct.alarms["history-mismatch"].node.default_child
    assert isinstance(resource, cloudwatch.CfnAlarm)
    alarm = template.to_json()["Resources"][stack.get_logical_id(resource)]
    assert (alarm["Properties"]["AlarmActions"], alarm["Properties"]["OKActions"]) == ([arn], [arn])


def test_a_stream_consumer_must_be_one_of_the_functions() -> None:
    stack = cdk.Stack(cdk.App(), "Unknown")
    with pytest.raises(ValueError, match=r"stream consumers that are not functions: \['ledger'\]"):
        LedgerAlarms(
            stack,
            "Alarms",
            topic=sns.Topic.from_topic_arn(stack, "Topic", "arn:aws:sns:eu-west-1:1:t"),
            http_api=apigwv2.HttpApi.from_http_api_attributes(stack, "Api", http_api_id=api_id),
            functions={},
            stream_consumers=["ledger"],
            dead_letter_queues={},
        )


def test_the_rule_packs_find_nothing(synthesized: Synthesized) -> None:
    # GIVEN AwsSolutions, Serverless and PCI DSS 3.2.1 over the construct and its topic
    # THEN nothing is found
    assert synthesized.findings == []
