"""The table's stream mappings: one per consumer, bounded, in order, failing into one queue."""

from __future__ import annotations

import os

# The jsii node process that `import aws_cdk` starts inherits these; without them it prints a
# banner about the machine's Node 20 being past jsii's support window.
os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk.assertions import Match, Template
from stand_ins import stand_in_function, streamed_table

from infra.compliance import Finding, add_rule_packs, synthesize_checked
from infra.streams import StreamConsumers, StreamSettings

# One pytest worker synthesizes the stack once, rather than each worker on its own.
pytestmark = pytest.mark.xdist_group("cdk")

consumer_names = ("history", "audit", "events", "monitors")
audit_settings = StreamSettings(
    batch_size=25, retry_attempts=4, max_record_age=cdk.Duration.hours(2)
)


@dataclass(frozen=True)
class Synthesized:
    template: Template
    findings: list[Finding]
    stack: cdk.Stack
    streams: StreamConsumers
    table: dynamodb.Table


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """The stream mappings of four consumers, one with settings of its own, synthesized once
    under the rule packs."""
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("streams")))
    add_rule_packs(app)
    stack = cdk.Stack(app, "StreamsTest")
    table = streamed_table(stack, "Table")
    consumers = {name: stand_in_function(stack, name) for name in consumer_names}
    streams = StreamConsumers(
        stack, "Streams", table=table, consumers=consumers, settings={"audit": audit_settings}
    )
    findings = synthesize_checked(app)
    return Synthesized(Template.from_stack(stack), findings, stack, streams, table)


def _ref(synthesized: Synthesized, construct: Any) -> str:
    return synthesized.stack.get_logical_id(construct.node.default_child)


def _mapping(synthesized: Synthesized, name: str) -> dict[str, Any]:
    mapping = synthesized.streams.mappings[name]
    resources = synthesized.template.find_resources("AWS::Lambda::EventSourceMapping")
    return dict(resources[_ref(synthesized, mapping)]["Properties"])


def _role_statements(synthesized: Synthesized, function: str) -> list[dict[str, Any]]:
    """The statements of the default policy of one consumer's role."""
    policies = synthesized.template.find_resources("AWS::IAM::Policy")
    (policy,) = [
        resource
        for logical_id, resource in policies.items()
        if logical_id.startswith(f"{function}ServiceRoleDefaultPolicy")
    ]
    return list(policy["Properties"]["PolicyDocument"]["Statement"])


def test_one_mapping_per_consumer_on_the_table_s_stream(synthesized: Synthesized) -> None:
    # GIVEN four consumers WHEN the mappings are synthesized
    mappings = synthesized.template.find_resources("AWS::Lambda::EventSourceMapping")
    # THEN each consumer has exactly one, reading the table's stream into its own function
    assert set(synthesized.streams.mappings) == set(consumer_names)
    assert len(mappings) == len(consumer_names)
    table_id = _ref(synthesized, synthesized.table)
    for name in consumer_names:
        properties = _mapping(synthesized, name)
        assert properties["EventSourceArn"] == {"Fn::GetAtt": [table_id, "StreamArn"]}
        function_id = _ref(synthesized, synthesized.stack.node.find_child(name))
        assert properties["FunctionName"] == {"Ref": function_id}


def test_every_mapping_reports_failures_bisects_and_keeps_shard_order(
    synthesized: Synthesized,
) -> None:
    for name in consumer_names:
        properties = _mapping(synthesized, name)
        assert properties["FunctionResponseTypes"] == ["ReportBatchItemFailures"], name
        assert properties["BisectBatchOnFunctionError"] is True, name
        assert properties["StartingPosition"] == "TRIM_HORIZON", name
        assert properties["ParallelizationFactor"] == 1, name


