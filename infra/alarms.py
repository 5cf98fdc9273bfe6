"""The ledger's alarms, sent to the alerts topic, and its dashboard.

Each alarm has a stable name: its key in `LedgerAlarms.alarms`, the end of its CloudWatch
name, and the heading of its section in docs/runbook.md, which its description names.
The ledger's own metrics are EMF metrics in the `ServerlessLedger` namespace; powertools
gives each the dimension `service` of the function family that emits it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

namespace = "ServerlessLedger"
api_service = "ledger"
consumers_service = "ledger-consumers"
jobs_service = "ledger-jobs"
runbook = "docs/runbook.md"

# Invoked by a schedule: between two runs there is no datapoint, and the alarm keeps the
# state the last run left it in.
scheduled_jobs = frozenset({"expiry", "reconciliation", "external_balances"})

# The share of API requests answered 5xx, in percent, that is no longer noise: 503s of
# contention on a hot account land here too (docs/operations.md, "Hot accounts").
api_5xx_percent = 1
# How far a stream consumer may fall behind the table. The history consumer feeds the
# account listings and past balances, so a minute behind is already visible to callers.
iterator_age_ms = 60_000

one_minute = cdk.Duration.minutes(1)
five_minutes = cdk.Duration.minutes(5)


@dataclass(frozen=True)
class LedgerMetric:
    """A metric the ledger's functions emit: its name, its `service`, any other dimensions."""

    name: str
    service: str
    dimensions: tuple[tuple[str, str], ...] = ()

    def metric(self, *, label: str | None = None) -> cloudwatch.Metric:
        """The metric as CloudWatch knows it, summed over five minutes."""
        return cloudwatch.Metric(
            namespace=namespace,
            metric_name=self.name,
            dimensions_map={"service": self.service, **dict(self.dimensions)},
            statistic="Sum",
            period=five_minutes,
            label=label,
        )


@dataclass(frozen=True)
class Invariant:
    """A count of the ledger that must stay 0: any value is an alarm."""

    metric: LedgerMetric
    meaning: str
    scheduled: bool = False


external = (("check", "external"),)

invariants: dict[str, Invariant] = {
    "reconciliation-mismatches": Invariant(
        LedgerMetric("ReconciliationMismatches", jobs_service),
        "The scheduled reconciliation found accounts that disagree with their entries",
        scheduled=True,
    ),
    "external-balance-mismatches": Invariant(
        LedgerMetric("ReconciliationMismatches", jobs_service, external),
        "A scheduled external balance check is outside its tolerance",
        scheduled=True,
    ),
    "external-source-failures": Invariant(
        LedgerMetric("ExternalSourceFailures", jobs_service, external),
        "A source of the scheduled external balance checks gave no balance",
        scheduled=True,
    ),
    "api-reconciliation-mismatches": Invariant(
        LedgerMetric("ReconciliationMismatches", api_service),
        "A reconciliation or an external balance check through the API found a mismatch",
    ),
    "history-mismatch": Invariant(
        LedgerMetric("HistoryMismatch", consumers_service),
        "A balance change does not match the lines of its entries",
    ),
    "financial-item-removed": Invariant(
        LedgerMetric("FinancialItemRemoved", consumers_service),
        "An account, entry, history or audit item was deleted from the table",
    ),
    "audit-record-conflict": Invariant(
        LedgerMetric("AuditRecordConflict", consumers_service),
        "An audit record differs from the one already stored for its version",
    ),
    "audit-chain-broken": Invariant(
        LedgerMetric("AuditChainBroken", api_service),
        "An audit chain verification through the API did not hold",
    ),
    "audit-digest-mismatch": Invariant(
        LedgerMetric("AuditDigestMismatch", api_service),
        "An audit digest verification through the API did not hold",
    ),
    "guard-mismatch": Invariant(
        LedgerMetric("GuardMismatch", api_service),
        "DynamoDB refused a condition that the ledger's own check finds no fault with",
    ),
    "imbalanced-entries": Invariant(
        LedgerMetric("ImbalancedEntries", api_service),
        "The API planned an entry whose debits and credits differ",
    ),
}

# Counts for the dashboard alone: what the ledger does, and what it refuses.
activity: dict[str, tuple[LedgerMetric, ...]] = {
    "Entries": (
        LedgerMetric("EntriesWritten", api_service),
        LedgerMetric("Replays", api_service),
    ),
    "Refusals and contention": (
        LedgerMetric("InsufficientFunds", api_service),
        LedgerMetric("Conflicts", api_service),
    ),
    "Events": (
        LedgerMetric("EventsPublished", consumers_service),
        LedgerMetric("EventsUnpublished", consumers_service),
        LedgerMetric("MonitorCrossings", consumers_service),
        LedgerMetric("MonitorEntryEvents", consumers_service),
    ),
    "Inbound events": (
        LedgerMetric("InboundPosted", consumers_service),
        LedgerMetric("InboundReplayed", consumers_service),
    ),
    "Scheduled jobs": (
        LedgerMetric("LedgersReconciled", jobs_service),
        LedgerMetric("LedgersTooLarge", jobs_service),
        LedgerMetric("PendingExpired", jobs_service),
        LedgerMetric("ExpiringNoticed", jobs_service),
        LedgerMetric("ExternalChecks", jobs_service, external),
    ),
}


