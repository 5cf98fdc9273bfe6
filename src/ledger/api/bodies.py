"""Request bodies as pydantic models: strict types, no unknown fields, every string bounded."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, Field
from pydantic.config import JsonDict

from ledger.auth.api_keys import Role
from ledger.domain import limits, validate
from ledger.domain.model import AccountStatus, AccountType, OverdraftMode, Side
from ledger.domain.monitors import MonitorField, Operator

amount_pattern = r"^[0-9]+(\.[0-9]+)?$"


def _amount_text(value: object) -> object:
    # A JSON number has already lost precision (or would invite floats): refuse it by name.
    if isinstance(value, int | float):
        raise ValueError('amounts are decimal strings such as "10.50", never JSON numbers')
    if isinstance(value, str) and len(value) > limits.amount_text_length_max:
        raise ValueError(f"amounts have at most {limits.amount_text_length_max} characters")
    return value


AmountText = Annotated[
    str,
    BeforeValidator(_amount_text),
    Field(
        min_length=1,
        max_length=limits.amount_text_length_max,
        json_schema_extra={"pattern": amount_pattern},
        examples=["10.50"],
    ),
]


def _plain(value: str) -> str:
    if validate.has_control(value):
        raise ValueError(validate.control_message)
    return value


def _prose(value: str) -> str:
    if validate.has_prose_control(value):
        raise ValueError(validate.prose_control_message)
    return value


def _key(value: str) -> str:
    if validate.has_control(value):
        raise ValueError(validate.key_control_message)
    return value


# A string refused for any control character, and one (prose) that may hold line feeds
# and tabs; the schemas carry the rule as a pattern too, for clients and fuzzers.
plain_rule = AfterValidator(_plain)
_plain_pattern: JsonDict = {"pattern": r"^[^\x00-\x1f]*$"}
_prose_pattern: JsonDict = {"pattern": r"^[^\x00-\x08\x0b-\x1f]*$"}


def _plain_text(length_min: int, length_max: int) -> Any:
    return Field(min_length=length_min, max_length=length_max, json_schema_extra=_plain_pattern)


Id = Annotated[str, _plain_text(1, limits.name_length_max), plain_rule]
Name = Annotated[str, _plain_text(1, limits.name_length_max), plain_rule]
OwnerId = Annotated[str, _plain_text(1, limits.owner_id_length_max), plain_rule]
Reference = Annotated[str, _plain_text(1, limits.reference_length_max), plain_rule]
Code = Annotated[str, _plain_text(1, limits.code_length_max), plain_rule]
CurrencyCode = Annotated[str, _plain_text(1, limits.currency_code_length_max), plain_rule]
Description = Annotated[
    str,
    Field(max_length=limits.description_length_max, json_schema_extra=_prose_pattern),
    AfterValidator(_prose),
]
# A key pattern would become `patternProperties`, which says something else: no pattern.
MetadataKey = Annotated[
    str, Field(min_length=1, max_length=limits.metadata_key_length_max), AfterValidator(_key)
]
Metadata = Annotated[
    dict[
        MetadataKey,
        Annotated[
            str,
            Field(max_length=limits.metadata_value_length_max, json_schema_extra=_prose_pattern),
            AfterValidator(_prose),
        ],
    ],
    Field(max_length=limits.metadata_keys_max),
]
ExpiresIn = Annotated[int, Field(ge=1, le=limits.expires_in_s_max)]
Shards = Annotated[int, Field(ge=1, le=limits.shards_max)]
Moment = Annotated[AwareDatetime, Field(strict=False)]
# Enum members arrive as their JSON strings, which strict mode would refuse.
RoleName = Annotated[Role, Field(strict=False)]
AccountTypeName = Annotated[AccountType, Field(strict=False)]
StatusName = Annotated[AccountStatus, Field(strict=False)]
OverdraftModeName = Annotated[OverdraftMode, Field(strict=False)]
SideName = Annotated[Side, Field(strict=False)]


class Body(BaseModel):
    """A request body: exact types (no coercion), and an unknown field is an error."""

    # Validators are built on a route's first request, not at import (cold start).
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)


class NewLedger(Body):
    """POST /v1/ledgers."""

    name: Name
    owner_id: OwnerId | None = None
    metadata: Metadata | None = None
    world_shards: Shards = limits.world_shards_default


class OverdraftBody(Body):
    """An overdraft policy; `limit` goes with, and only with, mode `limit`."""

    mode: OverdraftModeName
    limit: AmountText | None = None


class NewAccount(Body):
    """POST /v1/accounts."""

    ledger_id: Id
    name: Name
    type: AccountTypeName
    currency: CurrencyCode
    code: Code | None = None
    parent_id: Id | None = None
    owner_id: OwnerId | None = None
    overdraft: OverdraftBody | None = None
    shards: Shards = 1
    metadata: Metadata | None = None


class AccountChanges(Body):
    """PATCH /v1/accounts/{id}: status and overdraft are for admins."""

    name: Name | None = None
    status: StatusName | None = None
    overdraft: OverdraftBody | None = None
    metadata: Metadata | None = None


class EntryOptionsBody(Body):
    """What every entry-creating request may add."""

    reference: Reference | None = None
    description: Description | None = None
    metadata: Metadata | None = None
    effective_at: Moment | None = None

    def options(self) -> dict[str, Any]:
        """The library's entry options from the fields that were given."""
        fields = ("reference", "description", "metadata", "effective_at")
        return {name: getattr(self, name) for name in fields if getattr(self, name) is not None}


