"""The HTTP API: every request through the authorizer (no identity source, no cache) to the
API alias, on a throttled `$default` stage with JSON access logs, with an optional domain."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.assertions import Match, Template
from stand_ins import stand_in_function

from infra.compliance import Finding, add_rule_packs, synthesize_checked
from infra.http_api import CustomDomain, LedgerHttpApi, Throttle, access_log_fields

Resource = dict[str, Any]

# One pytest worker synthesizes the stacks once, rather than each worker on its own.
pytestmark = pytest.mark.xdist_group("cdk")

domain = CustomDomain(
    name="ledger.example.com",
    certificate_arn="arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d",
)
custom_throttle = Throttle(rate_per_s=50, burst=100)
environment = cdk.Environment(account="123456789012", region="eu-west-1")


@dataclass(frozen=True)
class Synthesized:
    """One stack holding the construct, its template, and the ids of its stand-in aliases."""

    stack: cdk.Stack
    api: LedgerHttpApi
    template: Template
    handler_alias: str
    authorizer_alias: str


def stand_in(stack: cdk.Stack, name: str) -> lambda_.Alias:
    """A function with a published version and a live alias, as the stack passes them."""
    function = stand_in_function(stack, name, timeout=cdk.Duration.seconds(10))
    return lambda_.Alias(stack, f"{name}Alias", alias_name="live", version=function.current_version)


def logical_id(stack: cdk.Stack, construct: Any) -> str:
    """The logical id of a construct's CloudFormation resource."""
    resource = construct.node.default_child
    assert isinstance(resource, cdk.CfnElement)
    return str(stack.resolve(stack.get_logical_id(resource)))


def with_defaults(
    stack: cdk.Stack, handler: lambda_.IFunction, authorizer: lambda_.IFunction
) -> LedgerHttpApi:
    """The construct as the stack makes it without any context."""
    return LedgerHttpApi(stack, "HttpApi", handler=handler, authorizer=authorizer)


def with_everything(
    stack: cdk.Stack, handler: lambda_.IFunction, authorizer: lambda_.IFunction
) -> LedgerHttpApi:
    """The construct given a domain, its own throttle and a two-year retention."""
    return LedgerHttpApi(
        stack,
        "HttpApi",
        handler=handler,
        authorizer=authorizer,
        throttle=custom_throttle,
        domain=domain,
        log_retention=logs.RetentionDays.TWO_YEARS,
    )


@pytest.fixture(scope="module")
def synthesis(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[dict[str, Synthesized], list[Finding]]:
    """Two stacks, with the defaults and with a domain, synthesized once under the rule packs."""
    outdir = tmp_path_factory.mktemp("http-api")
    app = cdk.App(outdir=str(outdir))
    add_rule_packs(app)
    built: dict[str, tuple[cdk.Stack, LedgerHttpApi, str, str]] = {}
    for name, build in (("Defaults", with_defaults), ("Domain", with_everything)):
        stack = cdk.Stack(app, name, env=environment)
        handler = stand_in(stack, "Handler")
        authorizer = stand_in(stack, "Authorizer")
        api = build(stack, handler, authorizer)
        built[name] = (stack, api, logical_id(stack, handler), logical_id(stack, authorizer))
    found = synthesize_checked(app)
    stacks = {
        name: Synthesized(
            stack=stack,
            api=api,
            template=Template.from_json(json.loads((outdir / f"{name}.template.json").read_text())),
            handler_alias=handler_alias,
            authorizer_alias=authorizer_alias,
        )
        for name, (stack, api, handler_alias, authorizer_alias) in built.items()
    }
    return stacks, found


@pytest.fixture(scope="module")
def plain(synthesis: tuple[dict[str, Synthesized], list[Finding]]) -> Synthesized:
    """The construct with every default: no domain."""
    return synthesis[0]["Defaults"]


@pytest.fixture(scope="module")
def with_domain(synthesis: tuple[dict[str, Synthesized], list[Finding]]) -> Synthesized:
    """The construct with a custom domain, its own throttle and retention."""
    return synthesis[0]["Domain"]


def only(template: Template, resource_type: str) -> Resource:
    """The one resource of a type in a template."""
    found = template.find_resources(resource_type)
    assert len(found) == 1, (resource_type, list(found))
    (resource,) = found.values()
    return dict(resource)


def test_rule_packs_find_nothing_unacknowledged(
    synthesis: tuple[dict[str, Synthesized], list[Finding]],
) -> None:
    # GIVEN both stacks synthesized under AwsSolutions, Serverless and PCI DSS 3.2.1
    _, found = synthesis
    # THEN no rule finds anything that is not acknowledged
    assert [(finding.rule, finding.path) for finding in found] == []


def test_authorizer_runs_on_every_request(plain: Synthesized) -> None:
    # GIVEN the synthesized authorizer
    properties = only(plain.template, "AWS::ApiGatewayV2::Authorizer")["Properties"]
    # THEN it is a Lambda (REQUEST) authorizer with simple responses on payload 2.0, with no
    # identity source and no cache, so no request is refused or answered by API Gateway itself
    assert properties["AuthorizerType"] == "REQUEST"
    assert properties["AuthorizerPayloadFormatVersion"] == "2.0"
    assert properties["EnableSimpleResponses"] is True
    assert properties["AuthorizerResultTtlInSeconds"] == 0
    assert properties.get("IdentitySource", []) == []


def test_authorizer_invokes_the_authorizer_alias(plain: Synthesized) -> None:
    # GIVEN the authorizer and the permissions of the synthesized stack
    properties = only(plain.template, "AWS::ApiGatewayV2::Authorizer")["Properties"]
    # THEN its URI names the alias, not the function's $LATEST
    uri_parts = properties["AuthorizerUri"]["Fn::Join"][1]
    assert {"Ref": plain.authorizer_alias} in uri_parts
    # AND API Gateway may invoke that alias for this authorizer only
    plain.template.has_resource_properties(
        "AWS::Lambda::Permission",
        {
            "FunctionName": {"Ref": plain.authorizer_alias},
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": {
                "Fn::Join": ["", Match.array_with([Match.string_like_regexp("/authorizers/")])]
            },
        },
    )


