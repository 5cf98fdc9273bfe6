"""Every function of the ledger: Python 3.14 on arm64, one role and one log group each.

The API and the authorizer answer people, so their cold start matters: each publishes a
version, and API Gateway calls the `live` alias of that version, restored from a SnapStart
snapshot (or kept warm by provisioned concurrency, which replaces SnapStart when asked for;
the two do not combine). The stream consumers and the jobs call `$LATEST`.

Each role holds only what its function does: its item keys on the table (`infra.access`),
writing to its own log group and sending traces. The constructs that feed or are fed by a
function (streams, queues, the bus) add their own grants.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.access import matrix, table_statements
from infra.compliance import acknowledge
from infra.keys import logs_key
from ledger.environment import table_name_variable

runtime = lambda_.Runtime.PYTHON_3_14
architecture = lambda_.Architecture.ARM_64
metrics_namespace = "ServerlessLedger"
alias_name = "live"


@dataclass(frozen=True)
class FunctionSpec:
    """How one function runs: its Powertools service, its memory and its time."""

    service: str
    memory_mb: int
    timeout: cdk.Duration
    description: str
    answers_people: bool = False
    scheduled: bool = False


# Memory buys CPU in Lambda: the API and the reconciliation run the most Python per call. The
# authorizer only reads one key item. bench/cost.py prices the API and authorizer at these.
specs: dict[str, FunctionSpec] = {
    # HTTP APIs give up on an integration after 30 s; the API's deadline follows its timeout.
    "api": FunctionSpec(
        "ledger", 1024, cdk.Duration.seconds(15), "Every route of the ledger's HTTP API", True
    ),
    "authorizer": FunctionSpec(
        "ledger", 256, cdk.Duration.seconds(5), "API key -> role, scope and key id", True
    ),
    "history": FunctionSpec(
        "ledger-consumers", 512, cdk.Duration.minutes(1), "Table stream -> history records"
    ),
    "audit": FunctionSpec(
        "ledger-consumers", 512, cdk.Duration.minutes(1), "Table stream -> the audit chain"
    ),
    "events": FunctionSpec(
        "ledger-consumers", 512, cdk.Duration.minutes(1), "Table stream -> EventBridge events"
    ),
    "monitors": FunctionSpec(
        "ledger-consumers", 512, cdk.Duration.minutes(1), "Table stream -> monitor crossings"
    ),
    "inbound": FunctionSpec(
        "ledger-consumers", 512, cdk.Duration.minutes(1), "Inbound events -> posting rules"
    ),
    "expiry": FunctionSpec(
        "ledger-jobs",
        512,
        cdk.Duration.minutes(5),
        "Expired holds voided, expiring ones noticed",
        scheduled=True,
    ),
    # It reconciles ledger after ledger within its time and resumes at its checkpoint.
    "reconciliation": FunctionSpec(
        "ledger-jobs",
        1024,
        cdk.Duration.minutes(15),
        "Every ledger reconciled in turn",
        scheduled=True,
    ),
    "external_balances": FunctionSpec(
        "ledger-jobs",
        512,
        cdk.Duration.minutes(5),
        "External balances checked against ledgers",
        scheduled=True,
    ),
}


@dataclass(frozen=True)
class ColdStart:
    """How the API and the authorizer start: from a SnapStart snapshot when `provisioned` is
    0, else from that many environments kept initialized per function."""

    provisioned: int = 0

    @property
    def snap_start(self) -> bool:
        """Whether the functions that answer people start from snapshots."""
        return self.provisioned == 0


class LedgerFunctions(Construct):
    """The functions, by name, and what API Gateway invokes for the two that answer people."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        code: Callable[[str], lambda_.Code],
        cold_start: ColdStart = ColdStart(),
        log_level: str = "INFO",
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
        environment: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.logs_key = logs_key(self, "logs-key", "Encrypts the ledger functions' logs")
        # Schedules invoke the jobs asynchronously: an invocation that still fails after
        # Lambda's two retries lands here, and its alarm says so. The jobs are safe to retry:
        # the voids are conditional and the reconciliation resumes at its checkpoint.
        self.job_failures = sqs.Queue(
            self,
            "job-failures",
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=cdk.Duration.days(14),
        )
        acknowledge(
            self.job_failures,
            "Serverless-SQSRedrivePolicy",
            "The queue is itself where failed job invocations end; each message records "
            "one failed run for an operator, nothing consumes it to fail again",
        )
        self.functions: dict[str, lambda_.Function] = {}
        self.log_groups: dict[str, logs.LogGroup] = {}
        self.aliases: dict[str, lambda_.Alias] = {}
        extra = environment or {}
        for name, spec in specs.items():
            log_group = logs.LogGroup(
                self,
                f"{name}-logs",
                retention=log_retention,
                encryption_key=self.logs_key,
                # The logs of a deleted stack stay for their retention: they may be evidence.
                removal_policy=cdk.RemovalPolicy.RETAIN,
            )
            role = function_role(self, name, table, log_group)
            function = lambda_.Function(
                self,
                name,
                runtime=runtime,
                architecture=architecture,
                handler=f"functions.{name}.handler.lambda_handler",
                code=code(name),
                description=spec.description,
                memory_size=spec.memory_mb,
                timeout=spec.timeout,
                role=role,
                log_group=log_group,
                tracing=lambda_.Tracing.ACTIVE,
                environment={
                    table_name_variable: table.table_name,
                    "POWERTOOLS_SERVICE_NAME": spec.service,
                    "POWERTOOLS_LOG_LEVEL": log_level,
                    "POWERTOOLS_METRICS_NAMESPACE": metrics_namespace,
                    **extra.get(name, {}),
                },
                dead_letter_queue=self.job_failures if spec.scheduled else None,
                snap_start=(
                    lambda_.SnapStartConf.ON_PUBLISHED_VERSIONS
                    if spec.answers_people and cold_start.snap_start
                    else None
                ),
            )
            acknowledge(
                function,
                "PCI.DSS.321-LambdaInsideVPC",
                "The ledger's functions reach only DynamoDB, EventBridge, SQS and X-Ray, "
                "through their public endpoints over TLS, signed by their roles; the ledger "
                "holds no resource inside a VPC that a function would need to reach",
            )
            acknowledge(
                function,
                "NIST.800.53.R5-LambdaInsideVPC",
                "The ledger's functions reach only AWS service endpoints (see the PCI finding)",
            )
            if not spec.scheduled:
                acknowledge(
                    function,
                    "Serverless-LambdaDLQ",
                    "Nothing invokes this function asynchronously: API Gateway calls it and "
                    "waits, or an event source mapping does, whose failures go to the "
                    "mapping's own on-failure queue",
                )
            drop_role_dependency(function, role)
            self.functions[name] = function
            self.log_groups[name] = log_group
            if spec.answers_people:
                if cold_start.snap_start:
                    acknowledge(
                        function,
                        "@aws-cdk/aws-lambda:snapStartRequirePublish",
                        "The function's current version is published with every change, and "
                        "its live alias, the one API Gateway calls, points at it",
                    )
                self.aliases[name] = lambda_.Alias(
                    self,
                    f"{name}-alias",
                    alias_name=alias_name,
                    version=function.current_version,
                    provisioned_concurrent_executions=cold_start.provisioned or None,
                )

    def entry_point(self, name: str) -> lambda_.IFunction:
        """What callers invoke: the live alias of a function that answers people, else the
        function itself."""
        return self.aliases.get(name) or self.functions[name]


