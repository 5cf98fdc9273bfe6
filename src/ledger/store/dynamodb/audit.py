"""Audit records and audit events on the table (ADR 0025).

- Records: `AUDIT#<account id>` (the account's own item, shard 0) or
  `AUDIT#<account id>#SHARD#<nn>` / the item's version, zero-padded to 12 digits: the
  record's document, `previous_hash` and `hash`. Append-only: put on the key's absence.
- Events: `AUDIT#LEDGER#<ledger id>` / `<time>#<stream event id>`, a critical event of the
  ledger, such as a financial item removed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ledger.domain.audit import AuditRecord
from ledger.domain.model import actor_fields
from ledger.domain.results import AuditLink
from ledger.store.dynamodb import clauses
from ledger.store.dynamodb.codec import number, string

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Item = dict[str, "AttributeValueTypeDef"]
version_digits = 12


def audit_partition(account_id: str, shard: int) -> str:
    """The partition of one balance item's chain."""
    base = f"AUDIT#{account_id}"
    return base if shard == 0 else f"{base}#SHARD#{shard:02d}"


def audit_key(account_id: str, shard: int, version: int) -> dict[str, str]:
    """The key of one version's audit record of one balance item."""
    return {"pk": audit_partition(account_id, shard), "sk": f"{version:0{version_digits}d}"}


def event_partition(ledger_id: str) -> str:
    """The partition of a ledger's audit events."""
    return f"AUDIT#LEDGER#{ledger_id}"


class PutOutcome(StrEnum):
    """What an append-only put found."""

    WRITTEN = "written"
    SAME = "same"
    DIFFERENT = "different"


def _strings(values: Mapping[str, str | None]) -> AttributeValueTypeDef:
    return {
        "M": {
            name: ({"NULL": True} if value is None else string(value))
            for name, value in values.items()
        }
    }


def audit_item(link: AuditLink) -> Item:
    """The whole audit item of a record and its hashes."""
    record = link.record
    key = audit_key(record.account_id, record.shard, record.version)
    item: Item = {name: string(value) for name, value in key.items()}
    item.update(
        {
            "entity": string("audit"),
            "account_id": string(record.account_id),
            "shard": number(record.shard),
            "version": number(record.version),
            "kind": string(record.kind),
            "before": _strings(record.before),
            "after": _strings(record.after),
            "recorded_at": string(record.recorded_at),
            "previous_hash": string(link.previous_hash),
            "hash": string(link.hash),
        }
    )
    if record.entry_id is not None:
        item["entry_id"] = string(record.entry_id)
    if record.actor is not None:
        item["actor"] = _strings({name: record.actor.get(name) for name in actor_fields})
    if record.status is not None:
        item["status"] = string(record.status)
    return item


def _text_map(value: Mapping[str, Any]) -> dict[str, str | None]:
    return {name: attribute.get("S") for name, attribute in value["M"].items()}


def link_of(item: Mapping[str, Any]) -> AuditLink:
    """The record and hashes an audit item holds."""
    before = {name: value or "" for name, value in _text_map(item["before"]).items()}
    after = {name: value or "" for name, value in _text_map(item["after"]).items()}
    record = AuditRecord(
        account_id=item["account_id"]["S"],
        shard=int(item["shard"]["N"]),
        version=int(item["version"]["N"]),
        entry_id=item["entry_id"]["S"] if "entry_id" in item else None,
        kind=item["kind"]["S"],
        before=before,
        after=after,
        recorded_at=item["recorded_at"]["S"],
        actor=_text_map(item["actor"]) if "actor" in item else None,
        status=item["status"]["S"] if "status" in item else None,
    )
    return AuditLink(record, item["previous_hash"]["S"], item["hash"]["S"])


def read_link(
    client: DynamoDBClient, table_name: str, account_id: str, shard: int, version: int
) -> AuditLink | None:
    """One stored audit record, strongly consistent, or None."""
    key = audit_key(account_id, shard, version)
    response = client.get_item(
        TableName=table_name,
        Key={name: string(value) for name, value in key.items()},
        ConsistentRead=True,
    )
    item = response.get("Item")
    return None if item is None else link_of(item)


def put_link(client: DynamoDBClient, table_name: str, link: AuditLink) -> PutOutcome:
    """Append one audit record; a record already there is read back and compared, so a
    redelivery is SAME and a record that differs from the stored one is DIFFERENT."""
    try:
        client.put_item(
            TableName=table_name,
            Item=audit_item(link),
            ConditionExpression=clauses.item_is_new,
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
            raise
        record = link.record
        stored = read_link(client, table_name, record.account_id, record.shard, record.version)
        return PutOutcome.SAME if stored == link else PutOutcome.DIFFERENT
    return PutOutcome.WRITTEN


@dataclass(frozen=True)
class RemovalEvent:
    """A financial item removed from the table, as its ledger's audit records it."""

    ledger_id: str
    event_id: str
    removed_pk: str
    removed_sk: str
    recorded_at: str


def put_removal_event(client: DynamoDBClient, table_name: str, event: RemovalEvent) -> bool:
    """Record a removal as a critical audit event of its ledger; False if a redelivery
    found it recorded already."""
    item: Item = {
        "pk": string(event_partition(event.ledger_id)),
        "sk": string(f"{event.recorded_at}#{event.event_id}"),
        "entity": string("audit_event"),
        "event": string("financial_item_removed"),
        "severity": string("critical"),
        "ledger_id": string(event.ledger_id),
        "removed_pk": string(event.removed_pk),
        "removed_sk": string(event.removed_sk),
        "recorded_at": string(event.recorded_at),
    }
    try:
        client.put_item(TableName=table_name, Item=item, ConditionExpression=clauses.item_is_new)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True
