"""The jobs' checkpoints on the table: one item per job, `JOB#<name>` / `CHECKPOINT`, put
whole with a condition on the revision that was read, so that two overlapping runs of a
job cannot both move it (the later one is told, and saves nothing)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ledger.domain.timestamps import timestamp
from ledger.store.checkpoints import Checkpoint
from ledger.store.dynamodb.clauses import item_is_new

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

revision_is_unchanged = "#revision = :read_revision"


def checkpoint_key(job: str) -> dict[str, AttributeValueTypeDef]:
    """The key of a job's checkpoint item."""
    return {"pk": {"S": f"JOB#{job}"}, "sk": {"S": "CHECKPOINT"}}


class DynamoDBCheckpoints:
    """Checkpoints as items of the ledger's table."""

    def __init__(
        self,
        table_name: str,
        client: DynamoDBClient,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._table_name = table_name
        self._client = client
        self._clock = clock

    def load(self, job: str) -> Checkpoint:
        """The job's checkpoint as saved last (strongly consistent), or the start."""
        response = self._client.get_item(
            TableName=self._table_name, Key=checkpoint_key(job), ConsistentRead=True
        )
        item = response.get("Item")
        if item is None:
            return Checkpoint()
        return Checkpoint(
            cursor=item["cursor"]["S"] if "cursor" in item else None,
            after=item["after"]["S"] if "after" in item else None,
            revision=int(item["revision"]["N"]),
        )

    def save(self, job: str, read: Checkpoint, cursor: str | None, after: str | None) -> bool:
        """One conditional PutItem: the item is new, or still at `read`'s revision."""
        item: dict[str, AttributeValueTypeDef] = {
            **checkpoint_key(job),
            "revision": {"N": str(read.revision + 1)},
            "saved_at": {"S": timestamp(self._clock())},
        }
        if cursor is not None:
            item["cursor"] = {"S": cursor}
        if after is not None:
            item["after"] = {"S": after}
        try:
            if read.revision == 0:
                self._client.put_item(
                    TableName=self._table_name, Item=item, ConditionExpression=item_is_new
                )
            else:
                self._client.put_item(
                    TableName=self._table_name,
                    Item=item,
                    ConditionExpression=revision_is_unchanged,
                    ExpressionAttributeNames={"#revision": "revision"},
                    ExpressionAttributeValues={":read_revision": {"N": str(read.revision)}},
                )
        except ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            return False
        return True
