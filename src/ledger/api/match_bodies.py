"""The request body of statement matching: a statement's rows and the rules to match by."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field

from ledger.api.bodies import AmountText, Body, Id, Reference, _amount_text, _plain_text, plain_rule
from ledger.domain import limits
from ledger.reporting.matching import date_tolerance_s_max

# A row's amount is signed as the account sees it: + raises its balance.
SignedAmount = Annotated[
    str,
    BeforeValidator(_amount_text),
    Field(
        min_length=1,
        max_length=limits.amount_text_length_max,
        json_schema_extra={"pattern": r"^-?[0-9]+(\.[0-9]+)?$"},
        examples=["10.50", "-3.20"],
    ),
]
RowId = Annotated[str, _plain_text(1, limits.statement_row_id_length_max), plain_rule]
SourceName = Annotated[str, _plain_text(1, limits.source_name_length_max), plain_rule]
RowText = Annotated[str, _plain_text(1, limits.description_length_max), plain_rule]
# An RFC 3339 time with its zone; the service reads it, so its errors name the row.
RowDate = Annotated[str, Field(min_length=1, max_length=64, examples=["2026-03-31T00:00:00Z"])]
MatchField = Literal["amount", "reference", "date"]


class StatementRowBody(Body):
    """One row of the outside statement."""

    id: RowId
    amount: SignedAmount
    date: RowDate
    reference: Reference | None = None
    description: RowText | None = None


class MatchRulesBody(Body):
    """Which fields must agree, how closely, and whether a row may settle several entries."""

    match_on: Annotated[list[MatchField], Field(min_length=1, max_length=3)] | None = None
    date_tolerance_s: Annotated[int, Field(ge=0, le=date_tolerance_s_max)] | None = None
    amount_tolerance: AmountText | None = None
    strategy: Literal["one_to_one", "one_to_many"] | None = None

    def given(self) -> dict[str, Any]:
        """The rules given, as the service takes them."""
        return self.model_dump(exclude_none=True)


class NewStatementMatch(Body):
    """POST /v1/ledgers/{id}/statement-matches: at most 10,000 rows (refused beyond, with
    `details.limit`)."""

    account_id: Id
    source: SourceName
    rows: Annotated[
        list[StatementRowBody],
        Field(min_length=1, json_schema_extra={"maxItems": limits.statement_rows_max}),
    ]
    rules: MatchRulesBody | None = None
    dry_run: bool = False
