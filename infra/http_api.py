"""The ledger's HTTP API: every request through the authorizer to the API function.

The authorizer always answers `isAuthorized: true` with a context saying who called, and
the API function refuses an unauthenticated request itself, with the error contract
(docs/decisions/0010-authorizer-context-decides.md). So the authorizer has no identity
source (API Gateway would refuse a request without one on its own) and no result cache
(a revoked key stops working at once).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import aws_cdk as cdk
import jsii
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_apigatewayv2 as apigwv2
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_certificatemanager as acm
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.keys import logs_key

default_stage = "$default"

# One JSON object per request. An auditor asks of each call: when, from where, by which
# key, to what, with which outcome, and why it failed. `requestId` is the `X-Request-Id`
# the API answers with and the `request_id` of the functions' own log lines. The key id is
# the authorizer's context, never the secret: no header is logged.
access_log_fields = {
    "requestId": "$context.requestId",
    "requestTimeEpochMs": "$context.requestTimeEpoch",
    "ip": "$context.identity.sourceIp",
    "userAgent": "$context.identity.userAgent",
    "method": "$context.httpMethod",
    "path": "$context.path",
    "routeKey": "$context.routeKey",
    "protocol": "$context.protocol",
    "domainName": "$context.domainName",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "latencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency",
    "integrationStatus": "$context.integrationStatus",
    "integrationError": "$context.integrationErrorMessage",
    "authorizerError": "$context.authorizer.error",
    "authenticated": "$context.authorizer.authenticated",
    "authReason": "$context.authorizer.reason",
    "keyId": "$context.authorizer.key_id",
    "role": "$context.authorizer.role",
    "error": "$context.error.message",
}


@dataclass(frozen=True)
class Throttle:
    """Stage-wide limits: requests per second, and how many may arrive at once (burst)."""

    rate_per_s: int = 1000
    burst: int = 2000

    def __post_init__(self) -> None:
        if self.rate_per_s < 1 or self.burst < 1:
            raise ValueError(f"throttle limits must be positive: {self}")


@dataclass(frozen=True)
class CustomDomain:
    """A domain name for the API and the ACM certificate for it, in the stack's region."""

    name: str
    certificate_arn: str


@jsii.implements(apigwv2.IAccessLogSettings)
class _AccessLogSettings:
    """The stage's access logs: `access_log_fields` as JSON, to one log group."""

    def __init__(self, log_group: logs.ILogGroup) -> None:
        self._destination = apigwv2.LogGroupLogDestination(log_group)

    @property
    def destination(self) -> apigwv2.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigateway.AccessLogFormat:
        return apigateway.AccessLogFormat.custom(json.dumps(access_log_fields))


class LedgerHttpApi(Construct):
    """The HTTP API in front of the API function, with its authorizer and access logs."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        handler: lambda_.IFunction,
        authorizer: lambda_.IFunction,
        throttle: Throttle = Throttle(),
        domain: CustomDomain | None = None,
        log_retention: logs.RetentionDays = logs.RetentionDays.ONE_YEAR,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = self._access_log_group(log_retention)
        request_authorizer = authorizers.HttpLambdaAuthorizer(
            "Authorizer",
            authorizer,
            response_types=[authorizers.HttpLambdaResponseType.SIMPLE],
            identity_source=[],
            results_cache_ttl=cdk.Duration.seconds(0),
        )
        # When a domain is given, the execute-api endpoint is disabled: clients then have
        # one address, the one the certificate names, and nobody can go around it. The API
        # answers only once DNS points the name at `domain_target`.
        self.http_api = apigwv2.HttpApi(
            self,
            "Api",
            # Operators find the API by its stack's name, not by a construct id.
            api_name=f"{cdk.Stack.of(self).stack_name}-api",
            description="Serverless Ledger API",
            create_default_stage=False,
            default_integration=integrations.HttpLambdaIntegration(
                "Integration",
                handler,
                payload_format_version=apigwv2.PayloadFormatVersion.VERSION_2_0,
            ),
            default_authorizer=request_authorizer,
            disable_execute_api_endpoint=domain is not None,
        )
        stage = self.http_api.add_stage(
            "DefaultStage",
            stage_name=default_stage,
            auto_deploy=True,
            # AWS WAF cannot guard an HTTP API (a web ACL attaches to a REST API, not an
            # HTTP API): the stage's throttle is what bounds a flood before the functions.
            throttle=apigwv2.ThrottleSettings(
                rate_limit=throttle.rate_per_s, burst_limit=throttle.burst
            ),
            access_log_settings=_AccessLogSettings(self.access_logs),
        )
        if domain is None:
            self.url: str = stage.url
            self.domain_target: str | None = None
        else:
            self.url = f"https://{domain.name}/"
            self.domain_target = self._custom_domain(domain, stage)

    def _access_log_group(self, retention: logs.RetentionDays) -> logs.LogGroup:
        """The access logs' group, encrypted with a key of its own, both kept past the stack:
        the logs are evidence, and without their key they could not be read."""
        key = logs_key(self, "AccessLogsKey", "Encrypts the ledger API's access logs")
        return logs.LogGroup(
            self,
            "AccessLogs",
            encryption_key=key,
            retention=retention,
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _custom_domain(self, domain: CustomDomain, stage: apigwv2.HttpStage) -> str:
        """The domain, TLS 1.2 at least, mapped at its root to `stage`; returns the regional
        name DNS is to point the domain at."""
        domain_name = apigwv2.DomainName(
            self,
            "Domain",
            domain_name=domain.name,
            certificate=acm.Certificate.from_certificate_arn(
                self, "Certificate", domain.certificate_arn
            ),
            security_policy=apigwv2.SecurityPolicy.TLS_1_2,
        )
        apigwv2.ApiMapping(
            self, "DomainMapping", api=self.http_api, domain_name=domain_name, stage=stage
        )
        return domain_name.regional_domain_name
