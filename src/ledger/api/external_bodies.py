"""Request body of an external balance check: amounts are decimal strings, the external
one signed, the tolerance not."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Field

from ledger.api.bodies import (
    AccountTypeName,
    AmountText,
    Body,
    CurrencyCode,
    Id,
    Moment,
    _amount_text,
    plain_rule,
)
from ledger.domain import limits

SignedAmountText = Annotated[
    str,
    BeforeValidator(_amount_text),
    Field(
        min_length=1,
        max_length=limits.amount_text_length_max,
        json_schema_extra={"pattern": r"^-?[0-9]+(\.[0-9]+)?$"},
        examples=["1250.00", "-12.50"],
    ),
]
SourceName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=limits.source_name_length_max,
        json_schema_extra={"pattern": r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"},
        examples=["operating-bank"],
    ),
    plain_rule,
]


class ExternalBalanceBody(Body):
    """POST /v1/ledgers/{id}/external-balances: exactly one of `account_ids` and
    `account_type`; `tolerance` defaults to zero."""

    source: SourceName
    currency: CurrencyCode
    amount: SignedAmountText
    as_of: Moment | None = None
    account_ids: (
        Annotated[list[Id], Field(min_length=1, max_length=limits.external_check_accounts_max)]
        | None
    ) = None
    account_type: AccountTypeName | None = None
    tolerance: AmountText = "0"
