"""Monitor items: `MONITOR#<account id>` / `MONITOR#<id>`, and the account's count of them
at `MONITOR#<account id>` / `MONITORS`.

They live in a partition of their own, not in the account's: IAM sees only partition keys
(`dynamodb:LeadingKeys`), so the API may delete a monitor while every function is denied
`DeleteItem` on `ACCOUNT#*` (see docs/decisions/0032-item-keys-for-iam.md). The threshold
is kept as the numerator and denominator of an exact fraction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from ledger.domain.money import Currency
from ledger.domain.monitors import Monitor, MonitorField, MonitorState, Operator
from ledger.store.dynamodb.codec import number, string
from ledger.store.dynamodb.schema import timestamp

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

Item = dict[str, "AttributeValueTypeDef"]
entity = "monitor"
count_entity = "monitor_count"
monitor_prefix = "MONITOR#"
count_sort = "MONITORS"


def monitor_partition(account_id: str) -> str:
    """The partition of an account's monitors and their count."""
    return f"{monitor_prefix}{account_id}"


def monitor_key(account_id: str, monitor_id: str) -> Item:
    """The key of one monitor item."""
    return {
        "pk": string(monitor_partition(account_id)),
        "sk": string(f"{monitor_prefix}{monitor_id}"),
    }


def count_key(account_id: str) -> Item:
    """The key of the item counting an account's monitors."""
    return {"pk": string(monitor_partition(account_id)), "sk": string(count_sort)}


def monitor_item(monitor: Monitor) -> Item:
    """The whole item of a monitor."""
    item: Item = {
        **monitor_key(monitor.account_id, monitor.id),
        "entity": string(entity),
        "id": string(monitor.id),
        "account_id": string(monitor.account_id),
        "ledger_id": string(monitor.ledger_id),
        "currency": string(monitor.currency.code),
        "scale": number(monitor.currency.scale),
        "field": string(monitor.field.value),
        "operator": string(monitor.operator.value),
        "threshold_numerator": number(monitor.threshold.numerator),
        "threshold_denominator": number(monitor.threshold.denominator),
        "state": string(monitor.state.value),
        "evaluated_version": number(monitor.evaluated_version),
        "created_at": string(timestamp(monitor.created_at)),
        "request_hash": string(monitor.request_hash),
    }
    if monitor.description is not None:
        item["description"] = string(monitor.description)
    return item


def monitor_of(item: dict[str, Any]) -> Monitor:
    """The monitor an item (DynamoDB JSON) holds."""
    description = item.get("description")
    return Monitor(
        id=item["id"]["S"],
        account_id=item["account_id"]["S"],
        ledger_id=item["ledger_id"]["S"],
        currency=Currency(item["currency"]["S"], int(item["scale"]["N"])),
        field=MonitorField(item["field"]["S"]),
        operator=Operator(item["operator"]["S"]),
        threshold=Fraction(
            int(item["threshold_numerator"]["N"]), int(item["threshold_denominator"]["N"])
        ),
        description=None if description is None else description["S"],
        state=MonitorState(item["state"]["S"]),
        evaluated_version=int(item["evaluated_version"]["N"]),
        created_at=datetime.strptime(item["created_at"]["S"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=UTC
        ),
        request_hash=item["request_hash"]["S"],
    )


@dataclass(frozen=True)
class Watch:
    """An account's monitors and the newest account version the monitors consumer has
    evaluated them at (kept on the count item): a change of that version or older is
    evaluated already, however late it is delivered again."""

    monitors: tuple[Monitor, ...]
    evaluated_version: int = 0


def watch_of(items: list[dict[str, Any]]) -> Watch:
    """The watch the items of one `monitors_query` make."""
    monitors = tuple(monitor_of(item) for item in items if item["entity"]["S"] == entity)
    counts = [item for item in items if item["entity"]["S"] == count_entity]
    version = counts[0].get("evaluated_version") if counts else None
    return Watch(monitors, 0 if version is None else int(version["N"]))


def monitors_query(table_name: str, account_id: str) -> dict[str, Any]:
    """The strongly consistent Query of an account's monitor items and their count item
    (`MONITOR#...` and `MONITORS` share the prefix `MONITOR`)."""
    return {
        "TableName": table_name,
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": {
            ":pk": string(monitor_partition(account_id)),
            ":prefix": string("MONITOR"),
        },
        "ConsistentRead": True,
    }
