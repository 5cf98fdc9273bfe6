"""External balance check items, in their ledger's partition (ADR 0031):

- `LEDGER#<ledger id>` / `EXTERNAL#<source>#<inverted time>#<id>`: the check, where the
  listing finds it, one source's newest first;
- `LEDGER#<ledger id>` / `EXTERNAL_ID#<id>`: the same check by id, written in the same
  transaction, so a retried or replayed request finds it by key (its listing key holds the
  time of the first request). A listing's prefix `EXTERNAL#` never reads these.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ledger.domain.external import ExternalCheck
from ledger.domain.model import AccountType
from ledger.domain.money import Currency
from ledger.store.dynamodb.codec import number, string
from ledger.store.dynamodb.schema import timestamp
from ledger.store.external import check_position

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Item = dict[str, "AttributeValueTypeDef"]
entity = "external_check"
id_entity = "external_check_id"
listing_prefix = "EXTERNAL#"
id_prefix = "EXTERNAL_ID#"


def ledger_partition(ledger_id: str) -> str:
    """The partition of a ledger's own item, where its checks live too."""
    return f"LEDGER#{ledger_id}"


def listing_key(ledger_id: str, position: str) -> Item:
    """The key of a check's listing item at a position (`store.external.check_position`)."""
    return {"pk": string(ledger_partition(ledger_id)), "sk": string(f"{listing_prefix}{position}")}


def id_key(ledger_id: str, check_id: str) -> Item:
    """The key of a check's item by id."""
    return {"pk": string(ledger_partition(ledger_id)), "sk": string(f"{id_prefix}{check_id}")}


def check_attributes(check: ExternalCheck) -> Item:
    """A check's attributes, keys and entity apart."""
    item: Item = {
        "id": string(check.id),
        "ledger_id": string(check.ledger_id),
        "source": string(check.source),
        "currency": string(check.currency.code),
        "scale": number(check.currency.scale),
        "external": number(check.external),
        "ledger_total": number(check.ledger_total),
        "tolerance": number(check.tolerance),
        "accounts_counted": number(check.accounts_counted),
        "as_of": string(timestamp(check.as_of)),
        "checked_at": string(timestamp(check.checked_at)),
        "request_hash": string(check.request_hash),
    }
    if check.actor is not None:
        item["actor"] = string(check.actor)
    if check.account_ids is not None:
        item["account_ids"] = {"L": [string(account_id) for account_id in check.account_ids]}
    if check.account_type is not None:
        item["account_type"] = string(check.account_type.value)
    return item


def listing_item(check: ExternalCheck) -> Item:
    """The whole listing item of a check."""
    key = listing_key(check.ledger_id, check_position(check))
    return {**key, "entity": string(entity), **check_attributes(check)}


def id_item(check: ExternalCheck) -> Item:
    """The whole by-id item of a check."""
    return {
        **id_key(check.ledger_id, check.id),
        "entity": string(id_entity),
        **check_attributes(check),
    }


def check_of(item: dict[str, Any]) -> ExternalCheck:
    """The check an item (DynamoDB JSON) holds."""
    actor = item.get("actor")
    account_ids = item.get("account_ids")
    account_type = item.get("account_type")
    return ExternalCheck(
        id=item["id"]["S"],
        ledger_id=item["ledger_id"]["S"],
        source=item["source"]["S"],
        currency=Currency(item["currency"]["S"], int(item["scale"]["N"])),
        external=int(item["external"]["N"]),
        ledger_total=int(item["ledger_total"]["N"]),
        tolerance=int(item["tolerance"]["N"]),
        accounts_counted=int(item["accounts_counted"]["N"]),
        as_of=_moment(item["as_of"]["S"]),
        checked_at=_moment(item["checked_at"]["S"]),
        actor=None if actor is None else actor["S"],
        account_ids=None
        if account_ids is None
        else tuple(value["S"] for value in account_ids["L"]),
        account_type=None if account_type is None else AccountType(account_type["S"]),
        request_hash=item["request_hash"]["S"],
    )


def _moment(value: str) -> datetime:
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
