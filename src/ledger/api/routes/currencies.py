"""A ledger's currencies: the built-in ones and those it registers with their scale."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from pydantic import Field

from ledger.api.bodies import Body, CurrencyCode
from ledger.api.routing import Router, answers, reply
from ledger.api.views import View
from ledger.auth.api_keys import Role
from ledger.domain import limits
from ledger.domain.errors import ValidationError
from ledger.domain.ids import ledger_token
from ledger.domain.money import Currency

router = Router()


class NewCurrency(Body):
    """POST /v1/ledgers/{id}/currencies."""

    code: CurrencyCode
    scale: Annotated[int, Field(ge=0, le=limits.currency_scale_max)]


class CurrencyView(View):
    """A currency a ledger knows: its code, its scale, and whether it is built in."""

    code: str
    scale: int
    builtin: bool


class CurrencyPage(View):
    """Every currency a ledger knows, in one page: they live on the ledger's item."""

    items: list[CurrencyView]
    next_cursor: str | None


def currency_view(currency: Currency, builtin: bool) -> dict[str, Any]:
    """A currency as the API shows it."""
    return {"code": currency.code, "scale": currency.scale, "builtin": builtin}


@router.post(
    "/v1/ledgers/<ledger_id>/currencies",
    responses=answers(201, CurrencyView, "The currency, registered"),
    summary="Register a currency with its scale",
    tags=["ledgers"],
)
def register_currency(ledger_id: str, body: NewCurrency) -> Response[CurrencyView]:
    """Register a currency with its scale (admin). The same scale again changes nothing and
    answers the same; another scale for a registered code is refused."""
    ledger_token(ledger_id)
    runtime = router.runtime()
    router.require_write(Role.ADMIN, ledger_ids=[ledger_id])
    try:
        currency = runtime.ledger.register_currency(ledger_id, body.code, body.scale)
    except ValidationError as error:
        # The library names the code `currency`; this body names it `code`.
        if error.field != "currency":
            raise
        raise ValidationError("code", error.message) from None
    return reply(201, currency_view(currency, builtin=False))


@router.get(
    "/v1/ledgers/<ledger_id>/currencies",
    responses=answers(200, CurrencyPage, "The ledger's currencies"),
    summary="List the currencies a ledger knows",
    tags=["ledgers"],
)
def list_currencies(ledger_id: str) -> Response[CurrencyPage]:
    """Every currency the ledger knows, by code: the built-in ones and its registered ones."""
    ledger_token(ledger_id)
    runtime = router.runtime()
    runtime.scope.read(router.caller(), ledger_id, "ledger", ledger_id)
    known = runtime.ledger.list_currencies(ledger_id)
    items = [currency_view(currency, builtin) for currency, builtin in known]
    return reply(200, {"items": items, "next_cursor": None})
