"""What a deployment chooses, read once from the CDK context and refused when unusable.

Context comes from `cdk.json`, `cdk.context.json` or `cdk deploy -c ledger:key=value`: from
the command line every value is a string, so numbers and lists are also taken as strings
(a list as JSON). Every key is optional; docs/deploy.md lists them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aws_cdk import aws_logs as logs

from infra.messaging import Webhook
from ledger.domain import limits
from ledger.jobs.external_source_config import checks_from_config
from ledger.jobs.external_sources import SourceConfigError

prefix = "ledger:"
log_levels = ("DEBUG", "INFO", "WARNING", "ERROR")
# The retentions offered, in days: a month and up, to the ten years some ledgers keep records.
retention_days = {
    30: logs.RetentionDays.ONE_MONTH,
    90: logs.RetentionDays.THREE_MONTHS,
    180: logs.RetentionDays.SIX_MONTHS,
    365: logs.RetentionDays.ONE_YEAR,
    731: logs.RetentionDays.TWO_YEARS,
    1096: logs.RetentionDays.THREE_YEARS,
    1827: logs.RetentionDays.FIVE_YEARS,
    2557: logs.RetentionDays.SEVEN_YEARS,
    3653: logs.RetentionDays.TEN_YEARS,
}


class SettingError(ValueError):
    """A context value the stack cannot use; the message names the key and what it takes."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"context {prefix}{key}: {problem}")


@dataclass(frozen=True)
class Settings:
    """Every choice of a deployment, with the defaults a first deployment gets."""

    provisioned_concurrency: int = 0
    log_level: str = "INFO"
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR
    throttle_rate_per_s: int = 1000
    throttle_burst: int = 2000
    domain_name: str | None = None
    certificate_arn: str | None = None
    alert_email: str | None = None
    archive_retention_days: int = 365
    expiring_notice_s: int | None = None
    external_checks: str | None = None
    webhooks: tuple[Webhook, ...] = field(default_factory=tuple)

    @classmethod
    def from_context(cls, lookup: Callable[[str], Any]) -> Settings:
        """The settings `lookup` (a construct's `node.try_get_context`) holds."""
        context = _Context(lookup)
        domain_name = context.text("domainName")
        certificate_arn = context.text("certificateArn")
        if (domain_name is None) != (certificate_arn is None):
            raise SettingError(
                "domainName", "a custom domain needs both domainName and certificateArn"
            )
        return cls(
            provisioned_concurrency=context.whole("provisionedConcurrency", 0, 0, 1000),
            log_level=context.choice("logLevel", "INFO", log_levels),
            log_retention=retention_days[
                context.whole_of("logRetentionDays", 365, tuple(retention_days))
            ],
            throttle_rate_per_s=context.whole("throttleRate", 1000, 1, 100_000),
            throttle_burst=context.whole("throttleBurst", 2000, 1, 100_000),
            domain_name=domain_name,
            certificate_arn=certificate_arn,
            alert_email=context.text("alertEmail"),
            archive_retention_days=context.whole("archiveRetentionDays", 365, 0, 36_500),
            expiring_notice_s=context.optional_whole(
                "expiringNoticeSeconds", 1, limits.expires_in_s_max
            ),
            external_checks=context.external_checks("externalChecks"),
            webhooks=context.webhooks("webhooks"),
        )


class _Context:
    """Typed reads of the `ledger:` context keys."""

    def __init__(self, lookup: Callable[[str], Any]) -> None:
        self._lookup = lookup

    def raw(self, key: str) -> Any:
        return self._lookup(prefix + key)

    def text(self, key: str) -> str | None:
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            raise SettingError(key, "must be a non-empty string")
        return value.strip()

    def optional_whole(self, key: str, low: int, high: int) -> int | None:
        value = self.raw(key)
        if value is None:
            return None
        return _whole(key, value, low, high)

    def whole(self, key: str, default: int, low: int, high: int) -> int:
        found = self.optional_whole(key, low, high)
        return default if found is None else found

    def whole_of(self, key: str, default: int, allowed: tuple[int, ...]) -> int:
        found = self.whole(key, default, min(allowed), max(allowed))
        if found not in allowed:
            raise SettingError(key, f"must be one of {', '.join(map(str, sorted(allowed)))}")
        return found

    def choice(self, key: str, default: str, allowed: tuple[str, ...]) -> str:
        found = self.text(key)
        if found is None:
            return default
        if found.upper() not in allowed:
            raise SettingError(key, f"must be one of {', '.join(allowed)}")
        return found.upper()

    def document(self, key: str) -> Any:
        value = self.raw(key)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError as error:
            raise SettingError(key, f"is not valid JSON: {error}") from error

    def external_checks(self, key: str) -> str | None:
        """The checks document, refused at synth unless the job would accept it."""
        document = self.document(key)
        if document is None:
            return None
        if not isinstance(document, Mapping):
            raise SettingError(key, 'must be a JSON object {"sources": [...]}')
        try:
            checks_from_config(document)
        except SourceConfigError as error:
            raise SettingError(key, str(error)) from error
        return json.dumps(document, separators=(",", ":"))

    def webhooks(self, key: str) -> tuple[Webhook, ...]:
        document = self.document(key)
        if document is None:
            return ()
        if not isinstance(document, list):
            raise SettingError(key, "must be a JSON list of webhooks")
        return tuple(_webhook(f"{key}[{index}]", entry) for index, entry in enumerate(document))


def _whole(key: str, value: object, low: int, high: int) -> int:
    text = str(value).strip() if isinstance(value, (int, str)) else ""
    if isinstance(value, bool) or not text.isascii() or not text.isdigit():
        raise SettingError(key, f"must be a whole number from {low} to {high}")
    number = int(text)
    if not low <= number <= high:
        raise SettingError(key, f"must be a whole number from {low} to {high}")
    return number


_webhook_fields = {"name", "endpoint", "detailTypes", "secretArn", "header", "ratePerSecond"}


def _webhook(key: str, entry: object) -> Webhook:
    if not isinstance(entry, Mapping):
        raise SettingError(key, "must be an object")
    unknown = set(entry) - _webhook_fields
    if unknown:
        raise SettingError(key, f"has unknown fields {sorted(unknown)}")
    detail_types = entry.get("detailTypes")
    if not isinstance(detail_types, list) or not all(isinstance(k, str) for k in detail_types):
        raise SettingError(f"{key}.detailTypes", "must be a list of ledger event types")
    try:
        return Webhook(
            name=str(entry.get("name", "")),
            endpoint=str(entry.get("endpoint", "")),
            detail_types=tuple(detail_types),
            secret_arn=str(entry.get("secretArn", "")),
            header=str(entry.get("header", "Authorization")),
            rate_per_s=_whole(f"{key}.ratePerSecond", entry.get("ratePerSecond", 10), 1, 300),
        )
    except ValueError as error:
        if isinstance(error, SettingError):
            raise
        raise SettingError(key, str(error)) from error
