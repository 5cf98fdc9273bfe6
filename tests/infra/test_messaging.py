"""The bus, its archive, alerts and webhooks; the inbound queue; the jobs' schedules."""

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
from aws_cdk.assertions import Match, Template
from constructs import IConstruct
from stand_ins import stand_in_function

from infra.compliance import Finding, add_rule_packs, synthesize_checked
from infra.messaging import LedgerEvents, LedgerInbound, LedgerSchedules, Webhook
from ledger.domain import events as ledger_events

# One pytest worker synthesizes the stacks once, rather than each worker on its own.
pytestmark = pytest.mark.xdist_group("cdk")

Resource = dict[str, Any]
account = "123456789012"
region = "eu-west-1"
shop = Webhook(
    name="Shop",
    endpoint="https://shop.example.com/ledger-events",
    detail_types=(ledger_events.entry_posted, ledger_events.entry_voided),
    secret_arn=f"arn:aws:secretsmanager:{region}:{account}:secret:shop-hook-AbCdEf",
)
books = Webhook(
    name="Books",
    endpoint="https://books.example.org/hooks",
    detail_types=(ledger_events.reconciliation_mismatch,),
    secret_arn=f"arn:aws:secretsmanager:{region}:{account}:secret:books-hook-GhIjKl",
    header="X-Api-Key",
    rate_per_s=2,
)
inbound_timeout_s = 45


class Built:
    """One stack, the constructs it was built from and, once synthesized, its template."""

    def __init__(self, stack: cdk.Stack, *, webhooks: tuple[Webhook, ...], external: bool):
        self.stack = stack
        self.functions = {
            name: stand_in_function(stack, name)
            for name in ("events", "expiry", "reconciliation", "external_balances")
        }
        # The plain stack's consumer keeps Lambda's default timeout of 3 s.
        self.functions["inbound"] = stand_in_function(
            stack,
            "inbound",
            timeout=cdk.Duration.seconds(inbound_timeout_s) if external else None,
        )
        self.events = LedgerEvents(
            stack, "Events", publisher=self.functions["events"], webhooks=webhooks
        )
        self.inbound = LedgerInbound(stack, "Inbound", consumer=self.functions["inbound"])
        self.schedules = LedgerSchedules(
            stack,
            "Schedules",
            expiry=self.functions["expiry"],
            reconciliation=self.functions["reconciliation"],
            external_balances=self.functions["external_balances"] if external else None,
        )
        self._template: Template | None = None

    @property
    def template(self) -> Template:
        if self._template is None:
            self._template = Template.from_stack(self.stack)
        return self._template

    def logical_id(self, construct: IConstruct) -> str:
        child = construct.node.default_child
        assert isinstance(child, cdk.CfnElement)
        return self.stack.get_logical_id(child)

    def ref(self, construct: IConstruct) -> dict[str, str]:
        return {"Ref": self.logical_id(construct)}

    def arn(self, construct: IConstruct) -> dict[str, list[str]]:
        return {"Fn::GetAtt": [self.logical_id(construct), "Arn"]}

    def resource(self, construct: IConstruct) -> Resource:
        return dict(self.template.to_json()["Resources"][self.logical_id(construct)])

    def of_type(self, kind: str) -> dict[str, Resource]:
        return {key: dict(value) for key, value in self.template.find_resources(kind).items()}

    def role_statements(self, function: str) -> list[dict[str, Any]]:
        """The statements of one stand-in function's role, but its tracing rights."""
        role = self.functions[function].role
        assert role is not None
        policy = role.node.find_child("DefaultPolicy").node.default_child
        assert isinstance(policy, cdk.CfnElement)
        resource = self.template.to_json()["Resources"][self.stack.get_logical_id(policy)]
        statements: list[dict[str, Any]] = resource["Properties"]["PolicyDocument"]["Statement"]
        return [s for s in statements if not str(s["Action"]).startswith("['xray:")]


