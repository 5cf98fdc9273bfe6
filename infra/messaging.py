"""Events out (the bus, its archive, alerts and webhooks), events in (the inbound queue) and
the schedules of the jobs.

Every queue here is encrypted by SQS and refuses requests without TLS. The alerts topic is
encrypted with a key of the stack's own, which EventBridge and CloudWatch may use to
publish to it (docs/events.md, docs/inbound-events.md, docs/operations.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.compliance import acknowledge
from ledger.consumers.dead_letters import queue_url_variable
from ledger.consumers.events import bus_name_variable
from ledger.domain import events as ledger_events

# SQS keeps a message at most 14 days. A dead letter keeps the time it was first sent, so
# the queue it came from keeps messages a week: a dead letter still has a week to be read.
dead_letter_retention = cdk.Duration.days(14)
inbound_retention = cdk.Duration.days(7)
# Lambda's default timeout, for a consumer that sets none.
lambda_default_timeout = cdk.Duration.seconds(3)
# AWS's guidance for an SQS event source: the queue hides a received message for 6 times
# the function's timeout, so a batch still being retried is not delivered twice meanwhile.
visibility_per_timeout = 6
# An inbound event failing 5 receives (contention, throttling, an outage) is moved aside
# rather than retried for the queue's whole week.
inbound_receives_max = 5
# Up to 10 messages per invocation: each is its own entry, and a partial batch response
# returns only the failed ones.
inbound_batch_size = 10

default_archive_retention = cdk.Duration.days(365)
# An alert EventBridge cannot hand to SNS within the hour is a broken topic or key policy,
# not a passing fault: it goes to the dead-letter queue, whose depth alarm calls someone.
alert_retry_attempts = 8
alert_max_event_age = cdk.Duration.hours(1)
# A webhook's endpoint may be down for a deploy or a short outage; after 4 hours its events
# go to the dead-letter queue, from where they are sent again once it is back.
webhook_retry_attempts = 30
webhook_max_event_age = cdk.Duration.hours(4)
# API destinations accept 1 to 300 invocations per second.
webhook_rate_max = 300
webhook_name = re.compile(r"[A-Za-z][A-Za-z0-9]{0,63}")
secret_arn = re.compile(r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:.+")

default_expiry_every = cdk.Duration.minutes(1)
default_reconciliation_every = cdk.Duration.hours(1)
default_external_every = cdk.Duration.hours(1)
# EventBridge delivers a scheduled event at most 24 hours late and retries it at most 185
# times; a run later than its period is worth nothing, as the next one is due.
schedule_retry_attempts = 3
schedule_every_min = cdk.Duration.minutes(1)
schedule_every_max = cdk.Duration.hours(24)

# The services that publish to the alerts topic, and so must encrypt with its key.
alert_publishers = ("events.amazonaws.com", "cloudwatch.amazonaws.com")
alert_key_actions = ("kms:Decrypt", "kms:GenerateDataKey*")


def _queue(
    scope: Construct,
    construct_id: str,
    *,
    retention_period: cdk.Duration,
    visibility_timeout: cdk.Duration | None = None,
    dead_letter_queue: sqs.DeadLetterQueue | None = None,
) -> sqs.Queue:
    """A queue encrypted by SQS that refuses requests without TLS."""
    return sqs.Queue(
        scope,
        construct_id,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=retention_period,
        visibility_timeout=visibility_timeout,
        dead_letter_queue=dead_letter_queue,
    )


def _dead_letter_queue(scope: Construct, construct_id: str, consumed_by: str) -> sqs.Queue:
    """A queue at the end of the line: nothing reads it but an operator, told by its alarm."""
    queue = _queue(scope, construct_id, retention_period=dead_letter_retention)
    acknowledge(
        queue,
        "AwsSolutions-SQS3",
        f"This queue is the dead-letter queue of {consumed_by}; its messages are read and "
        "sent again by an operator, never by a function.",
    )
    acknowledge(
        queue,
        "Serverless-SQSRedrivePolicy",
        f"No function consumes the dead-letter queue of {consumed_by}, so no message can "
        "fail there and need a redrive.",
    )
    return queue


@dataclass(frozen=True)
class Webhook:
    """HTTP delivery of chosen ledger events to one endpoint, through an API destination."""

    name: str
    endpoint: str
    detail_types: tuple[str, ...]
    # A Secrets Manager secret whose plain string value is sent in `header`.
    secret_arn: str
    header: str = "Authorization"
    rate_per_s: int = 10

    def __post_init__(self) -> None:
        if not webhook_name.fullmatch(self.name):
            raise ValueError(f"webhook name must be 1 to 64 letters or digits: {self.name!r}")
        address = urlsplit(self.endpoint)
        if address.scheme != "https" or not address.hostname:
            raise ValueError(f"webhook {self.name}: endpoint must be an https URL")
        unknown = set(self.detail_types) - set(ledger_events.detail_types)
        if not self.detail_types or unknown:
            raise ValueError(
                f"webhook {self.name}: detail_types must name ledger events, not {sorted(unknown)}"
            )
        if not secret_arn.fullmatch(self.secret_arn):
            raise ValueError(f"webhook {self.name}: secret_arn must be a Secrets Manager ARN")
        if not self.header.strip():
            raise ValueError(f"webhook {self.name}: header must name an HTTP header")
        if not 1 <= self.rate_per_s <= webhook_rate_max:
            raise ValueError(f"webhook {self.name}: rate_per_s must be 1 to {webhook_rate_max}")


class LedgerEvents(Construct):
    """The ledger's bus, its archive, the alerts topic and the webhooks."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        publisher: lambda_.Function,
        webhooks: Sequence[Webhook] = (),
        archive_retention: cdk.Duration = default_archive_retention,
    ) -> None:
        super().__init__(scope, construct_id)
        names = [webhook.name for webhook in webhooks]
        if len(set(names)) != len(names):
            raise ValueError(f"webhook names must be unique: {names}")
        stack = cdk.Stack.of(self)
        self.bus = events.EventBus(self, "Bus")
        publisher.add_environment(bus_name_variable, self.bus.event_bus_name)
        self.bus.grant_put_events_to(publisher)
        self.archive = events.Archive(
            self,
            "Archive",
            source_event_bus=self.bus,
            event_pattern=events.EventPattern(source=[ledger_events.source]),
            retention=archive_retention,
            description="Every ledger event, to be replayed onto the bus",
        )

        self.key = kms.Key(
            self,
            "AlertsKey",
            enable_key_rotation=True,
            description="Encrypts the ledger's alerts topic",
        )
        # The topic's policy decides who publishes; the key only has to serve them.
        for service in alert_publishers:
            self.key.add_to_resource_policy(
                iam.PolicyStatement(
                    principals=[iam.ServicePrincipal(service)],
                    actions=list(alert_key_actions),
                    resources=["*"],
                )
            )
        self.alerts = sns.Topic(self, "Alerts", master_key=self.key, enforce_ssl=True)
        self.alerts.add_to_resource_policy(
            iam.PolicyStatement(
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.alerts.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
            )
        )
        self.alert_dead_letters = _dead_letter_queue(self, "AlertDeadLetters", "the alerts rule")
        events.Rule(
            self,
            "MonitorAlerts",
            event_bus=self.bus,
            description="Monitor crossings to the alerts topic",
            event_pattern=events.EventPattern(
                source=[ledger_events.source],
                detail_type=[ledger_events.monitor_triggered, ledger_events.monitor_resolved],
            ),
            targets=[
                targets.SnsTopic(
                    self.alerts,
                    dead_letter_queue=self.alert_dead_letters,
                    retry_attempts=alert_retry_attempts,
                    max_event_age=alert_max_event_age,
                )
            ],
        )

        self.webhook_dead_letters: sqs.Queue | None = None
        if webhooks:
            self.webhook_dead_letters = _dead_letter_queue(
                self, "WebhookDeadLetters", "the webhooks"
            )
            self._webhooks(webhooks, self.webhook_dead_letters)

    def _webhooks(self, webhooks: Sequence[Webhook], dead_letters: sqs.Queue) -> None:
        """One connection, API destination and rule per webhook, invoked by one role whose
        rights are a managed policy of their own."""
        role = iam.Role(
            self,
            "WebhookRole",
            assumed_by=iam.ServicePrincipal("events.amazonaws.com"),
            description="EventBridge calls the ledger's webhooks",
        )
        invoke = iam.ManagedPolicy(self, "WebhookInvoke", roles=[role])
        stack = cdk.Stack.of(self)
        for webhook in webhooks:
            connection = events.Connection(
                self,
                f"{webhook.name}Connection",
                description=f"The {webhook.header} header of webhook {webhook.name}",
                authorization=events.Authorization.api_key(
                    webhook.header, cdk.SecretValue.secrets_manager(webhook.secret_arn)
                ),
            )
            destination = events.ApiDestination(
                self,
                f"{webhook.name}Destination",
                connection=connection,
                endpoint=webhook.endpoint,
                http_method=events.HttpMethod.POST,
                rate_limit_per_second=webhook.rate_per_s,
            )
            invoke.add_statements(
                iam.PolicyStatement(
                    actions=["events:InvokeApiDestination"],
                    resources=[
                        stack.format_arn(
                            service="events",
                            resource="api-destination",
                            resource_name=destination.api_destination_name,
                        )
                    ],
                )
            )
            events.Rule(
                self,
                f"{webhook.name}Rule",
                event_bus=self.bus,
                description=f"Ledger events to webhook {webhook.name}",
                event_pattern=events.EventPattern(
                    source=[ledger_events.source], detail_type=list(webhook.detail_types)
                ),
                targets=[
                    targets.ApiDestination(
                        destination,
                        # The managed policy holds the right: the target adds none inline.
                        event_role=role.without_policy_updates(),
                        dead_letter_queue=dead_letters,
                        retry_attempts=webhook_retry_attempts,
                        max_event_age=webhook_max_event_age,
                    )
                ],
            )