def test_defaults_bound_retries_and_record_age(synthesized: Synthesized) -> None:
    # GIVEN consumers without settings of their own
    defaults = StreamSettings()
    for name in ("history", "events", "monitors"):
        properties = _mapping(synthesized, name)
        # THEN they give a batch up after bounded retries and age, well within the stream's day
        assert properties["BatchSize"] == defaults.batch_size == 100
        assert properties["MaximumRetryAttempts"] == defaults.retry_attempts == 10
        assert properties["MaximumRecordAgeInSeconds"] == 6 * 3600
        assert defaults.max_record_age.to_seconds() < 24 * 3600


def test_a_consumer_s_own_settings_apply_to_its_mapping_only(synthesized: Synthesized) -> None:
    properties = _mapping(synthesized, "audit")
    assert properties["BatchSize"] == 25
    assert properties["MaximumRetryAttempts"] == 4
    assert properties["MaximumRecordAgeInSeconds"] == 2 * 3600
    assert _mapping(synthesized, "history")["BatchSize"] == 100


def test_every_mapping_fails_into_the_failures_queue(synthesized: Synthesized) -> None:
    queue_id = _ref(synthesized, synthesized.streams.failures)
    for name in consumer_names:
        destination = _mapping(synthesized, name)["DestinationConfig"]
        assert destination == {"OnFailure": {"Destination": {"Fn::GetAtt": [queue_id, "Arn"]}}}, (
            name
        )


def test_the_failures_queue_is_encrypted_tls_only_and_kept_two_weeks(
    synthesized: Synthesized,
) -> None:
    queue_id = _ref(synthesized, synthesized.streams.failures)
    queue = synthesized.template.find_resources("AWS::SQS::Queue")[queue_id]
    assert queue["Properties"]["SqsManagedSseEnabled"] is True
    assert queue["Properties"]["MessageRetentionPeriod"] == 14 * 24 * 3600
    synthesized.template.has_resource_properties(
        "AWS::SQS::QueuePolicy",
        {
            "Queues": [{"Ref": queue_id}],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "sqs:*",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        )
                    ]
                )
            },
        },
    )


def test_each_consumer_reads_this_stream_and_sends_to_this_queue_only(
    synthesized: Synthesized,
) -> None:
    table_id = _ref(synthesized, synthesized.table)
    queue_id = _ref(synthesized, synthesized.streams.failures)
    for name in consumer_names:
        statements = _role_statements(synthesized, name)
        by_resource = {str(statement["Resource"]): statement for statement in statements}
        stream = by_resource[str({"Fn::GetAtt": [table_id, "StreamArn"]})]
        assert set(stream["Action"]) == {
            "dynamodb:DescribeStream",
            "dynamodb:GetRecords",
            "dynamodb:GetShardIterator",
            "dynamodb:ListStreams",
        }
        failures = by_resource[str({"Fn::GetAtt": [queue_id, "Arn"]})]
        assert "sqs:SendMessage" in failures["Action"]
        # Nothing else: no table rights, no other resource, no wildcard.
        assert len(statements) == 2, name


def test_settings_for_an_unknown_consumer_are_refused() -> None:
    stack = cdk.Stack(cdk.App(), "Unknown")
    table = streamed_table(stack, "Table")
    with pytest.raises(ValueError, match="ledger-audit"):
        StreamConsumers(
            stack,
            "Streams",
            table=table,
            consumers={"audit": stand_in_function(stack, "audit")},
            settings={"ledger-audit": StreamSettings()},
        )


def test_a_table_without_a_stream_is_refused() -> None:
    stack = cdk.Stack(cdk.App(), "Unstreamed")
    table = dynamodb.Table(
        stack,
        "Table",
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
    )
    with pytest.raises(ValueError, match="no stream"):
        StreamConsumers(
            stack, "Streams", table=table, consumers={"audit": stand_in_function(stack, "audit")}
        )


def test_rule_packs_find_nothing_unacknowledged(synthesized: Synthesized) -> None:
    # GIVEN the mappings with stand-in functions WHEN checked against the three packs
    # THEN nothing is left: the failures queue's acknowledgments say why each rule is moot
    assert synthesized.findings == []
