"""API Gateway payload 2.0 locally: the events a request becomes and the responses results make."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime
from typing import Any

import pytest

from ledger.local.events import (
    HttpRequest,
    MalformedResult,
    api_event,
    authorization,
    authorizer_event,
    gateway_response,
    http_response,
)

_now = datetime(2026, 3, 12, 19, 3, 58, 390000, tzinfo=UTC)


def _request(
    target: str = "/v1/health",
    headers: tuple[tuple[str, str], ...] = (("Host", "127.0.0.1:3000"),),
    body: bytes = b"",
    method: str = "GET",
) -> HttpRequest:
    return HttpRequest(
        method=method, target=target, headers=headers, body=body, source_ip="10.1.2.3"
    )


def test_a_get_becomes_a_payload_2_event_like_api_gateways() -> None:
    # GIVEN a plain GET with a user agent
    request_id = secrets.token_hex(8)
    request = _request(headers=(("Host", "127.0.0.1:3000"), ("User-Agent", "curl/8.0")))

    # WHEN it becomes an event
    event = api_event(request, request_id, _now)

    # THEN every field API Gateway sets is there, and absent parts are left out
    assert event == {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/v1/health",
        "rawQueryString": "",
        "headers": {"host": "127.0.0.1:3000", "user-agent": "curl/8.0"},
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "127.0.0.1:3000",
            "domainPrefix": "127",
            "http": {
                "method": "GET",
                "path": "/v1/health",
                "protocol": "HTTP/1.1",
                "sourceIp": "10.1.2.3",
                "userAgent": "curl/8.0",
            },
            "requestId": request_id,
            "routeKey": "$default",
            "stage": "$default",
            "time": "12/Mar/2026:19:03:58 +0000",
            "timeEpoch": 1773342238390,
        },
        "isBase64Encoded": False,
    }


def test_repeated_headers_and_query_parameters_are_comma_joined() -> None:
    # GIVEN a request repeating a header (in two cases) and a query parameter
    request = _request(
        target="/v1/entries?tag=a&tag=b%20c&empty=&plain=1",
        headers=(("X-Tag", "one"), ("x-tag", "two"), ("Accept", "*/*")),
    )

    # WHEN it becomes an event
    event = api_event(request, "id", _now)

    # THEN names are lower-cased, repeats joined by commas, values decoded, raw query kept
    assert event["headers"] == {"x-tag": "one,two", "accept": "*/*"}
    assert event["queryStringParameters"] == {"tag": "a,b c", "empty": "", "plain": "1"}
    assert event["rawQueryString"] == "tag=a&tag=b%20c&empty=&plain=1"


def test_cookies_leave_the_headers_for_the_cookie_list() -> None:
    # GIVEN two Cookie headers, one holding two cookies
    request = _request(headers=(("Cookie", "a=1; b=2"), ("cookie", "c=3"), ("Accept", "*/*")))

    # WHEN it becomes an event
    event = api_event(request, "id", _now)

    # THEN each cookie is one list item and no cookie header remains
    assert event["cookies"] == ["a=1", "b=2", "c=3"]
    assert event["headers"] == {"accept": "*/*"}


@pytest.mark.parametrize(
    ("target", "path", "query"),
    [
        ("//v1//health?x=1", "//v1//health", "x=1"),
        ("http://example.test/v1/health?x=1", "/v1/health", "x=1"),
        ("/v1/health#fragment", "/v1/health", ""),
    ],
)
def test_the_path_is_taken_from_any_request_target_form(target: str, path: str, query: str) -> None:
    # GIVEN a request target in an unusual form
    # WHEN it becomes an event
    event = api_event(_request(target=target), "id", _now)

    # THEN the path and query are the ones the target names
    assert (event["rawPath"], event["requestContext"]["http"]["path"]) == (path, path)
    assert event["rawQueryString"] == query


def test_a_utf8_body_stays_text_and_a_binary_one_goes_base64() -> None:
    # GIVEN a JSON body and a body that is not UTF-8
    text = json.dumps({"name": "café"}).encode()
    binary = secrets.token_bytes(16) + b"\xff"

    # WHEN each becomes an event
    text_event = api_event(_request(body=text, method="POST"), "id", _now)
    binary_event = api_event(_request(body=binary, method="POST"), "id", _now)

    # THEN text is passed as is and binary base64-encoded with the flag set
    assert (text_event["body"], text_event["isBase64Encoded"]) == (text.decode(), False)
    assert binary_event["isBase64Encoded"] is True
    assert base64.b64decode(binary_event["body"]) == binary


def test_the_authorizer_event_is_the_request_without_its_body() -> None:
    # GIVEN the event of a POST with a bearer key
    request = _request(
        target="/v1/ledgers?x=1",
        headers=(("Authorization", "Bearer lk_abc"),),
        body=b'{"name": "main"}',
        method="POST",
    )
    event = api_event(request, "id", _now)

    # WHEN the authorizer's event is made of it
    authorizer = authorizer_event(event)

    # THEN it is a REQUEST event for the route, with the identity source and no body
    assert authorizer["type"] == "REQUEST"
    assert authorizer["routeArn"] == (
        "arn:aws:execute-api:us-east-1:000000000000:local/$default/POST/v1/ledgers"
    )
    assert authorizer["identitySource"] == ["Bearer lk_abc"]
    assert "body" not in authorizer
    assert "isBase64Encoded" not in authorizer
    assert authorizer["queryStringParameters"] == {"x": "1"}
    assert authorizer["requestContext"] == event["requestContext"]


def test_an_anonymous_request_has_an_empty_identity_source() -> None:
    # GIVEN a request without an Authorization header
    # WHEN the authorizer's event is made of it
    authorizer = authorizer_event(api_event(_request(), "id", _now))

    # THEN its identity source is empty
    assert authorizer["identitySource"] == []


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        ({"isAuthorized": True, "context": {"role": "admin"}}, (True, {"role": "admin"})),
        ({"isAuthorized": False}, (False, {})),
        ({"isAuthorized": True, "context": None}, (True, {})),
    ],
)
def test_a_simple_authorizer_response_is_read(
    result: dict[str, Any], expected: tuple[bool, dict[str, Any]]
) -> None:
    # GIVEN a simple authorizer response
    # WHEN it is read
    # THEN the decision and the context come out
    assert authorization(result) == expected


@pytest.mark.parametrize(
    "result",
    [None, "yes", {"isAuthorized": "true"}, {"isAuthorized": True, "context": ["a"]}],
)
def test_a_malformed_authorizer_response_is_refused(result: object) -> None:
    # GIVEN an authorizer response that is not a simple response
    # WHEN it is read
    # THEN it is malformed (API Gateway answers 500)
    with pytest.raises(MalformedResult):
        authorization(result)


def test_a_structured_result_becomes_its_response() -> None:
    # GIVEN a result with status, headers, multi-value headers, cookies and a body
    result = {
        "statusCode": 201,
        "headers": {"Content-Type": "application/json", "X-Count": 3, "Content-Length": "999"},
        "multiValueHeaders": {"X-Many": ["a", "b"]},
        "cookies": ["session=1; HttpOnly", "theme=dark"],
        "body": '{"ok": true}',
        "isBase64Encoded": False,
    }

    # WHEN it becomes a response
    response = http_response(result)

    # THEN everything is passed through, repeated headers repeated, the length left to the server
    assert response.status == 201
    assert response.headers == (
        ("Content-Type", "application/json"),
        ("X-Count", "3"),
        ("X-Many", "a"),
        ("X-Many", "b"),
        ("set-cookie", "session=1; HttpOnly"),
        ("set-cookie", "theme=dark"),
    )
    assert response.body == b'{"ok": true}'


def test_a_result_without_body_has_an_empty_one() -> None:
    # GIVEN a structured result without a body
    # WHEN it becomes a response
    response = http_response({"statusCode": 204})

    # THEN its body is empty and it has no headers of its own
    assert (response.status, response.headers, response.body) == (204, (), b"")


def test_a_base64_result_body_is_decoded() -> None:
    # GIVEN a result whose body is base64
    payload = secrets.token_bytes(32)
    result = {
        "statusCode": 200,
        "body": base64.b64encode(payload).decode(),
        "isBase64Encoded": True,
    }

    # WHEN it becomes a response
    # THEN the body is the decoded bytes
    assert http_response(result).body == payload


@pytest.mark.parametrize("result", [{"balance": "1.00"}, ["a", 1], "hello", None])
def test_a_result_without_status_code_is_the_json_body_of_a_200(result: object) -> None:
    # GIVEN a result that is not a structured response
    # WHEN it becomes a response
    response = http_response(result)

    # THEN, as API Gateway infers, it is the JSON body of a 200
    assert response.status == 200
    assert response.headers == (("content-type", "application/json"),)
    assert json.loads(response.body) == result


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "200"},
        {"statusCode": True},
        {"statusCode": 600},
        {"statusCode": 200, "headers": ["a"]},
        {"statusCode": 200, "headers": {"a": None}},
        {"statusCode": 200, "headers": {"a": "b\r\nx-injected: 1"}},
        {"statusCode": 200, "multiValueHeaders": "a"},
        {"statusCode": 200, "cookies": "a=1"},
        {"statusCode": 200, "body": {"a": 1}},
        {"statusCode": 200, "body": "not base64!", "isBase64Encoded": True},
    ],
)
def test_a_malformed_result_is_refused(result: dict[str, Any]) -> None:
    # GIVEN a structured result API Gateway could not use
    # WHEN it becomes a response
    # THEN it is malformed (API Gateway answers 500)
    with pytest.raises(MalformedResult):
        http_response(result)


def test_gateway_responses_have_api_gateways_body() -> None:
    # GIVEN API Gateway's own refusal
    # WHEN it is made
    response = gateway_response(403, "Forbidden")

    # THEN it is JSON with a message, as API Gateway sends
    assert response.status == 403
    assert json.loads(response.body) == {"message": "Forbidden"}
    assert response.headers == (("content-type", "application/json"),)