@dataclass(frozen=True)
class Synthesized:
    full: Built
    plain: Built
    findings: list[Finding]


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    """Two stacks checked by the rule packs in one synthesis: one with two webhooks and every
    schedule, one with no webhook, no external checks and a consumer of default timeout."""
    app = cdk.App(outdir=str(tmp_path_factory.mktemp("messaging")))
    add_rule_packs(app)
    environment = cdk.Environment(account=account, region=region)
    full = Built(
        cdk.Stack(app, "MessagingFull", env=environment), webhooks=(shop, books), external=True
    )
    plain = Built(cdk.Stack(app, "MessagingPlain", env=environment), webhooks=(), external=False)
    return Synthesized(full, plain, synthesize_checked(app))


@pytest.fixture(scope="module")
def full(synthesized: Synthesized) -> Built:
    return synthesized.full


@pytest.fixture(scope="module")
def plain(synthesized: Synthesized) -> Built:
    return synthesized.plain


def _ssl_only(built: Built, queue_id: str) -> bool:
    for policy in built.of_type("AWS::SQS::QueuePolicy").values():
        if policy["Properties"]["Queues"] != [{"Ref": queue_id}]:
            continue
        return any(
            statement["Effect"] == "Deny"
            and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
        )
    return False


def _rule_targets(built: Built, rule_id: str) -> list[dict[str, Any]]:
    targets: list[dict[str, Any]] = built.of_type("AWS::Events::Rule")[rule_id]["Properties"][
        "Targets"
    ]
    return targets


# The bus and its publisher


def test_the_publisher_is_told_the_bus_and_may_put_events_on_it_only(full: Built) -> None:
    # GIVEN the events consumer WHEN its configuration and rights are read
    function = full.resource(full.functions["events"])
    variables = function["Properties"]["Environment"]["Variables"]
    # THEN it names the ledger's bus, and its one right is PutEvents on that bus
    assert variables["LEDGER_EVENT_BUS_NAME"] == full.ref(full.events.bus)
    assert full.role_statements("events") == [
        {"Action": "events:PutEvents", "Effect": "Allow", "Resource": full.arn(full.events.bus)}
    ]


def test_the_bus_has_no_policy_letting_others_publish(full: Built) -> None:
    assert full.of_type("AWS::Events::EventBusPolicy") == {}
    assert "Policy" not in full.resource(full.events.bus)["Properties"]


def test_the_archive_keeps_every_ledger_event_for_a_year(full: Built) -> None:
    properties = full.resource(full.events.archive)["Properties"]
    assert properties["SourceArn"] == full.arn(full.events.bus)
    assert properties["EventPattern"] == {"source": [ledger_events.source]}
    assert properties["RetentionDays"] == 365


# Alerts


def test_the_alerts_topic_is_encrypted_with_a_rotated_key(full: Built) -> None:
    topic = full.resource(full.events.alerts)["Properties"]
    assert topic["KmsMasterKeyId"] == full.arn(full.events.key)
    assert full.resource(full.events.key)["Properties"]["EnableKeyRotation"] is True


def test_events_and_cloudwatch_may_use_the_key(full: Built) -> None:
    statements = full.resource(full.events.key)["Properties"]["KeyPolicy"]["Statement"]
    for service in ("events.amazonaws.com", "cloudwatch.amazonaws.com"):
        (statement,) = [s for s in statements if s["Principal"] == {"Service": service}]
        assert statement["Effect"] == "Allow"
        assert set(statement["Action"]) == {"kms:Decrypt", "kms:GenerateDataKey*"}


def test_the_alerts_topic_takes_alarms_of_this_account_and_tls_only(full: Built) -> None:
    full.template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "Topics": [full.ref(full.events.alerts)],
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "sns:Publish",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ),
                        Match.object_like(
                            {
                                "Effect": "Allow",
                                "Action": "sns:Publish",
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
                            }
                        ),
                        Match.object_like(
                            {
                                "Effect": "Allow",
                                "Action": "sns:Publish",
                                "Principal": {"Service": "events.amazonaws.com"},
                            }
                        ),
                    ]
                )
            },
        },
    )


def test_monitor_crossings_go_to_the_alerts_topic_with_bounded_retries(full: Built) -> None:
    rules = {
        rule_id: rule
        for rule_id, rule in full.of_type("AWS::Events::Rule").items()
        if rule["Properties"]["Targets"][0]["Arn"] == full.ref(full.events.alerts)
    }
    ((rule_id, rule),) = rules.items()
    assert rule["Properties"]["EventBusName"] == full.ref(full.events.bus)
    assert rule["Properties"]["EventPattern"] == {
        "source": ["ledger"],
        "detail-type": ["ledger.monitor.triggered", "ledger.monitor.resolved"],
    }
    (target,) = _rule_targets(full, rule_id)
    assert target["DeadLetterConfig"] == {"Arn": full.arn(full.events.alert_dead_letters)}
    assert target["RetryPolicy"] == {"MaximumRetryAttempts": 8, "MaximumEventAgeInSeconds": 3600}


