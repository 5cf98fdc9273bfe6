"""What the monitors consumer writes: the crossings of a change (the monitors' new states,
the account's evaluated version and the outbox events, in one transaction), the evaluated
version alone once per batch, and an `entry_amount` monitor's event (an outbox put)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ledger.domain.model import Account, AccountShard
from ledger.planning.steps import account_target
from ledger.store.dynamodb import clauses
from ledger.store.dynamodb.codec import decode, number, string
from ledger.store.dynamodb.monitor_codec import Item, count_key, monitor_key
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
_names = {"#evaluated": "evaluated_version"}


def _evaluated_at(key: Item, version: int, table_name: str) -> TransactWriteItemTypeDef:
    """The account's monitors marked evaluated at `version`, if they were at an older one."""
    return {
        "Update": {
            "TableName": table_name,
            "Key": key,
            "UpdateExpression": "SET #evaluated = :version",
            "ConditionExpression": clauses.all_of(clauses.item_exists, evaluated_before),
            "ExpressionAttributeNames": _names,
            "ExpressionAttributeValues": {":version": number(version)},
        }
    }


def crossing_actions(
    account_id: str,
    version: int,
    crossed: Sequence[tuple[Monitor, MonitorState]],
    events: Sequence[OutboxEvent],
    table_name: str,
) -> list[TransactWriteItemTypeDef]:
    """The account's monitors marked evaluated at `version`, each crossed monitor set to its
    new state (on the condition that it still exists and was evaluated at an older
    version), and the events that say so: all or nothing."""
    actions = [_evaluated_at(count_key(account_id), version, table_name)]
    for monitor, state in crossed:
        actions.append(
            {
                "Update": {
                    "TableName": table_name,
                    "Key": monitor_key(monitor.account_id, monitor.id),
                    "UpdateExpression": "SET #state = :state, #evaluated = :version",
                    "ConditionExpression": clauses.all_of(clauses.item_exists, evaluated_before),
                    "ExpressionAttributeNames": {**_names, "#state": "state"},
                    "ExpressionAttributeValues": {
                        ":state": string(state.value),
                        ":version": number(version),
                    },
                }
            }
        )
    actions += [outbox_put(event, table_name) for event in events]
    return actions


def write_crossings(
    client: DynamoDBClient,
    table_name: str,
    account_id: str,
    *,
    version: int,
    crossed: Sequence[tuple[Monitor, MonitorState]],
    events: Sequence[OutboxEvent],
) -> bool:
    """Write the crossings of one change in one transaction; False if a condition failed
    (evaluated at this version or a newer one already, or a monitor removed meanwhile):
    nothing was written."""
    actions = crossing_actions(account_id, version, crossed, events, table_name)
    try:
        client.transact_write_items(TransactItems=actions)
    except ClientError as error:
        reasons = error.response.get("CancellationReasons") or []
        if any(reason.get("Code") == "ConditionalCheckFailed" for reason in reasons):
            return False
        raise
    return True


def mark_evaluated(client: DynamoDBClient, table_name: str, account_id: str, version: int) -> bool:
    """Mark an account's monitors evaluated at `version` (a change that crossed none); False
    if they were at that version or a newer one already, or the account has no monitors."""
    update = _evaluated_at(count_key(account_id), version, table_name)["Update"]
    try:
        client.update_item(
            TableName=update["TableName"],
            Key=update["Key"],
            UpdateExpression=update["UpdateExpression"],
            ConditionExpression=update["ConditionExpression"],
            ExpressionAttributeNames=update["ExpressionAttributeNames"],
            ExpressionAttributeValues=update["ExpressionAttributeValues"],
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
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
