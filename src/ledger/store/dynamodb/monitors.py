"""Monitors on the table: added in one transaction with the account's count of them and a
check that its balance items are still at the versions the monitor was evaluated at;
read by one strongly consistent Query; removed with the count."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ledger.domain import limits
from ledger.domain.errors import TooManyMonitors
from ledger.domain.monitors import Monitor
from ledger.planning.steps import account_target
from ledger.store.dynamodb import clauses
from ledger.store.dynamodb.codec import number, string
from ledger.store.dynamodb.monitor_codec import (
    Watch,
    count_key,
    monitor_item,
    monitor_key,
    monitor_of,
    monitors_query,
    watch_of,
)
from ledger.store.dynamodb.retries import (
    Budget,
    Outcome,
    condition_failed,
    contention_reasons,
    read,
    transact,
)
from ledger.store.dynamodb.schema import item_key
from ledger.store.monitors import AccountMoved, MonitorTaken

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

count_is_below_max = "(attribute_not_exists(#count) OR #count < :max)"
version_is_read = "#version = :version"
# A `world` shard comes into being with its first write: at version 0 it may be absent.
version_is_zero = "(attribute_not_exists(pk) OR #version = :version)"
put_action, count_action = 0, 1


def query_watch(client: DynamoDBClient, table_name: str, account_id: str, budget: Budget) -> Watch:
    """An account's monitors and the version they were evaluated at, strongly consistent:
    one Query (an account holds at most `limits.monitors_per_account_max`, far below a page)."""
    arguments = monitors_query(table_name, account_id)
    items: list[dict[str, Any]] = []
    while True:
        response = read(budget, partial(client.query, **arguments))
        items += response["Items"]
        if "LastEvaluatedKey" not in response:
            return watch_of(items)
        arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def read_monitor(
    client: DynamoDBClient, table_name: str, account_id: str, monitor_id: str, budget: Budget
) -> Monitor | None:
    """One monitor as it stands, or None."""
    response = read(
        budget,
        lambda: client.get_item(
            TableName=table_name, Key=monitor_key(account_id, monitor_id), ConsistentRead=True
        ),
    )
    return monitor_of(response["Item"]) if "Item" in response else None


class TableMonitors:
    """The monitor operations of the DynamoDB store."""

    table_name: str
    client: DynamoDBClient
    _budget: Callable[[], Budget]

    def add_monitor(self, monitor: Monitor, versions: tuple[int, ...]) -> None:
        """Put the monitor and count it, while every balance item is at `versions`."""
        actions: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": monitor_item(monitor),
                    "ConditionExpression": clauses.item_is_new,
                }
            },
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": count_key(monitor.account_id),
                    "UpdateExpression": "SET #count = if_not_exists(#count, :zero) + :one, "
                    "entity = :entity",
                    "ConditionExpression": count_is_below_max,
                    "ExpressionAttributeNames": {"#count": "count"},
                    "ExpressionAttributeValues": {
                        ":zero": number(0),
                        ":one": number(1),
                        ":max": number(limits.monitors_per_account_max),
                        ":entity": string("monitor_count"),
                    },
                }
            },
        ]
        actions += [
            self._version_check(monitor.account_id, index, version)
            for index, version in enumerate(versions)
        ]
        budget = self._budget()

        def settle(error: ClientError, outcome: Outcome) -> bool:
            return self._monitor_refusal(monitor, error, budget)

        transact(self.client, actions, budget, settle)

    def _version_check(self, account_id: str, index: int, version: int) -> TransactWriteItemTypeDef:
        key = item_key(account_target(account_id, index))
        return {
            "ConditionCheck": {
                "TableName": self.table_name,
                "Key": {name: string(value) for name, value in key.items()},
                "ConditionExpression": version_is_read if version else version_is_zero,
                "ExpressionAttributeNames": {"#version": "version"},
                "ExpressionAttributeValues": {":version": number(version)},
            }
        }

    def _monitor_refusal(self, monitor: Monitor, error: ClientError, budget: Budget) -> bool:
        """Raise what a cancelled creation means; False (try again) on contention alone."""
        reasons = [
            reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])
        ]
        if len(reasons) <= count_action:
            raise error
        if reasons[put_action] == condition_failed:
            existing = read_monitor(
                self.client, self.table_name, monitor.account_id, monitor.id, budget
            )
            if existing is not None:
                raise MonitorTaken(existing) from error
        if reasons[count_action] == condition_failed:
            raise TooManyMonitors(
                f"an account holds at most {limits.monitors_per_account_max} monitors",
                {"account_id": monitor.account_id, "max": limits.monitors_per_account_max},
            ) from error
        if condition_failed in reasons:
            raise AccountMoved(monitor.account_id) from error
        if not all(reason in contention_reasons or reason == "None" for reason in reasons):
            raise error
        return False

    def monitors(self, account_id: str) -> list[Monitor]:
        """Every monitor of the account, by id: one strongly consistent Query."""
        watch = query_watch(self.client, self.table_name, account_id, self._budget())
        return sorted(watch.monitors, key=lambda monitor: monitor.id)

    def remove_monitor(self, account_id: str, monitor_id: str) -> bool:
        """Delete the monitor and uncount it; False if there is none of that id."""
        actions: list[TransactWriteItemTypeDef] = [
            {
                "Delete": {
                    "TableName": self.table_name,
                    "Key": monitor_key(account_id, monitor_id),
                    "ConditionExpression": clauses.item_exists,
                }
            },
            {
                "Update": {
                    "TableName": self.table_name,
                    "Key": count_key(account_id),
                    "UpdateExpression": "SET #count = #count - :one",
                    "ConditionExpression": "#count > :zero",
                    "ExpressionAttributeNames": {"#count": "count"},
                    "ExpressionAttributeValues": {":zero": number(0), ":one": number(1)},
                }
            },
        ]
        removed = True

        def settle(error: ClientError, outcome: Outcome) -> bool:
            nonlocal removed
            reasons: list[Any] = error.response.get("CancellationReasons", [])
            if reasons and reasons[0].get("Code") == condition_failed:
                # Gone already: removed by an earlier attempt of this call, or never there.
                removed = outcome is Outcome.UNKNOWN
                return True
            if any(reason.get("Code") == condition_failed for reason in reasons):
                raise error
            return False

        transact(self.client, actions, self._budget(), settle)
        return removed