def test_one_catch_all_route_through_the_authorizer(plain: Synthesized) -> None:
    # GIVEN the synthesized routes
    route = only(plain.template, "AWS::ApiGatewayV2::Route")["Properties"]
    (authorizer_id,) = plain.template.find_resources("AWS::ApiGatewayV2::Authorizer")
    # THEN the only route is `$default`, which also catches `/`, and it goes through the
    # Lambda authorizer: no route of the ledger skips it
    assert route["RouteKey"] == "$default"
    assert route["AuthorizationType"] == "CUSTOM"
    assert route["AuthorizerId"] == {"Ref": authorizer_id}


def test_integration_is_the_api_alias_on_payload_2(plain: Synthesized) -> None:
    # GIVEN the synthesized integration
    integration = only(plain.template, "AWS::ApiGatewayV2::Integration")["Properties"]
    # THEN it proxies to the API alias (SnapStart runs on published versions) with payload 2.0
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert integration["IntegrationUri"] == {"Ref": plain.handler_alias}
    assert integration["PayloadFormatVersion"] == "2.0"
    plain.template.has_resource_properties(
        "AWS::Lambda::Permission",
        {"FunctionName": {"Ref": plain.handler_alias}, "Principal": "apigateway.amazonaws.com"},
    )


def test_default_stage_deploys_itself_with_the_default_throttle(plain: Synthesized) -> None:
    # GIVEN the synthesized stage of the construct with its defaults
    stage = only(plain.template, "AWS::ApiGatewayV2::Stage")["Properties"]
    # THEN it is the auto-deployed `$default` stage, throttled at 1000 per second, burst 2000
    assert stage["StageName"] == "$default"
    assert stage["AutoDeploy"] is True
    assert stage["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": 1000,
        "ThrottlingBurstLimit": 2000,
    }


def test_stage_throttle_is_the_given_one(with_domain: Synthesized) -> None:
    # GIVEN a construct given its own throttle
    stage = only(with_domain.template, "AWS::ApiGatewayV2::Stage")["Properties"]
    # THEN the stage applies exactly those limits
    assert stage["DefaultRouteSettings"] == {
        "ThrottlingRateLimit": custom_throttle.rate_per_s,
        "ThrottlingBurstLimit": custom_throttle.burst,
    }


@pytest.mark.parametrize(("rate_per_s", "burst"), [(0, 10), (10, 0), (-1, 10)])
def test_throttle_without_positive_limits_is_refused(rate_per_s: int, burst: int) -> None:
    # WHEN a throttle of no or negative requests is made THEN it is refused before any synth
    with pytest.raises(ValueError, match="positive"):
        Throttle(rate_per_s=rate_per_s, burst=burst)


def test_access_logs_are_json_with_what_an_auditor_asks(plain: Synthesized) -> None:
    # GIVEN the synthesized stage and the access log group
    stage = only(plain.template, "AWS::ApiGatewayV2::Stage")["Properties"]
    (log_group_id,) = plain.template.find_resources("AWS::Logs::LogGroup")
    settings = stage["AccessLogSettings"]
    # THEN the stage logs to that group, one JSON object per request
    assert settings["DestinationArn"] == {"Fn::GetAtt": [log_group_id, "Arn"]}
    logged = json.loads(settings["Format"])
    assert logged == access_log_fields
    # AND each entry says when, from where, by which key, to what, with which outcome and why
    expected = {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "method": "$context.httpMethod",
        "path": "$context.path",
        "routeKey": "$context.routeKey",
        "status": "$context.status",
        "latencyMs": "$context.responseLatency",
        "integrationError": "$context.integrationErrorMessage",
        "authorizerError": "$context.authorizer.error",
        "userAgent": "$context.identity.userAgent",
        "keyId": "$context.authorizer.key_id",
        "authReason": "$context.authorizer.reason",
    }
    assert expected.items() <= logged.items()
    # AND nothing of a request's headers, where the bearer secret travels
    assert not any("header" in variable.lower() for variable in logged.values())