# Webhooks


def _webhook_rules(built: Built) -> dict[str, list[str]]:
    """Each API destination's endpoint and the detail-types its rule sends it."""
    destinations = built.of_type("AWS::Events::ApiDestination")
    found: dict[str, list[str]] = {}
    for rule in built.of_type("AWS::Events::Rule").values():
        (target,) = rule["Properties"]["Targets"]
        arn = target["Arn"]
        if isinstance(arn, dict) and arn.get("Fn::GetAtt", [""])[0] in destinations:
            endpoint = destinations[arn["Fn::GetAtt"][0]]["Properties"]["InvocationEndpoint"]
            found[endpoint] = rule["Properties"]["EventPattern"]["detail-type"]
    return found


def test_each_webhook_gets_its_chosen_detail_types(full: Built) -> None:
    assert _webhook_rules(full) == {
        shop.endpoint: ["ledger.entry.posted", "ledger.entry.voided"],
        books.endpoint: ["ledger.reconciliation.mismatch"],
    }


def test_each_webhook_posts_at_its_rate_with_its_secret_in_its_header(full: Built) -> None:
    connections = full.of_type("AWS::Events::Connection")
    destinations = full.of_type("AWS::Events::ApiDestination")
    assert len(connections) == len(destinations) == 2
    for webhook in (shop, books):
        (destination,) = [
            d["Properties"]
            for d in destinations.values()
            if d["Properties"]["InvocationEndpoint"] == webhook.endpoint
        ]
        assert destination["HttpMethod"] == "POST"
        assert destination["InvocationRateLimitPerSecond"] == webhook.rate_per_s
        connection_id = destination["ConnectionArn"]["Fn::GetAtt"][0]
        parameters = connections[connection_id]["Properties"]
        assert parameters["AuthorizationType"] == "API_KEY"
        assert parameters["AuthParameters"]["ApiKeyAuthParameters"] == {
            "ApiKeyName": webhook.header,
            "ApiKeyValue": f"{{{{resolve:secretsmanager:{webhook.secret_arn}:SecretString:::}}}}",
        }


def test_webhook_deliveries_retry_bounded_then_go_to_their_dead_letters(full: Built) -> None:
    assert full.events.webhook_dead_letters is not None
    dead_letters = full.arn(full.events.webhook_dead_letters)
    destinations = full.of_type("AWS::Events::ApiDestination")
    role = full.arn(full.events.node.find_child("WebhookRole"))
    checked = 0
    for rule in full.of_type("AWS::Events::Rule").values():
        (target,) = rule["Properties"]["Targets"]
        if target["Arn"].get("Fn::GetAtt", [""])[0] not in destinations:
            continue
        checked += 1
        assert target["DeadLetterConfig"] == {"Arn": dead_letters}
        assert target["RetryPolicy"] == {
            "MaximumRetryAttempts": 30,
            "MaximumEventAgeInSeconds": 4 * 3600,
        }
        assert target["RoleArn"] == role
        assert rule["Properties"]["EventBusName"] == full.ref(full.events.bus)
    assert checked == 2


def test_the_webhook_role_may_invoke_these_destinations_only(full: Built) -> None:
    role = full.events.node.find_child("WebhookRole")
    role_id = full.logical_id(role)
    assert full.resource(role)["Properties"]["AssumeRolePolicyDocument"]["Statement"][0][
        "Principal"
    ] == {"Service": "events.amazonaws.com"}
    # Its rights are one managed policy; nothing inline.
    assert not [
        p
        for p in full.of_type("AWS::IAM::Policy").values()
        if {"Ref": role_id} in p["Properties"]["Roles"]
    ]
    (policy,) = full.of_type("AWS::IAM::ManagedPolicy").values()
    assert policy["Properties"]["Roles"] == [{"Ref": role_id}]
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    destinations = set(full.of_type("AWS::Events::ApiDestination"))
    named = set()
    for statement in statements:
        assert statement["Action"] == "events:InvokeApiDestination"
        parts = statement["Resource"]["Fn::Join"][1]
        assert ":api-destination/" in parts[2]
        named.add(parts[3]["Ref"])
    assert named == destinations


