"""External balance checks on the table: the check's two items and, for a mismatch, its
outbox event, put in one transaction, each only if absent; read by strongly consistent
Queries of the ledger's partition."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ledger.store.dynamodb import clauses
from ledger.store.dynamodb.codec import string
from ledger.store.dynamodb.external_codec import (
    check_of,
    id_item,
    id_key,
    ledger_partition,
    listing_item,
    listing_key,
    listing_prefix,
)
from ledger.store.dynamodb.outbox import outbox_put
from ledger.store.dynamodb.retries import (
    Budget,
    Outcome,
    condition_failed,
    contention_reasons,
    query_up_to,
    read,
    transact,
)
from ledger.store.external import ExternalCheckTaken, source_prefix

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

    from ledger.domain.events import OutboxEvent
    from ledger.domain.external import ExternalCheck

id_action = 1


class TableExternalChecks:
    """The external balance check operations of the DynamoDB store."""

    table_name: str
    client: DynamoDBClient
    _budget: Callable[[], Budget]

    def add_external_check(self, check: ExternalCheck, event: OutboxEvent | None) -> None:
        """Put the check by position and by id, and its event, all only if absent."""
        actions: list[TransactWriteItemTypeDef] = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": item,
                    "ConditionExpression": clauses.item_is_new,
                }
            }
            for item in (listing_item(check), id_item(check))
        ]
        if event is not None:
            actions.append(outbox_put(event, self.table_name))
        budget = self._budget()

        def settle(error: ClientError, outcome: Outcome) -> bool:
            return self._external_refusal(check, error, outcome, budget)

        transact(self.client, actions, budget, settle)

    def _external_refusal(
        self, check: ExternalCheck, error: ClientError, outcome: Outcome, budget: Budget
    ) -> bool:
        """True if an earlier attempt of this very write committed; ExternalCheckTaken if
        another request took the id; False (try again) on contention alone."""
        reasons = [
            reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])
        ]
        if len(reasons) > id_action and reasons[id_action] == condition_failed:
            existing = self._check_by_id(check.ledger_id, check.id, budget, outcome)
            if existing is not None:
                if outcome is Outcome.UNKNOWN and existing == check:
                    return True
                raise ExternalCheckTaken(existing) from error
        if reasons and all(reason in contention_reasons or reason == "None" for reason in reasons):
            return False
        raise error

    def _check_by_id(
        self, ledger_id: str, check_id: str, budget: Budget, outcome: Outcome
    ) -> ExternalCheck | None:
        response = read(
            budget,
            lambda: self.client.get_item(
                TableName=self.table_name, Key=id_key(ledger_id, check_id), ConsistentRead=True
            ),
            outcome,
        )
        return check_of(response["Item"]) if "Item" in response else None

    def external_checks(
        self, ledger_id: str, source: str | None, after: str | None, count: int
    ) -> list[ExternalCheck]:
        """The ledger's checks after `after`: consistent Query pages of its partition."""
        budget = self._budget()
        arguments: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "ExpressionAttributeValues": {
                ":pk": string(ledger_partition(ledger_id)),
                ":prefix": string(f"{listing_prefix}{source_prefix(source)}"),
            },
            "ConsistentRead": True,
        }
        if after is not None:
            arguments["ExclusiveStartKey"] = listing_key(ledger_id, after)
        return [check_of(item) for item in query_up_to(self.client, budget, arguments, count)]