class LineBody(Body):
    """One line of a journal entry."""

    account_id: Id
    side: SideName
    amount: AmountText
    currency: CurrencyCode | None = None


class PendingBody(Body):
    """Create the entry pending, optionally expiring."""

    expires_in: ExpiresIn | None = None


class NewEntry(EntryOptionsBody):
    """POST /v1/entries."""

    ledger_id: Id
    lines: Annotated[
        list[LineBody],
        Field(min_length=limits.lines_per_entry_min, max_length=limits.lines_per_entry_max),
    ]
    pending: PendingBody | None = None


class AmountOptional(Body):
    """Post or confirm, fully or for less."""

    amount: AmountText | None = None


class ReversalBody(Body):
    """POST /v1/entries/{id}/reverse."""

    description: Description | None = None


class OneAccountMove(EntryOptionsBody):
    """Deposits, withdrawals, spends and refunds."""

    account_id: Id
    amount: AmountText
    counterparty_account_id: Id | None = None


class TransferBody(EntryOptionsBody):
    """POST /v1/transfers."""

    from_account_id: Id
    to_account_id: Id
    amount: AmountText


class HoldBody(EntryOptionsBody):
    """POST /v1/holds."""

    account_id: Id
    amount: AmountText
    counterparty_account_id: Id | None = None
    expires_in: ExpiresIn | None = None


class EscrowBody(EntryOptionsBody):
    """POST /v1/escrows."""

    buyer_account_id: Id
    seller_account_id: Id
    amount: AmountText
    expires_in: ExpiresIn | None = None


class ConversionBody(EntryOptionsBody):
    """POST /v1/conversions."""

    from_account_id: Id
    to_account_id: Id
    from_amount: AmountText
    to_amount: AmountText


class NewApiKey(Body):
    """POST /v1/api-keys."""

    role: RoleName
    ledger_ids: Annotated[list[Id], Field(max_length=limits.api_key_ledger_ids_max)] | None = None
    owner_id: OwnerId | None = None


# A threshold may be negative for the figures that can be (`posted`, `spendable`).
MonitorValue = Annotated[
    str,
    BeforeValidator(_amount_text),
    Field(
        min_length=1,
        max_length=limits.amount_text_length_max,
        json_schema_extra={"pattern": r"^-?[0-9]+(\.[0-9]+)?$"},
        examples=["10.50", "90"],
    ),
]


class NewMonitor(Body):
    """POST /v1/accounts/{id}/monitors: `value` is an amount in the account's currency, or
    for `credit_utilization` a percent."""

    field: Annotated[MonitorField, Field(strict=False)]
    operator: Annotated[Operator, Field(strict=False)]
    value: MonitorValue
    description: Description | None = None
