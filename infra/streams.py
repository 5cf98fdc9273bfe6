"""The table's stream, read by each stream consumer through an event source mapping of its own.

Each mapping reports batch item failures, so a batch resumes at its first failed record;
a function error (a timeout, a crash) halves the batch until the failing record is alone.
What a mapping gives up goes to one on-failure queue: the batch's shard and sequence
numbers, not its records, which the stream keeps for 24 hours (docs/operations.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.compliance import acknowledge

# The stream keeps a record 24 hours; a failure notice outlives it, so an operator who
# reads it late still learns which records were given up (and rebuilds from the journal).
failure_retention = cdk.Duration.days(14)

# What a mapping's poller needs of the stream, on this table's stream only.
stream_actions = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)


@dataclass(frozen=True)
class StreamSettings:
    """How one consumer's mapping reads the stream and when it gives a batch up."""

    # Lambda's default for streams. A consumer writes at most one transaction per record,
    # so a batch's time grows with its size: lower it for a consumer near its timeout.
    batch_size: int = 100
    # Halving a batch uses up no retry. Ten retries of the failing record ride out a
    # throttle or a short outage of DynamoDB or EventBridge, then the batch is given up.
    retry_attempts: int = 10
    # A consumer behind by 6 hours is an incident long before (the iterator age alarm). What
    # it gives up then is still in the stream for 18 hours, to be read back and replayed.
    max_record_age: cdk.Duration = field(default_factory=lambda: cdk.Duration.hours(6))


# Every consumer takes the defaults unless the stack names it.
default_settings: Mapping[str, StreamSettings] = MappingProxyType({})


class StreamConsumers(Construct):
    """One mapping of the table's stream per consumer, all failing into one queue."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        consumers: Mapping[str, lambda_.IFunction],
        settings: Mapping[str, StreamSettings] = default_settings,
    ) -> None:
        super().__init__(scope, construct_id)
        unknown = set(settings) - set(consumers)
        if unknown:
            raise ValueError(f"stream settings for no consumer: {sorted(unknown)}")
        stream_arn = table.table_stream_arn
        if stream_arn is None:
            raise ValueError("the table has no stream to read")
        self.failures = sqs.Queue(
            self,
            "Failures",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=failure_retention,
        )
        acknowledge(
            self.failures,
            "AwsSolutions-SQS3",
            "The stream mappings' on-failure queue is itself the end of the line: it holds "
            "notices of given-up batches, which an operator reads and replays by hand.",
        )
        acknowledge(
            self.failures,
            "Serverless-SQSRedrivePolicy",
            "Nothing consumes the on-failure queue automatically, so no message can fail "
            "to be processed and need a redrive; its depth alarm calls an operator.",
        )
        self.mappings: dict[str, lambda_.EventSourceMapping] = {}
        for name, function in consumers.items():
            setting = settings.get(name, StreamSettings())
            function.add_to_role_policy(
                iam.PolicyStatement(actions=list(stream_actions), resources=[stream_arn])
            )
            self.mappings[name] = lambda_.EventSourceMapping(
                self,
                name,
                target=function,
                event_source_arn=stream_arn,
                starting_position=lambda_.StartingPosition.TRIM_HORIZON,
                batch_size=setting.batch_size,
                report_batch_item_failures=True,
                bisect_batch_on_error=True,
                retry_attempts=setting.retry_attempts,
                max_record_age=setting.max_record_age,
                on_failure=event_sources.SqsDlq(self.failures),
                # One batch per shard at a time. History and audit link each version of an
                # item to the one before it, and monitors and events follow an account's
                # versions in order. Above 1, Lambda keeps order per partition key only,
                # and a retried batch would race the shard's next batches.
                parallelization_factor=1,
            )