def test_the_webhook_dead_letters_take_only_these_rules(full: Built) -> None:
    assert full.events.webhook_dead_letters is not None
    queue_id = full.logical_id(full.events.webhook_dead_letters)
    (policy,) = [
        p
        for p in full.of_type("AWS::SQS::QueuePolicy").values()
        if p["Properties"]["Queues"] == [{"Ref": queue_id}]
    ]
    sends = [
        s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"
    ]
    assert len(sends) == 2
    for statement in sends:
        assert statement["Principal"] == {"Service": "events.amazonaws.com"}
        assert statement["Action"] == "sqs:SendMessage"
        assert "aws:SourceArn" in statement["Condition"]["ArnEquals"]


def test_without_webhooks_there_is_no_destination_and_no_dead_letters(plain: Built) -> None:
    assert plain.events.webhook_dead_letters is None
    assert plain.of_type("AWS::Events::Connection") == {}
    assert plain.of_type("AWS::Events::ApiDestination") == {}
    assert plain.of_type("AWS::IAM::ManagedPolicy") == {}
    assert _webhook_rules(plain) == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"name": "shop-hook"}, "letters or digits"),
        ({"endpoint": "http://shop.example.com/hooks"}, "https URL"),
        ({"endpoint": "https:///hooks"}, "https URL"),
        ({"detail_types": ()}, "detail_types"),
        ({"detail_types": ("ledger.entry.posted", "entry.posted")}, "entry.posted"),
        ({"secret_arn": "shop-hook"}, "Secrets Manager ARN"),
        ({"header": " "}, "header"),
        ({"rate_per_s": 0}, "rate_per_s"),
        ({"rate_per_s": 301}, "rate_per_s"),
    ],
)
def test_an_unusable_webhook_is_refused(change: dict[str, Any], message: str) -> None:
    fields = {
        "name": shop.name,
        "endpoint": shop.endpoint,
        "detail_types": shop.detail_types,
        "secret_arn": shop.secret_arn,
        **change,
    }
    with pytest.raises(ValueError, match=message):
        Webhook(**fields)


def test_two_webhooks_of_one_name_are_refused() -> None:
    stack = cdk.Stack(cdk.App(), "Twice")
    with pytest.raises(ValueError, match="unique"):
        LedgerEvents(
            stack,
            "Events",
            publisher=stand_in_function(stack, "events"),
            webhooks=(shop, Webhook("Shop", books.endpoint, books.detail_types, books.secret_arn)),
        )


# Inbound events


def test_the_inbound_queue_hides_a_message_six_consumer_timeouts(full: Built, plain: Built) -> None:
    assert full.resource(full.inbound.queue)["Properties"]["VisibilityTimeout"] == 6 * 45
    # A consumer without a timeout of its own has Lambda's 3 seconds.
    assert plain.resource(plain.inbound.queue)["Properties"]["VisibilityTimeout"] == 6 * 3


def test_a_message_failing_five_receives_moves_to_the_dead_letters(full: Built) -> None:
    queue = full.resource(full.inbound.queue)["Properties"]
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": full.arn(full.inbound.dead_letters),
        "maxReceiveCount": 5,
    }
    # A dead letter keeps its first enqueue time: its queue keeps messages twice as long.
    dead_letters = full.resource(full.inbound.dead_letters)["Properties"]
    assert queue["MessageRetentionPeriod"] == 7 * 24 * 3600
    assert dead_letters["MessageRetentionPeriod"] == 14 * 24 * 3600


def test_the_consumer_reads_batches_with_partial_responses(full: Built) -> None:
    mapping = full.resource(full.inbound.mapping)["Properties"]
    assert mapping == {
        "BatchSize": 10,
        "EventSourceArn": full.arn(full.inbound.queue),
        "FunctionName": full.ref(full.functions["inbound"]),
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }


