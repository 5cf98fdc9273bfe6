"""The expiring notice of a pending entry on the table: the entry marked and its event put
in the outbox, one transaction, conditional on the entry still pending and unnoticed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ledger.domain.model import EntryStatus
from ledger.planning.steps import Target
from ledger.store.dynamodb import clauses
from ledger.store.dynamodb.clauses import all_of
from ledger.store.dynamodb.codec import string
from ledger.store.dynamodb.outbox import outbox_put
from ledger.store.dynamodb.schema import item_key, timestamp

if TYPE_CHECKING:
    from datetime import datetime

    from mypy_boto3_dynamodb.client import DynamoDBClient

    from ledger.domain.events import OutboxEvent

entry_is_unnoticed = "attribute_not_exists(#expiring_noticed_at)"
# A notice that lost to a resolution, or to a concurrent write of the entry, is for a
# later sweep to find again (or not, once resolved).
_passed_over = frozenset({"ConditionalCheckFailed", "TransactionConflict"})


def notice_expiring(
    client: DynamoDBClient, table_name: str, entry_id: str, at: datetime, event: OutboxEvent
) -> bool:
    """Mark the entry noticed and put its event; False if it was no longer pending,
    noticed already, or contended."""
    mark = {
        "Update": {
            "TableName": table_name,
            "Key": {
                name: string(value) for name, value in item_key(Target("entry", entry_id)).items()
            },
            "UpdateExpression": "SET #expiring_noticed_at = :at",
            "ConditionExpression": all_of(
                clauses.item_exists, clauses.entry_is_pending, entry_is_unnoticed
            ),
            "ExpressionAttributeNames": {
                "#status": "status",
                "#expiring_noticed_at": "expiring_noticed_at",
            },
            "ExpressionAttributeValues": {
                ":at": string(timestamp(at)),
                ":pending": string(EntryStatus.PENDING.value),
            },
        }
    }
    try:
        client.transact_write_items(TransactItems=[mark, outbox_put(event, table_name)])  # type: ignore[list-item]
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            raise
        codes = {reason.get("Code") for reason in error.response.get("CancellationReasons", [])}
        if codes & _passed_over:
            return False
        raise
    return True