class LedgerInbound(Construct):
    """The inbound events queue, its consumer and its dead-letter queue."""

    def __init__(self, scope: Construct, construct_id: str, *, consumer: lambda_.Function) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = _dead_letter_queue(self, "DeadLetters", "the inbound queue")
        timeout = consumer.timeout or lambda_default_timeout
        self.queue = _queue(
            self,
            "Queue",
            retention_period=inbound_retention,
            visibility_timeout=cdk.Duration.seconds(timeout.to_seconds() * visibility_per_timeout),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=self.dead_letters, max_receive_count=inbound_receives_max
            ),
        )
        # Refusals are dead letters the consumer sends itself, with their reason.
        consumer.add_environment(queue_url_variable, self.dead_letters.queue_url)
        self.dead_letters.grant_send_messages(consumer)
        self.queue.grant_consume_messages(consumer)
        self.mapping = lambda_.EventSourceMapping(
            self,
            "Mapping",
            target=consumer,
            event_source_arn=self.queue.queue_arn,
            batch_size=inbound_batch_size,
            report_batch_item_failures=True,
        )
        acknowledge(
            self.mapping,
            "Serverless-LambdaEventSourceMappingDestination",
            "An SQS mapping takes no on-failure destination: the inbound queue's redrive "
            "policy moves a message failing 5 receives to its dead-letter queue.",
        )


