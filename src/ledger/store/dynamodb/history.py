"""History records and effective-time aggregates on the table (ADR 0024).

- History: `HISTORY#<account id>` (the account's own item, shard 0) or
  `HISTORY#<account id>#SHARD#<nn>` / the item's version, zero-padded to 12 digits.
- Aggregates: `EFFECTIVE#<account id>[#SHARD#<nn>]` / `DAY#<yyyy-mm-dd>` and
  `MONTH#<yyyy-mm>`, by effective time in UTC, each totals field a signed sum of deltas.

A record and its aggregate additions are one transaction, and the record's put is
conditional on its absence: a redelivered record adds nothing twice.

History items are in two indexes of their own, partitioned as the history itself and
projecting what a balance or a statement needs: `gsi5` sorted by when a record was
recorded, `gsi6` by when it takes effect (`ledger.store.history`)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ledger.domain import limits
from ledger.domain.model import Entry, Totals, totals_fields
from ledger.planning.history import HistoryRecord
from ledger.planning.steps import Target
from ledger.store.dynamodb import clauses
from ledger.store.dynamodb.codec import decode, number, string
from ledger.store.dynamodb.reads import batch_get
from ledger.store.dynamodb.retries import Budget, read
from ledger.store.dynamodb.schema import item_key, timestamp
from ledger.store.history import Basis, HistoryQuery, day_key, month_key, sort_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

Item = dict[str, "AttributeValueTypeDef"]

history_indexes: dict[Basis, str] = {"recorded": "gsi5", "effective": "gsi6"}
# What the history indexes carry besides their keys: a record without its expected totals.
history_projection = (
    "entity",
    "account_id",
    "shard",
    "version",
    "kind",
    "entry_id",
    "entry_ids",
    "created_at",
    "effective_at",
    "mismatch",
    *totals_fields,
    *(f"delta_{name}" for name in totals_fields),
)


def partition_of(prefix: str, account_id: str, shard: int) -> str:
    """The item's own partition, as its account item's: shard 0 is the account's own."""
    return f"{prefix}#{account_id}" if shard == 0 else f"{prefix}#{account_id}#SHARD#{shard:02d}"


def history_key(account_id: str, shard: int, version: int) -> dict[str, str]:
    """The key of one version's history record of one balance item."""
    return {"pk": partition_of("HISTORY", account_id, shard), "sk": f"{version:012d}"}


def effective_keys(account_id: str, shard: int, moment: datetime) -> list[dict[str, str]]:
    """The day and month aggregate keys an effective time falls in, in UTC."""
    partition = partition_of("EFFECTIVE", account_id, shard)
    return [{"pk": partition, "sk": day_key(moment)}, {"pk": partition, "sk": month_key(moment)}]


def history_item(record: HistoryRecord) -> Item:
    """The whole history item of a record."""
    key = history_key(record.account_id, record.shard, record.version)
    item: Item = {name: string(value) for name, value in key.items()}
    item.update(
        {
            "entity": string("history"),
            "account_id": string(record.account_id),
            "shard": number(record.shard),
            "version": number(record.version),
            "kind": string(record.kind),
            "created_at": string(timestamp(record.created_at)),
            "effective_at": string(timestamp(record.effective_at)),
            "mismatch": {"BOOL": record.mismatch},
        }
    )
    for basis, index in history_indexes.items():
        item[f"{index}pk"] = string(key["pk"])
        item[f"{index}sk"] = string(sort_key(record, basis))
    if record.rebuilt:
        item["rebuilt"] = {"BOOL": True}
    if record.entry_id is not None:
        item["entry_id"] = string(record.entry_id)
    if len(record.entry_ids) > 1:
        item["entry_ids"] = {"L": [string(entry_id) for entry_id in record.entry_ids]}
    for name in totals_fields:
        item[name] = number(getattr(record.totals, name))
        item[f"delta_{name}"] = number(getattr(record.deltas, name))
        if record.expected is not None:
            item[f"expected_{name}"] = number(getattr(record.expected, name))
    return item


def aggregate_additions(record: HistoryRecord) -> dict[tuple[str, str], Totals]:
    """What the record adds to each aggregate item, merged per item."""
    additions: dict[tuple[str, str], Totals] = {}
    for moment, totals in record.periods:
        for key in effective_keys(record.account_id, record.shard, moment):
            pair = (key["pk"], key["sk"])
            additions[pair] = additions.get(pair, Totals()) + totals
    return additions


def history_actions(record: HistoryRecord, table_name: str) -> list[TransactWriteItemTypeDef]:
    """The history put (first, conditional on its absence) and one ADD per aggregate item."""
    actions: list[Any] = [
        {
            "Put": {
                "TableName": table_name,
                "Item": history_item(record),
                "ConditionExpression": clauses.item_is_new,
            }
        }
    ]
    additions = aggregate_additions(record)
    if len(additions) + 1 > limits.transaction_items_max:
        raise ValueError(
            f"history record {record.account_id}/{record.shard}/{record.version} adds to "
            f"{len(additions)} aggregates; one transaction holds {limits.transaction_items_max}"
        )
    for (pk, sk), totals in additions.items():
        actions.append({"Update": _addition(table_name, pk, sk, record, totals)})
    return actions


