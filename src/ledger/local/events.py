"""API Gateway HTTP API payload 2.0, locally: requests become events, results become responses."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    from datetime import datetime

# What API Gateway puts in requestContext; locally there is one account, one API, one stage.
account_id = "000000000000"
api_id = "local"
region = "us-east-1"
stage = "$default"
route_key = "$default"

_month_names = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# The response carries its own length and the connection is the server's business.
_hop_by_hop_headers = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})


class MalformedResult(ValueError):
    """A function returned what API Gateway cannot turn into a response: it answers 500."""


@dataclass(frozen=True)
class HttpRequest:
    """One HTTP request as it reached the gateway, body already read."""

    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    source_ip: str
    protocol: str = "HTTP/1.1"


@dataclass(frozen=True)
class HttpResponse:
    """One HTTP response, headers in order (a name may repeat, as Set-Cookie does)."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def with_header(self, name: str, value: str) -> HttpResponse:
        """The same response with one more header."""
        return HttpResponse(self.status, (*self.headers, (name, value)), self.body)


def gateway_response(status: int, message: str) -> HttpResponse:
    """A response API Gateway makes itself, such as 403 Forbidden, in its own body shape."""
    body = json.dumps({"message": message}).encode()
    return HttpResponse(status, (("content-type", "application/json"),), body)


def api_event(request: HttpRequest, request_id: str, now: datetime) -> dict[str, Any]:
    """The payload 2.0 event API Gateway sends the integration for this request."""
    raw_path, raw_query = _path_and_query(request.target)
    headers, cookies = _headers_and_cookies(request.headers)
    domain_name = headers.get("host", "localhost")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": account_id,
            "apiId": api_id,
            "domainName": domain_name,
            "domainPrefix": domain_name.split(".", 1)[0],
            "http": {
                "method": request.method,
                "path": raw_path,
                "protocol": request.protocol,
                "sourceIp": request.source_ip,
                "userAgent": headers.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": stage,
            "time": _clf_time(now),
            # Whole seconds and milliseconds apart: float milliseconds can round down by one.
            "timeEpoch": int(now.timestamp()) * 1000 + now.microsecond // 1000,
        },
        "isBase64Encoded": False,
    }
    # API Gateway leaves out what the request did not have rather than sending it empty.
    if cookies:
        event["cookies"] = cookies
    query = _joined(parse_qsl(raw_query, keep_blank_values=True))
    if query:
        event["queryStringParameters"] = query
    if request.body:
        try:
            event["body"] = request.body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def authorizer_event(event: dict[str, Any]) -> dict[str, Any]:
    """The REQUEST authorizer event (payload 2.0) for an API event: the same request, no body."""
    method = event["requestContext"]["http"]["method"]
    authorization = event["headers"].get("authorization")
    fields = {key: value for key, value in event.items() if key not in {"body", "isBase64Encoded"}}
    return {
        **fields,
        "type": "REQUEST",
        "routeArn": (
            f"arn:aws:execute-api:{region}:{account_id}:{api_id}/{stage}/{method}{event['rawPath']}"
        ),
        "identitySource": [] if authorization is None else [authorization],
    }


def authorization(result: object) -> tuple[bool, dict[str, Any]]:
    """Whether a simple authorizer response allows the request, and the context it passes on."""
    if not isinstance(result, dict) or not isinstance(result.get("isAuthorized"), bool):
        raise MalformedResult("an authorizer must return {'isAuthorized': bool, 'context': {...}}")
    context = result.get("context") or {}
    if not isinstance(context, dict):
        raise MalformedResult("an authorizer's context must be an object")
    return result["isAuthorized"], context


def http_response(result: object) -> HttpResponse:
    """The HTTP response API Gateway makes of a payload 2.0 integration result."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # API Gateway's inference for a result without statusCode: the result is the body.
        body = json.dumps(result).encode()
        return HttpResponse(200, (("content-type", "application/json"),), body)
    status = result["statusCode"]
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise MalformedResult(f"statusCode must be an HTTP status, not {status!r}")
    headers = [
        *_single_value_headers(result.get("headers")),
        *_multi_value_headers(result.get("multiValueHeaders")),
        *(("set-cookie", cookie) for cookie in _text_list("cookies", result.get("cookies"))),
    ]
    return HttpResponse(status, tuple(headers), _body(result))


def _path_and_query(target: str) -> tuple[str, str]:
    """The path and query of a request target, in origin form (/a?b) or absolute form."""
    if not target.startswith("/"):
        parts = urlsplit(target)
        return parts.path or "/", parts.query
    # Not urlsplit: it would read the start of //a/b as a host name.
    path, _, query = target.partition("#")[0].partition("?")
    return path, query


def _headers_and_cookies(
    pairs: tuple[tuple[str, str], ...],
) -> tuple[dict[str, str], list[str]]:
    """Header names lower-cased and repeats comma-joined; Cookie headers become a cookie list."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in pairs:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    return headers, cookies


def _joined(pairs: list[tuple[str, str]]) -> dict[str, str]:
    """Repeated names comma-joined, as payload 2.0 has no multi-value fields."""
    joined: dict[str, str] = {}
    for name, value in pairs:
        joined[name] = f"{joined[name]},{value}" if name in joined else value
    return joined


def _clf_time(now: datetime) -> str:
    """Common Log Format time in UTC, as requestContext.time has it: 12/Mar/2020:19:03:58 +0000."""
    month = _month_names[now.month - 1]
    return f"{now:%d}/{month}/{now:%Y:%H:%M:%S} +0000"


def _single_value_headers(headers: object) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if not isinstance(headers, dict):
        raise MalformedResult("headers must be an object")
    return [
        (name, _header_value(name, value))
        for name, value in headers.items()
        if name.lower() not in _hop_by_hop_headers
    ]


def _multi_value_headers(headers: object) -> list[tuple[str, str]]:
    if headers is None:
        return []
    if not isinstance(headers, dict):
        raise MalformedResult("multiValueHeaders must be an object")
    return [
        (name, _header_value(name, value))
        for name, values in headers.items()
        if name.lower() not in _hop_by_hop_headers
        for value in (values if isinstance(values, list) else [values])
    ]


def _header_value(name: str, value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise MalformedResult(f"header {name} must be a string or a number")
    text = str(value)
    # A line break would let a header value start a header or a body of its own.
    if any(character in text or character in name for character in "\r\n"):
        raise MalformedResult(f"header {name!r} holds a line break")
    return text


def _text_list(field: str, values: object) -> list[str]:
    if values is None:
        return []
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise MalformedResult(f"{field} must be a list of strings")
    return values


def _body(result: dict[str, Any]) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedResult("body must be a string")
    if not result.get("isBase64Encoded"):
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except binascii.Error as error:
        raise MalformedResult("body is marked base64 but is not") from error