class LedgerSchedules(Construct):
    """The jobs' schedules: the expiry sweep, reconciliation and external balance checks.

    Each is an EventBridge rule on the default bus rather than an EventBridge Scheduler
    schedule: the rule invokes its function through a resource policy bound to the rule,
    with no role of its own to grant and review, and takes the same bounded retries and
    dead-letter queue.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        expiry: lambda_.IFunction,
        reconciliation: lambda_.IFunction,
        external_balances: lambda_.IFunction | None,
        expiry_every: cdk.Duration = default_expiry_every,
        reconciliation_every: cdk.Duration = default_reconciliation_every,
        external_every: cdk.Duration = default_external_every,
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = _dead_letter_queue(self, "DeadLetters", "the schedules")
        # One run of the expiry function voids the expired holds and then sends the
        # expiring warnings: one schedule does both.
        jobs: list[tuple[str, lambda_.IFunction, cdk.Duration]] = [
            ("Expiry", expiry, expiry_every),
            ("Reconciliation", reconciliation, reconciliation_every),
        ]
        if external_balances is not None:
            jobs.append(("ExternalBalances", external_balances, external_every))
        self.rules: dict[str, events.Rule] = {}
        for name, function, every in jobs:
            seconds = every.to_seconds()
            if not schedule_every_min.to_seconds() <= seconds <= schedule_every_max.to_seconds():
                raise ValueError(f"{name} schedule must be every 1 minute to 24 hours")
            self.rules[name] = events.Rule(
                self,
                name,
                description=f"Runs the {name} job",
                schedule=events.Schedule.rate(every),
                targets=[
                    targets.LambdaFunction(
                        function,
                        dead_letter_queue=self.dead_letters,
                        retry_attempts=schedule_retry_attempts,
                        max_event_age=every,
                    )
                ],
            )