@dataclass(frozen=True)
class Searched:
    """Metrics with a dimension per value (a refusal code, a ledger and currency): the
    dashboard finds their series with a SEARCH, which draws at most 500 of them."""

    dimensions: tuple[str, ...]
    statistic: str
    metrics: tuple[LedgerMetric, ...]

    def expression(self, metric: LedgerMetric) -> cloudwatch.MathExpression:
        """Every series of `metric`, whatever the values of the dimensions, each labelled
        with its values."""
        schema = ",".join((namespace, *sorted((*self.dimensions, "service"))))
        values = " ".join(f"${{PROP('Dim.{dimension}')}}" for dimension in self.dimensions)
        return cloudwatch.MathExpression(
            expression=(
                f'SEARCH(\'{{{schema}}} MetricName="{metric.name}" '
                f"service=\"{metric.service}\"', '{self.statistic}', "
                f"{int(five_minutes.to_seconds())})"
            ),
            label=f"{metric.name} {values}",
            period=five_minutes,
        )


searched: dict[str, Searched] = {
    "Inbound refusals by code": Searched(
        ("code",), "Sum", (LedgerMetric("InboundRefused", consumers_service),)
    ),
    # The last value of each run: integers of minor units, as the reconciliation emits them.
    "Balances per ledger and currency (minor units)": Searched(
        ("ledger_id", "currency"),
        "Maximum",
        (
            LedgerMetric("Available", jobs_service),
            LedgerMetric("Pending", jobs_service),
            LedgerMetric("Escrowed", jobs_service),
        ),
    ),
}


def section(name: str) -> str:
    """Where the runbook says what to do about the alarm `name`."""
    return f"{runbook}#{name}"