def _addition(
    table_name: str, pk: str, sk: str, record: HistoryRecord, totals: Totals
) -> dict[str, Any]:
    names = {"#entity": "entity", "#account_id": "account_id", "#shard": "shard"}
    values: Item = {
        ":entity": string("effective"),
        ":account_id": string(record.account_id),
        ":shard": number(record.shard),
        ":one": number(1),
    }
    additions = ["#changes :one"]
    names["#changes"] = "changes"
    for name in totals_fields:
        names[f"#{name}"] = name
        values[f":{name}"] = number(getattr(totals, name))
        additions.append(f"#{name} :{name}")
    facts = ", ".join(
        f"#{name} = if_not_exists(#{name}, :{name})" for name in ("entity", "account_id", "shard")
    )
    return {
        "TableName": table_name,
        "Key": {"pk": string(pk), "sk": string(sk)},
        "UpdateExpression": f"SET {facts} ADD {', '.join(additions)}",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


def write_history(client: DynamoDBClient, table_name: str, record: HistoryRecord) -> bool:
    """Write the record and its aggregate additions; False if the record was there already
    (a redelivery), which changes nothing."""
    try:
        client.transact_write_items(TransactItems=history_actions(record, table_name))
    except ClientError as error:
        reasons = error.response.get("CancellationReasons") or [{}]
        if reasons[0].get("Code") == "ConditionalCheckFailed":
            return False
        raise
    return True


def read_entries(
    client: DynamoDBClient, table_name: str, entry_ids: Iterable[str], budget: Budget
) -> dict[str, Entry]:
    """The entries of these ids, strongly consistent: one BatchGetItem per 100 ids."""
    wanted = sorted(set(entry_ids))
    entries: dict[str, Entry] = {}
    for start in range(0, len(wanted), limits.batch_get_keys_max):
        keys = [
            item_key(Target("entry", entry_id))
            for entry_id in wanted[start : start + limits.batch_get_keys_max]
        ]
        items = batch_get(client, table_name, [(key["pk"], key["sk"]) for key in keys], budget)
        for item in items.values():
            entry = decode(item)
            if isinstance(entry, Entry):
                entries[entry.id] = entry
    return entries


def history_of(item: dict[str, Any]) -> HistoryRecord:
    """The history record an item (or its index projection) holds; its aggregate periods
    are not kept on it, so they come back empty."""
    totals = {name: int(item[name]["N"]) for name in totals_fields}
    deltas = {name: int(item[f"delta_{name}"]["N"]) for name in totals_fields}
    if "entry_ids" in item:
        entry_ids = tuple(each["S"] for each in item["entry_ids"]["L"])
    elif "entry_id" in item:
        entry_ids = (item["entry_id"]["S"],)
    else:
        entry_ids = ()
    return HistoryRecord(
        account_id=item["account_id"]["S"],
        shard=int(item["shard"]["N"]),
        version=int(item["version"]["N"]),
        kind=item["kind"]["S"],
        entry_ids=entry_ids,
        deltas=Totals(**deltas),
        totals=Totals(**totals),
        created_at=datetime.fromisoformat(item["created_at"]["S"]),
        effective_at=datetime.fromisoformat(item["effective_at"]["S"]),
        mismatch=bool(item["mismatch"]["BOOL"]),
        expected=None,
        periods=(),
        rebuilt="rebuilt" in item,
    )


def query_history(
    client: DynamoDBClient,
    table_name: str,
    item: tuple[str, int],
    query: HistoryQuery,
    budget: Budget,
) -> list[HistoryRecord]:
    """One balance item's records in the query's order and range, following Query pages
    until `limit` records are read or none are left. An empty range (its low bound above its
    high) holds none, and is not asked: a BETWEEN with its bounds reversed is refused."""
    if query.low > query.high:
        return []
    index = history_indexes[query.basis]
    arguments: dict[str, Any] = {
        "TableName": table_name,
        "IndexName": index,
        "KeyConditionExpression": "#partition = :partition AND #sort BETWEEN :low AND :high",
        "ExpressionAttributeNames": {"#partition": f"{index}pk", "#sort": f"{index}sk"},
        "ExpressionAttributeValues": {
            ":partition": string(partition_of("HISTORY", *item)),
            ":low": string(query.low),
            ":high": string(query.high),
        },
        "ScanIndexForward": not query.descending,
    }
    records: list[HistoryRecord] = []
    while len(records) < query.limit:
        response = read(
            budget, partial(client.query, **arguments, Limit=query.limit - len(records))
        )
        records += [history_of(item) for item in response["Items"]]
        if "LastEvaluatedKey" not in response:
            break
        arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return records


def query_aggregates(
    client: DynamoDBClient,
    table_name: str,
    item: tuple[str, int],
    bounds: tuple[str, str],
    budget: Budget,
) -> dict[str, Totals]:
    """One balance item's effective-time aggregates with `low <= sort key < high`, by sort key:
    one strongly consistent Query (few items: one per day or month with a change). An empty
    range (`high` not above `low`) holds none, and is not asked."""
    low, high = bounds
    if low >= high:
        return {}
    arguments: dict[str, Any] = {
        "TableName": table_name,
        "KeyConditionExpression": "pk = :partition AND sk BETWEEN :low AND :high",
        "ExpressionAttributeValues": {
            ":partition": string(partition_of("EFFECTIVE", *item)),
            ":low": string(low),
            ":high": string(high),
        },
        "ConsistentRead": True,
    }
    aggregates: dict[str, Totals] = {}
    while True:
        response = read(budget, partial(client.query, **arguments))
        for found in response["Items"]:
            position = found["sk"]["S"]
            if position != high:
                aggregates[position] = Totals(
                    **{name: int(found[name]["N"]) for name in totals_fields}
                )
        if "LastEvaluatedKey" not in response:
            return aggregates
        arguments["ExclusiveStartKey"] = response["LastEvaluatedKey"]
