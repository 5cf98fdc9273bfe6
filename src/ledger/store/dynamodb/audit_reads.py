"""Reads of the audit chains on the table: whole chains (bounded), pages of an account's
records with sealed cursors, and the balance items each alone (ADR 0025)."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

from ledger.domain.errors import ReportTooLarge
from ledger.domain.model import Account, AccountShard, Totals, totals_fields
from ledger.domain.results import AuditLink, AuditPage
from ledger.planning.steps import account_target
from ledger.store.dynamodb.audit import audit_key, audit_partition, link_of
from ledger.store.dynamodb.codec import decode, string
from ledger.store.dynamodb.history import history_key
from ledger.store.dynamodb.reads import batch_get
from ledger.store.dynamodb.retries import Budget, read
from ledger.store.dynamodb.schema import IndexQuery, item_key
from ledger.store.dynamodb.secret import TableSeal

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

# A cursor names (shard, version) of the last record given; the seal binds it to the
# account and the caller.
_position_index = "audit"


class DynamoDBAuditReads:
    """The audit reads of one table, each call within the budget it is given."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        seal: TableSeal,
        budget: Callable[[], Budget],
    ) -> None:
        self.client = client
        self.table_name = table_name
        self._seal = seal
        self._budget = budget

    def chain(self, account_id: str, shard: int, count_max: int) -> list[AuditLink]:
        """Every record of one item's chain, oldest first; refused past `count_max`."""
        links = self._records(account_id, shard, None, count_max + 1, self._budget())
        if len(links) > count_max:
            raise ReportTooLarge(
                f"the audit chain of {account_id} shard {shard} has more than {count_max} "
                "records, more than one request verifies",
                {"limit": count_max, "account_id": account_id, "shard": shard},
            )
        return links

    def head(self, account_id: str, shard: int) -> AuditLink | None:
        """The newest record of one item's chain: one Query, newest first, for one item."""
        arguments = self._arguments(account_id, shard)
        response = read(
            self._budget(), partial(self.client.query, **arguments, ScanIndexForward=False, Limit=1)
        )
        items = response["Items"]
        return link_of(items[0]) if items else None

    def page(
        self, account_id: str, shards: int, limit: int, cursor: str | None, caller: str | None
    ) -> AuditPage:
        """Records item by item (shard 0 first), each item oldest first."""
        query = IndexQuery(_position_index, f"AUDIT#{account_id}", "", False, caller=caller)
        shard, after = 0, None
        if cursor is not None:
            position = self._seal.open(cursor, query)
            shard, after = int(position["pk"]), int(position["sk"])
        budget = self._budget()
        links: list[AuditLink] = []
        while shard < shards:
            wanted = limit + 1 - len(links)
            found = self._records(account_id, shard, after, wanted, budget)
            links += found
            if len(links) > limit:
                break
            shard, after = shard + 1, None
        if len(links) <= limit:
            return AuditPage(links, None)
        page = links[:limit]
        last = page[-1].record
        key = {"pk": str(last.shard), "sk": str(last.version), f"{_position_index}sk": ""}
        return AuditPage(page, self._seal.seal(query, key))

    def history_totals(self, account_id: str, shard: int, count_max: int) -> dict[int, Totals]:
        """The totals of every history record of one item, by version (ADR 0024)."""
        arguments = self._arguments(account_id, shard)
        arguments["ExpressionAttributeValues"] = {
            ":pk": string(history_key(account_id, shard, 0)["pk"])
        }
        totals: dict[int, Totals] = {}
        budget = self._budget()
        while True:
            response = read(budget, partial(self.client.query, **arguments))
            for item in response["Items"]:
                totals[int(item["version"]["N"])] = Totals(
                    **{name: int(item[name]["N"]) for name in totals_fields}
                )
            if len(totals) > count_max:
                raise ReportTooLarge(
                    f"the history of {account_id} shard {shard} has more than {count_max} "
                    "records, more than one request verifies",
                    {"limit": count_max, "account_id": account_id, "shard": shard},
                )
            if "LastEvaluatedKey" not in response:
                return totals
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def items(self, account_id: str, shards: int) -> list[Account | AccountShard]:
        """The account's balance items as they stand, strongly consistent, each alone."""
        keys = [item_key(account_target(account_id, index)) for index in range(shards)]
        found = batch_get(
            self.client, self.table_name, [(key["pk"], key["sk"]) for key in keys], self._budget()
        )
        records = [decode(item) for item in found.values()]
        items = [record for record in records if isinstance(record, Account | AccountShard)]
        return sorted(items, key=lambda item: 0 if isinstance(item, Account) else item.index)

    def _records(
        self, account_id: str, shard: int, after: int | None, count: int, budget: Budget
    ) -> list[AuditLink]:
        """Up to `count` records of one item's chain after version `after`, oldest first."""
        arguments = self._arguments(account_id, shard)
        if after is not None:
            start = audit_key(account_id, shard, after)
            arguments["ExclusiveStartKey"] = {name: string(value) for name, value in start.items()}
        links: list[AuditLink] = []
        while len(links) < count:
            response = read(
                budget, partial(self.client.query, **arguments, Limit=count - len(links))
            )
            links += [link_of(item) for item in response["Items"]]
            if "LastEvaluatedKey" not in response:
                break
            arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return links

    def _arguments(self, account_id: str, shard: int) -> dict[str, Any]:
        return {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": string(audit_partition(account_id, shard))},
            "ConsistentRead": True,
        }
