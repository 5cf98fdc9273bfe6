"""The ledger's one stack: one construct per concern, wired together here.

Construct ids are part of every logical id: renaming one replaces its resources, and
renaming "Table" would try to replace the table (which its retain policy and deletion
protection then refuse).
"""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from infra.alarms import LedgerAlarms
from infra.functions import ColdStart, LedgerFunctions
from infra.http_api import CustomDomain, LedgerHttpApi, Throttle
from infra.messaging import LedgerEvents, LedgerInbound, LedgerSchedules
from infra.settings import Settings
from infra.streams import StreamConsumers
from infra.table import LedgerTable
from ledger.environment import expiring_notice_variable
from ledger.jobs.external_balances_function import checks_variable

stream_consumers = ("history", "audit", "events", "monitors")


class LedgerStack(cdk.Stack):
    """Everything the ledger needs in one account and region."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: Callable[[str], lambda_.Code],
        settings: Settings | None = None,
        env: cdk.Environment | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=env,
            description="Serverless Ledger: a double-entry ledger on one DynamoDB table",
        )
        chosen = settings or Settings.from_context(self.node.try_get_context)
        self.ledger_table = LedgerTable(self, "Table")
        table = self.ledger_table.table
        environment: dict[str, dict[str, str]] = {}
        if chosen.expiring_notice_s is not None:
            environment["expiry"] = {expiring_notice_variable: str(chosen.expiring_notice_s)}
        if chosen.external_checks is not None:
            environment["external_balances"] = {checks_variable: chosen.external_checks}
        self.functions = LedgerFunctions(
            self,
            "Functions",
            table=table,
            code=code,
            cold_start=ColdStart(provisioned=chosen.provisioned_concurrency),
            log_level=chosen.log_level,
            log_retention=chosen.log_retention,
            environment=environment,
        )
        functions = self.functions.functions
        self.streams = StreamConsumers(
            self,
            "Streams",
            table=table,
            consumers={name: functions[name] for name in stream_consumers},
        )
        self.events = LedgerEvents(
            self,
            "Events",
            publisher=functions["events"],
            webhooks=chosen.webhooks,
            archive_retention=cdk.Duration.days(chosen.archive_retention_days),
        )
        if chosen.alert_email is not None:
            self.events.alerts.add_subscription(
                subscriptions.EmailSubscription(
                    chosen.alert_email, dead_letter_queue=self.events.alert_dead_letters
                )
            )
        self.inbound = LedgerInbound(self, "Inbound", consumer=functions["inbound"])
        self.schedules = LedgerSchedules(
            self,
            "Schedules",
            expiry=functions["expiry"],
            reconciliation=functions["reconciliation"],
            # Without a checks document the job has nothing to do: it stays, unscheduled.
            external_balances=(
                functions["external_balances"] if chosen.external_checks is not None else None
            ),
        )
        domain = (
            CustomDomain(chosen.domain_name, chosen.certificate_arn)
            if chosen.domain_name is not None and chosen.certificate_arn is not None
            else None
        )
        self.http_api = LedgerHttpApi(
            self,
            "HttpApi",
            handler=self.functions.entry_point("api"),
            authorizer=self.functions.entry_point("authorizer"),
            throttle=Throttle(chosen.throttle_rate_per_s, chosen.throttle_burst),
            domain=domain,
            log_retention=chosen.log_retention,
        )
        dead_letter_queues = {
            "stream-failures": self.streams.failures,
            "inbound": self.inbound.dead_letters,
            "schedules": self.schedules.dead_letters,
            "jobs": self.functions.job_failures,
            "alerts": self.events.alert_dead_letters,
        }
        if self.events.webhook_dead_letters is not None:
            dead_letter_queues["webhooks"] = self.events.webhook_dead_letters
        self.alarms = LedgerAlarms(
            self,
            "Alarms",
            topic=self.events.alerts,
            http_api=self.http_api.http_api,
            functions=functions,
            stream_consumers=stream_consumers,
            dead_letter_queues=dead_letter_queues,
        )
        outputs = {
            "ApiUrl": (self.http_api.url, "The ledger's HTTP API, for LEDGER_URL"),
            "TableName": (table.table_name, "The ledger table, for DynamoDBStore(table_name)"),
            "EventBusName": (self.events.bus.event_bus_name, "Where ledger events arrive"),
            "AlertsTopicArn": (self.events.alerts.topic_arn, "Alarms and monitor crossings"),
            "InboundQueueUrl": (self.inbound.queue.queue_url, "Send inbound events here"),
            "InboundDeadLetterQueueUrl": (
                self.inbound.dead_letters.queue_url,
                "Inbound events refused, with the reason",
            ),
            "StreamFailuresQueueUrl": (
                self.streams.failures.queue_url,
                "Stream batches a consumer gave up",
            ),
            "JobFailuresQueueUrl": (
                self.functions.job_failures.queue_url,
                "Scheduled job runs that failed",
            ),
            "DashboardName": (self.alarms.dashboard.dashboard_name, "The ledger's dashboard"),
        }
        if self.http_api.domain_target is not None:
            outputs["ApiDomainTarget"] = (
                self.http_api.domain_target,
                "Point the custom domain's DNS record (CNAME or alias) here",
            )
        for name, (value, description) in outputs.items():
            cdk.CfnOutput(self, name, value=value, description=description)
