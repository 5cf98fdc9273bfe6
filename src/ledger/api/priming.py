"""The routes' validation, built at init rather than on each route's first request.

powertools builds a route's parameter and response models (pydantic TypeAdapters) and
inspects its handler's signature the first time the route is called. Built at import, that
work lands in the Lambda SnapStart snapshot, so no restored container pays for it on a
request. The OpenAPI document is not built here: only its own route needs it.
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import Route, _find_request_param_name


def routes(app: APIGatewayHttpResolver) -> list[Route]:
    """Every route `app` serves."""
    return app._static_routes + app._dynamic_routes


def prime(app: APIGatewayHttpResolver) -> None:
    """Build what each route of `app` needs to answer."""
    for route in routes(app):
        # Each property builds on first access and keeps what it built.
        route.dependant  # noqa: B018
        route.has_dependencies  # noqa: B018
        # What powertools' own adapter records on a route's first call.
        route.request_param_name = _find_request_param_name(route.func)
        route.request_param_name_checked = True
