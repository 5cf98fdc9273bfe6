"""What the monitors consumer writes: a crossing (the monitor's new state and its outbox
event, in one transaction) and an `entry_amount` monitor's event (an outbox put alone)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ledger.domain.model import Account, AccountShard
from ledger.planning.steps import account_target
from ledger.store.dynamodb import clauses
from ledger.store.dynamodb.codec import decode, number, string
from ledger.store.dynamodb.monitor_codec import monitor_key
from ledger.store.dynamodb.outbox import outbox_item, outbox_put
from ledger.store.dynamodb.reads import batch_get
from ledger.store.dynamodb.schema import item_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from ledger.domain.events import OutboxEvent
    from ledger.domain.monitors import Monitor, MonitorState
    from ledger.store.dynamodb.retries import Budget

# A state evaluated at an older version than the change's is the only one the change may
# replace: a redelivered or older record then fails this and writes nothing.
evaluated_before = "(attribute_not_exists(#evaluated) OR #evaluated < :version)"


def crossing_actions(
    monitor: Monitor, state: MonitorState, version: int, event: OutboxEvent, table_name: str
) -> list[TransactWriteItemTypeDef]:
    """The monitor set to `state` as evaluated at `version`, on the condition that it still
    exists and was evaluated at an older version, and the event that says so."""
    return [
        {
            "Update": {
                "TableName": table_name,
                "Key": monitor_key(monitor.account_id, monitor.id),
                "UpdateExpression": "SET #state = :state, #evaluated = :version",
                "ConditionExpression": clauses.all_of(clauses.item_exists, evaluated_before),
                "ExpressionAttributeNames": {"#state": "state", "#evaluated": "evaluated_version"},
                "ExpressionAttributeValues": {
                    ":state": string(state.value),
                    ":version": number(version),
                },
            }
        },
        outbox_put(event, table_name),
    ]


def write_crossing(
    client: DynamoDBClient,
    table_name: str,
    monitor: Monitor,
    *,
    state: MonitorState,
    version: int,
    event: OutboxEvent,
) -> bool:
    """Write a crossing; False if a condition failed (the monitor is gone, or its state is
    of this version or newer already): nothing was written, and the change is done."""
    try:
        client.transact_write_items(
            TransactItems=crossing_actions(monitor, state, version, event, table_name)
        )
    except ClientError as error:
        reasons = error.response.get("CancellationReasons") or []
        if any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons):
            return False
        raise
    return True


def put_event(client: DynamoDBClient, table_name: str, event: OutboxEvent) -> bool:
    """Put an outbox event unless it is there already; False if it was (a redelivery)."""
    try:
        client.put_item(
            TableName=table_name,
            Item=outbox_item(event),
            ConditionExpression=clauses.item_is_new,
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise
    return True


def read_account(
    client: DynamoDBClient, table_name: str, account_id: str, shards: int, budget: Budget
) -> Account | None:
    """A sharded account as it stands: every item in one strongly consistent BatchGetItem,
    summed (its version the sum of theirs, which only grows); None if it is not there."""
    keys = [item_key(account_target(account_id, index)) for index in range(shards)]
    found = batch_get(client, table_name, [(key["pk"], key["sk"]) for key in keys], budget)
    records = [decode(item) for item in found.values()]
    owner = [record for record in records if isinstance(record, Account)]
    if not owner:
        return None
    return owner[0].with_shards([record for record in records if isinstance(record, AccountShard)])