def test_access_logs_are_encrypted_kept_a_year_and_outlive_the_stack(
    plain: Synthesized,
) -> None:
    # GIVEN the synthesized access log group and its key
    log_group = only(plain.template, "AWS::Logs::LogGroup")
    (key_id,) = plain.template.find_resources("AWS::KMS::Key")
    # THEN it keeps a year by default, is encrypted with its own rotated key, and both stay
    # when the stack goes: access logs are evidence
    assert log_group["Properties"]["RetentionInDays"] == 365
    assert log_group["Properties"]["KmsKeyId"] == {"Fn::GetAtt": [key_id, "Arn"]}
    assert log_group["DeletionPolicy"] == "Retain"
    key = only(plain.template, "AWS::KMS::Key")
    assert key["Properties"]["EnableKeyRotation"] is True
    assert key["DeletionPolicy"] == "Retain"


def test_access_log_key_serves_only_this_region_s_log_groups(plain: Synthesized) -> None:
    # GIVEN the access log key's policy
    statements = only(plain.template, "AWS::KMS::Key")["Properties"]["KeyPolicy"]["Statement"]
    (logs_service,) = [s for s in statements if "Service" in s["Principal"]]
    # THEN CloudWatch Logs of the stack's region may use it, for this account's log groups
    assert logs_service["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert "kms:GenerateDataKey*" in logs_service["Action"]
    condition = logs_service["Condition"]["ArnLike"]["kms:EncryptionContext:aws:logs:arn"]
    assert condition["Fn::Join"][1][-1] == ":logs:eu-west-1:123456789012:log-group:*"


def test_log_retention_is_the_given_one(with_domain: Synthesized) -> None:
    # GIVEN a construct given a two-year retention THEN its access logs keep two years
    log_group = only(with_domain.template, "AWS::Logs::LogGroup")
    assert log_group["Properties"]["RetentionInDays"] == 731


def test_api_is_named_after_its_stack(plain: Synthesized) -> None:
    # GIVEN the synthesized API THEN an operator finds it by the stack's name
    api = only(plain.template, "AWS::ApiGatewayV2::Api")["Properties"]
    assert api["Name"] == "Defaults-api"
    assert api["ProtocolType"] == "HTTP"


def test_without_a_domain_clients_use_the_stage_url(plain: Synthesized) -> None:
    # GIVEN the construct without a domain
    api = only(plain.template, "AWS::ApiGatewayV2::Api")["Properties"]
    (api_id,) = plain.template.find_resources("AWS::ApiGatewayV2::Api")
    # THEN the execute-api endpoint answers, no domain is made, and the URL is the stage's
    assert api["DisableExecuteApiEndpoint"] is False
    plain.template.resource_count_is("AWS::ApiGatewayV2::DomainName", 0)
    plain.template.resource_count_is("AWS::ApiGatewayV2::ApiMapping", 0)
    url = plain.stack.resolve(plain.api.url)
    assert url["Fn::Join"][1][:2] == ["https://", {"Ref": api_id}]
    assert ".execute-api.eu-west-1." in url["Fn::Join"][1]
    assert plain.api.domain_target is None


def test_with_a_domain_clients_use_only_the_domain(with_domain: Synthesized) -> None:
    # GIVEN the construct with a custom domain
    template = with_domain.template
    (domain_id,) = template.find_resources("AWS::ApiGatewayV2::DomainName")
    (api_id,) = template.find_resources("AWS::ApiGatewayV2::Api")
    (stage_id,) = template.find_resources("AWS::ApiGatewayV2::Stage")
    # THEN the domain holds the certificate, regional, TLS 1.2 at least
    template.has_resource_properties(
        "AWS::ApiGatewayV2::DomainName",
        {
            "DomainName": domain.name,
            "DomainNameConfigurations": [
                {
                    "CertificateArn": domain.certificate_arn,
                    "EndpointType": "REGIONAL",
                    "SecurityPolicy": "TLS_1_2",
                }
            ],
        },
    )
    # AND maps the root of the domain to the `$default` stage
    mapping = only(template, "AWS::ApiGatewayV2::ApiMapping")
    assert mapping["Properties"] == {
        "ApiId": {"Ref": api_id},
        "DomainName": {"Ref": domain_id},
        "Stage": "$default",
    }
    # (CloudFormation creates the stage first: the mapping names it only by its name)
    assert stage_id in mapping["DependsOn"]
    # AND the execute-api endpoint is off, so the domain is the only way in
    api = only(template, "AWS::ApiGatewayV2::Api")["Properties"]
    assert api["DisableExecuteApiEndpoint"] is True
    assert with_domain.api.url == "https://ledger.example.com/"
    # AND DNS is to point the name at the domain's regional target
    target = with_domain.stack.resolve(with_domain.api.domain_target)
    assert target == {"Fn::GetAtt": [domain_id, "RegionalDomainName"]}
