"""Health: the service answers, no key needed."""

from __future__ import annotations

from aws_lambda_powertools.event_handler import Response

from ledger.api.routing import Router, answers, reply
from ledger.api.views import HealthView

router = Router()


@router.get(
    "/v1/health",
    responses=answers(200, HealthView, "The service answers"),
    summary="Check that the service answers",
    tags=["meta"],
)
def health() -> Response[HealthView]:
    """The service answers (no key needed)."""
    return reply(200, {"status": "ok"})