def drop_role_dependency(function: lambda_.Function, role: iam.Role) -> None:
    """Keep only the function's dependency on its role's policy: the CDK also makes it depend
    on the role, which its `Role` attribute already implies (cfn-lint W3005). This replaces
    the function's whole DependsOn: a dependency added to the function later would be lost,
    and tests/infra/test_template.py lints the template for what that would break."""
    resource = function.node.default_child
    policy = role.node.try_find_child("DefaultPolicy")
    assert isinstance(resource, lambda_.CfnFunction)
    assert isinstance(policy, iam.Policy)
    policy_resource = policy.node.default_child
    assert isinstance(policy_resource, iam.CfnPolicy)
    stack = cdk.Stack.of(function)
    resource.add_override("DependsOn", [stack.resolve(stack.get_logical_id(policy_resource))])


def function_role(
    scope: Construct, name: str, table: dynamodb.ITable, log_group: logs.ILogGroup
) -> iam.Role:
    """A function's role: its rights on the table, its log group and its traces, nothing else
    (no managed policy: AWSLambdaBasicExecutionRole would let it write any log group)."""
    role = iam.Role(
        scope,
        f"{name}-role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=f"The ledger's {name} function",
    )
    for statement in table_statements(name, table):
        role.add_to_policy(statement)
    role.add_to_policy(
        iam.PolicyStatement(
            actions=["logs:CreateLogStream", "logs:PutLogEvents"],
            resources=[log_group.log_group_arn, f"{log_group.log_group_arn}:log-stream:*"],
        )
    )
    stack = cdk.Stack.of(scope)
    table_resource = table.node.default_child
    log_group_resource = log_group.node.default_child
    assert isinstance(table_resource, cdk.CfnElement)
    assert isinstance(log_group_resource, cdk.CfnElement)
    table_id = stack.resolve(stack.get_logical_id(table_resource))
    log_group_id = stack.resolve(stack.get_logical_id(log_group_resource))
    acknowledge(
        role,
        "AwsSolutions-IAM5[Resource::*]",
        "X-Ray's PutTraceSegments and PutTelemetryRecords take no resource: IAM accepts "
        "only '*' for them",
    )
    acknowledge(
        role,
        f"AwsSolutions-IAM5[Resource::<{log_group_id}.Arn>:log-stream:*]",
        "Lambda names a log stream per execution environment; the wildcard stays inside "
        "the function's own log group",
    )
    if not matrix[name].key_reads:
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::<{table_id}.Arn>/index/*]",
            "The reads go to the ledger table's own keys-only indexes, whose names the "
            "table definition owns",
        )
    acknowledge(
        role,
        "PCI.DSS.321-IAMNoInlinePolicy",
        "The policy belongs to this one role, which belongs to this one function; a "
        "managed policy would hold the same statements under a second name",
    )
    return role
