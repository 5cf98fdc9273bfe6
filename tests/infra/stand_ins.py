"""Plain functions and a table for testing one construct in a stack of its own."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.compliance import acknowledge

# What the stack's real functions settle themselves (their roles, tracing, network), and
# these stand-ins leave out.
stand_in_rules = (
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
    "AWSLambdaBasicExecutionRole]",
    "PCI.DSS.321-IAMNoInlinePolicy",
    "PCI.DSS.321-LambdaInsideVPC",
    "Serverless-LambdaDLQ",
    "Serverless-LambdaTracing",
)
stand_in_timeout = cdk.Duration.seconds(30)


def stand_in_function(
    scope: Construct, construct_id: str, *, timeout: cdk.Duration | None = stand_in_timeout
) -> lambda_.Function:
    """A function that does nothing, on the runtime and architecture of the ledger's."""
    function = lambda_.Function(
        scope,
        construct_id,
        code=lambda_.Code.from_inline("def h(e, c): pass"),
        runtime=lambda_.Runtime.PYTHON_3_14,
        architecture=lambda_.Architecture.ARM_64,
        handler="index.h",
        memory_size=256,
        timeout=timeout,
    )
    for rule in stand_in_rules:
        acknowledge(function, rule, "A stand-in: the stack's own function settles this rule.")
    if timeout is None:
        acknowledge(
            function,
            "Serverless-LambdaDefaultTimeout",
            "A stand-in for a function that leaves Lambda's default timeout.",
        )
    return function


def streamed_table(scope: Construct, construct_id: str) -> dynamodb.Table:
    """A table with a stream of new and old images, as the ledger's."""
    return dynamodb.Table(
        scope,
        construct_id,
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
        stream=dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
        point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
            point_in_time_recovery_enabled=True
        ),
    )
