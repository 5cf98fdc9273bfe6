"""A deployment's context is read once, with defaults, and refused with the key's name when
the stack could not use it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from aws_cdk import aws_logs as logs
from stack_synthesis import bank_checks

from infra.messaging import Webhook
from infra.settings import SettingError, Settings

pytestmark = pytest.mark.xdist_group("cdk")


def settings(**values: Any) -> Settings:
    context = {f"ledger:{key}": value for key, value in values.items()}
    return Settings.from_context(context.get)


def test_no_context_gives_a_first_deployments_defaults() -> None:
    assert settings() == Settings()
    assert Settings().provisioned_concurrency == 0
    assert Settings().log_retention is logs.RetentionDays.ONE_YEAR


def test_command_line_strings_and_json_values_read_alike() -> None:
    from_cli = settings(provisionedConcurrency="4", logRetentionDays="2557", logLevel="debug")
    from_json = settings(provisionedConcurrency=4, logRetentionDays=2557, logLevel="DEBUG")
    assert from_cli == from_json
    assert from_cli.provisioned_concurrency == 4
    assert from_cli.log_retention is logs.RetentionDays.SEVEN_YEARS
    assert from_cli.log_level == "DEBUG"


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"provisionedConcurrency": "-1"}, "provisionedConcurrency"),
        ({"provisionedConcurrency": "2.5"}, "provisionedConcurrency"),
        ({"provisionedConcurrency": True}, "provisionedConcurrency"),
        ({"provisionedConcurrency": "1001"}, "provisionedConcurrency"),
        ({"logRetentionDays": "400"}, "logRetentionDays"),
        ({"logLevel": "LOUD"}, "logLevel"),
        ({"throttleRate": "0"}, "throttleRate"),
        ({"alertEmail": "  "}, "alertEmail"),
        ({"domainName": "ledger.example.com"}, "domainName"),
        ({"certificateArn": "arn:aws:acm:eu-west-1:1:certificate/x"}, "domainName"),
        ({"expiringNoticeSeconds": "0"}, "expiringNoticeSeconds"),
        ({"externalChecks": "{not json"}, "externalChecks"),
        ({"externalChecks": "[]"}, "externalChecks"),
        ({"externalChecks": {"sources": [{"name": "bank"}]}}, "externalChecks"),
        ({"webhooks": "{}"}, "webhooks"),
    ],
)
def test_unusable_values_are_refused_by_key(values: dict[str, Any], named: str) -> None:
    with pytest.raises(SettingError, match=f"context ledger:{named}"):
        settings(**values)


def test_a_custom_domain_needs_its_certificate() -> None:
    chosen = settings(
        domainName="ledger.example.com", certificateArn="arn:aws:acm:eu-west-1:1:certificate/x"
    )
    assert (chosen.domain_name, chosen.certificate_arn) == (
        "ledger.example.com",
        "arn:aws:acm:eu-west-1:1:certificate/x",
    )


def test_external_checks_are_checked_as_the_job_reads_them() -> None:
    chosen = settings(externalChecks=json.dumps(bank_checks))
    assert chosen.external_checks is not None
    assert json.loads(chosen.external_checks) == bank_checks


secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:hook"
webhook: dict[str, Any] = {
    "name": "payouts",
    "endpoint": "https://hooks.example.com/ledger",
    "detailTypes": ["ledger.entry.posted"],
    "secretArn": secret_arn,
}


def test_webhooks_come_as_a_json_list() -> None:
    chosen = settings(webhooks=json.dumps([webhook, {**webhook, "name": "b", "ratePerSecond": 5}]))
    assert chosen.webhooks == (
        Webhook(
            "payouts",
            "https://hooks.example.com/ledger",
            ("ledger.entry.posted",),
            secret_arn,
        ),
        Webhook(
            "b",
            "https://hooks.example.com/ledger",
            ("ledger.entry.posted",),
            secret_arn,
            rate_per_s=5,
        ),
    )


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"endpoint": "http://hooks.example.com"}, "webhooks[0]: webhook payouts: endpoint"),
        ({"detailTypes": []}, "webhooks[0]: webhook payouts: detail_types"),
        ({"detailTypes": ["aws.ec2"]}, "webhooks[0]: webhook payouts: detail_types"),
        ({"detailTypes": "ledger.entry.posted"}, "webhooks[0].detailTypes"),
        ({"secretArn": ""}, "webhooks[0]: webhook payouts: secret_arn"),
        ({"ratePerSecond": 0}, "webhooks[0].ratePerSecond"),
        ({"colour": "red"}, "webhooks[0]"),
    ],
)
def test_unusable_webhooks_are_refused_by_field(change: dict[str, Any], named: str) -> None:
    with pytest.raises(SettingError, match=f"context ledger:{re.escape(named)}"):
        settings(webhooks=[{**webhook, **change}])


def test_a_webhook_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(SettingError, match=r"webhooks\[0\]: must be an object"):
        settings(webhooks=["https://hooks.example.com"])