class LedgerAlarms(Construct):
    """Every alarm of the ledger, each to `topic` when it fires and when it clears, and one
    dashboard of the API, the functions, the queues and the ledger's own counts."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        topic: sns.ITopic,
        http_api: apigwv2.IHttpApi,
        functions: Mapping[str, lambda_.IFunction],
        stream_consumers: Sequence[str],
        dead_letter_queues: Mapping[str, sqs.IQueue],
    ) -> None:
        super().__init__(scope, construct_id)
        unknown = set(stream_consumers) - set(functions)
        if unknown:
            raise ValueError(f"stream consumers that are not functions: {sorted(unknown)}")
        self._topic = topic
        self._action = cloudwatch_actions.SnsAction(topic)
        self.alarms: dict[str, cloudwatch.Alarm] = {}
        self._allow_alarms_to_publish()

        server_errors = http_api.metric_server_error(period=one_minute, statistic="Sum")
        requests = http_api.metric_count(period=one_minute, statistic="Sum")
        self._alarm(
            "api-5xx",
            cloudwatch.MathExpression(
                expression="IF(requests > 0, 100 * server_errors / requests, 0)",
                using_metrics={"server_errors": server_errors, "requests": requests},
                label="5xx answers (% of requests)",
                period=one_minute,
            ),
            f"At least {api_5xx_percent}% of the HTTP API's answers were 5xx in 3 of 5 minutes",
            threshold=api_5xx_percent,
            evaluation_periods=5,
            datapoints_to_alarm=3,
        )
        for name, function in functions.items():
            self._alarm(
                f"errors-{name}",
                function.metric_errors(period=five_minutes, statistic="Sum"),
                f"The {name} function failed an invocation",
                missing=self._between_runs(name in scheduled_jobs),
            )
            self._alarm(
                f"throttles-{name}",
                function.metric_throttles(period=one_minute, statistic="Sum"),
                f"Lambda throttled the {name} function in 2 of 5 minutes",
                evaluation_periods=5,
                datapoints_to_alarm=2,
            )
        for name in stream_consumers:
            self._alarm(
                f"iterator-age-{name}",
                self._iterator_age(functions[name]),
                f"The {name} consumer is over {iterator_age_ms // 1000} s behind the table's "
                "stream in 3 of 5 minutes",
                threshold=iterator_age_ms,
                evaluation_periods=5,
                datapoints_to_alarm=3,
            )
        for purpose, queue in dead_letter_queues.items():
            self._alarm(
                f"dlq-{purpose}",
                queue.metric_approximate_number_of_messages_visible(
                    period=one_minute, statistic="Maximum"
                ),
                f"Messages are waiting in the {purpose} dead-letter queue",
            )
        for name, invariant in invariants.items():
            self._alarm(
                name,
                invariant.metric.metric(),
                invariant.meaning,
                missing=self._between_runs(invariant.scheduled),
            )

        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", default_interval=cdk.Duration.hours(3)
        )
        self._add_api_widgets(http_api)
        self._add_function_widgets(functions, stream_consumers)
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Dead-letter queues: messages waiting",
                left=[
                    queue.metric_approximate_number_of_messages_visible(
                        period=one_minute, statistic="Maximum", label=purpose
                    )
                    for purpose, queue in dead_letter_queues.items()
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Must stay 0",
                left=[
                    invariant.metric.metric(label=name) for name, invariant in invariants.items()
                ],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            *(
                cloudwatch.GraphWidget(
                    title=title, left=[metric.metric() for metric in metrics], width=8
                )
                for title, metrics in activity.items()
            )
        )
        self.dashboard.add_widgets(
            *(
                cloudwatch.GraphWidget(
                    title=title,
                    left=[found.expression(metric) for metric in found.metrics],
                    width=12,
                )
                for title, found in searched.items()
            )
        )

    def _allow_alarms_to_publish(self) -> None:
        """Let this account's alarms publish to the topic, and use its key if it has one.
        A topic made elsewhere keeps its own policies: both calls then change nothing. So
        does a topic encrypted with the AWS managed key `alias/aws/sns`, whose policy
        CloudWatch is not in: alarms cannot publish to such a topic at all."""
        stack = cdk.Stack.of(self)
        principal = iam.ServicePrincipal("cloudwatch.amazonaws.com")
        conditions = {
            "ArnLike": {
                "aws:SourceArn": stack.format_arn(
                    service="cloudwatch",
                    resource="alarm",
                    resource_name="*",
                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                )
            },
            "StringEquals": {"aws:SourceAccount": stack.account},
        }
        self._topic.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[principal],
                actions=["sns:Publish"],
                resources=[self._topic.topic_arn],
                conditions=conditions,
            )
        )
        key = self._topic.master_key
        if key is not None:
            # As CloudWatch documents it, without conditions: SNS uses the key on the alarm's
            # behalf, and only the topic policy above decides whose alarms may publish.
            key.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[principal],
                    actions=["kms:Decrypt", "kms:GenerateDataKey*"],
                    resources=["*"],
                )
            )

    @staticmethod
    def _between_runs(scheduled: bool) -> cloudwatch.TreatMissingData:
        """A scheduled function's metric has no datapoint between runs: the alarm keeps the
        last run's state. Anything else without a datapoint has nothing to report."""
        if scheduled:
            return cloudwatch.TreatMissingData.IGNORE
        return cloudwatch.TreatMissingData.NOT_BREACHING

    @staticmethod
    def _iterator_age(
        function: lambda_.IFunction, *, label: str | None = None
    ) -> cloudwatch.Metric:
        """How old the last record of a batch was when the consumer got it (ms)."""
        return function.metric("IteratorAge", period=one_minute, statistic="Maximum", label=label)

    def _alarm(
        self,
        name: str,
        metric: cloudwatch.IMetric,
        meaning: str,
        *,
        threshold: float = 1,
        evaluation_periods: int = 1,
        datapoints_to_alarm: int | None = None,
        missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> None:
        """One alarm on `metric` at `threshold` or more, to the topic as it fires and clears."""
        alarm = cloudwatch.Alarm(
            self,
            name,
            alarm_name=f"{cdk.Aws.STACK_NAME}-{name}",
            alarm_description=f"{meaning}. Runbook: {section(name)}",
            metric=metric,
            threshold=threshold,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints_to_alarm,
            treat_missing_data=missing,
        )
        alarm.add_alarm_action(self._action)
        alarm.add_ok_action(self._action)
        self.alarms[name] = alarm

    def _add_api_widgets(self, http_api: apigwv2.IHttpApi) -> None:
        """The API's traffic, latency and errors, as API Gateway counts them."""
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="API requests",
                left=[http_api.metric_count(period=one_minute, statistic="Sum")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="API latency (ms)",
                left=[
                    http_api.metric_latency(period=one_minute, statistic=statistic)
                    for statistic in ("p50", "p99")
                ]
                + [http_api.metric_integration_latency(period=one_minute, statistic="p99")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="API answers 4xx and 5xx",
                left=[
                    http_api.metric_client_error(period=one_minute, statistic="Sum"),
                    http_api.metric_server_error(period=one_minute, statistic="Sum"),
                ],
                width=8,
            ),
        )

    def _add_function_widgets(
        self, functions: Mapping[str, lambda_.IFunction], stream_consumers: Sequence[str]
    ) -> None:
        """How far behind the stream consumers are, and every function's health."""
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Stream consumers: iterator age (ms)",
                left=[self._iterator_age(functions[name], label=name) for name in stream_consumers],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Stream consumers: errors",
                left=[
                    functions[name].metric_errors(period=one_minute, statistic="Sum", label=name)
                    for name in stream_consumers
                ],
                width=12,
            ),
        )
        self.dashboard.add_widgets(
            *(
                cloudwatch.GraphWidget(
                    title=f"Functions: {title}",
                    left=[
                        getattr(function, metric)(
                            period=one_minute, statistic=statistic, label=name
                        )
                        for name, function in functions.items()
                    ],
                    width=8,
                )
                for title, metric, statistic in (
                    ("errors", "metric_errors", "Sum"),
                    ("throttles", "metric_throttles", "Sum"),
                    ("duration p99 (ms)", "metric_duration", "p99"),
                )
            )
        )