def test_the_consumer_knows_the_dead_letters_and_may_send_there_only(full: Built) -> None:
    function = full.resource(full.functions["inbound"])
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["LEDGER_INBOUND_DLQ_URL"] == full.ref(full.inbound.dead_letters)
    by_resource = {str(s["Resource"]): set(s["Action"]) for s in full.role_statements("inbound")}
    assert by_resource == {
        str(full.arn(full.inbound.dead_letters)): {
            "sqs:SendMessage",
            "sqs:GetQueueAttributes",
            "sqs:GetQueueUrl",
        },
        str(full.arn(full.inbound.queue)): {
            "sqs:ReceiveMessage",
            "sqs:ChangeMessageVisibility",
            "sqs:GetQueueUrl",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
        },
    }


# Schedules


def _schedules(built: Built) -> dict[str, dict[str, Any]]:
    """Each scheduled function's logical id and its rule's properties."""
    found = {}
    for rule in built.of_type("AWS::Events::Rule").values():
        if "ScheduleExpression" in rule["Properties"]:
            (target,) = rule["Properties"]["Targets"]
            found[target["Arn"]["Fn::GetAtt"][0]] = rule["Properties"]
    return found


def test_each_job_runs_on_its_schedule(full: Built) -> None:
    schedules = _schedules(full)
    expected = {
        "expiry": "rate(1 minute)",
        "reconciliation": "rate(1 hour)",
        "external_balances": "rate(1 hour)",
    }
    assert {
        function: schedules[full.logical_id(full.functions[function])]["ScheduleExpression"]
        for function in expected
    } == expected
    assert set(full.schedules.rules) == {"Expiry", "Reconciliation", "ExternalBalances"}


def test_a_scheduled_run_retries_bounded_then_goes_to_the_dead_letters(full: Built) -> None:
    ages = {"expiry": 60, "reconciliation": 3600, "external_balances": 3600}
    schedules = _schedules(full)
    for function, age in ages.items():
        (target,) = schedules[full.logical_id(full.functions[function])]["Targets"]
        assert target["DeadLetterConfig"] == {"Arn": full.arn(full.schedules.dead_letters)}
        assert target["RetryPolicy"] == {
            "MaximumRetryAttempts": 3,
            "MaximumEventAgeInSeconds": age,
        }


def test_each_job_may_be_invoked_by_its_own_rule_only(full: Built) -> None:
    permissions = full.of_type("AWS::Lambda::Permission")
    for name, rule in full.schedules.rules.items():
        (permission,) = [
            p["Properties"]
            for p in permissions.values()
            if p["Properties"]["SourceArn"] == full.arn(rule)
        ]
        assert permission["Principal"] == "events.amazonaws.com", name
        assert permission["Action"] == "lambda:InvokeFunction", name


def test_without_external_checks_two_jobs_are_scheduled(plain: Built) -> None:
    assert set(plain.schedules.rules) == {"Expiry", "Reconciliation"}
    assert plain.logical_id(plain.functions["external_balances"]) not in _schedules(plain)


@pytest.mark.parametrize("every", [cdk.Duration.seconds(30), cdk.Duration.hours(25)])
def test_a_schedule_outside_a_minute_to_a_day_is_refused(every: cdk.Duration) -> None:
    stack = cdk.Stack(cdk.App(), "Schedules")
    with pytest.raises(ValueError, match="every 1 minute to 24 hours"):
        LedgerSchedules(
            stack,
            "Schedules",
            expiry=stand_in_function(stack, "expiry"),
            reconciliation=stand_in_function(stack, "reconciliation"),
            external_balances=None,
            reconciliation_every=every,
        )


# Every queue, and the rule packs


def test_every_queue_is_encrypted_and_refuses_plain_http(full: Built, plain: Built) -> None:
    for built in (full, plain):
        queues = built.of_type("AWS::SQS::Queue")
        assert len(queues) == (5 if built is full else 4)
        for queue_id, queue in queues.items():
            assert queue["Properties"]["SqsManagedSseEnabled"] is True, queue_id
            assert _ssl_only(built, queue_id), queue_id


def test_rule_packs_find_nothing_unacknowledged(synthesized: Synthesized) -> None:
    # GIVEN both stacks with stand-in functions WHEN checked against the three packs
    # THEN nothing is left: each dead-letter queue and mapping says why a rule is moot
    assert synthesized.findings == []
