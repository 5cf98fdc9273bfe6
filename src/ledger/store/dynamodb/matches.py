"""Statement match records on the table, in the ledger's partition: `LEDGER#<ledger id>` /
`MATCH#ROW#<account>#<source>#<row id>` for a matched row and `LEDGER#<ledger id>` /
`MATCH#ENTRY#<account>#<entry id>` for each matched entry, each with the run, the time, the
actor and its counterparts (ADR 0030).

A match is written whole or not at all: its items are put with `attribute_not_exists` in
one transaction, several matches per transaction up to 100 items. A cancellation names the
items whose condition failed: their matches are dropped (another run recorded them first)
and the rest written again, so each round writes everything or drops at least one match.
The stream consumers know no `statement_match` entity and pass these items by."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ledger.domain import limits
from ledger.domain.matches import MatchRecord, MatchRefused
from ledger.domain.timestamps import timestamp
from ledger.store.dynamodb import clauses
from ledger.store.dynamodb.codec import string
from ledger.store.dynamodb.reads import batch_get
from ledger.store.dynamodb.retries import (
    Budget,
    Outcome,
    condition_failed,
    known_reasons,
    transact,
)
from ledger.store.matches import entry_sort_key, ledger_partition, row_sort_key

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

Item = dict[str, "AttributeValueTypeDef"]
row_entity = "statement_match_row"
entry_entity = "statement_match_entry"
# What a transaction's item is to its match: the row (None) or one of its entries.
Owner = tuple[MatchRecord, str | None]


def _common(record: MatchRecord, sort: str, entity: str) -> Item:
    item: Item = {
        "pk": string(ledger_partition(record.ledger_id)),
        "sk": string(sort),
        "entity": string(entity),
        "account_id": string(record.account_id),
        "source": string(record.source),
        "row_id": string(record.row_id),
        "run_id": string(record.run_id),
        "matched_at": string(timestamp(record.matched_at)),
    }
    actor = record.actor
    known = {} if actor is None else {"key_id": actor.key_id, "role": actor.role}
    fields = {name: string(value) for name, value in known.items() if value is not None}
    if actor is not None and actor.request_id is not None:
        fields["request_id"] = string(actor.request_id)
    if fields:
        item["actor"] = {"M": fields}
    return item


def row_item(record: MatchRecord) -> Item:
    """The item of a matched row: its match's entries beside it."""
    sort = row_sort_key(record.account_id, record.source, record.row_id)
    item = _common(record, sort, row_entity)
    item["entry_ids"] = {"L": [string(entry_id) for entry_id in record.entry_ids]}
    return item


def entry_item(record: MatchRecord, entry_id: str) -> Item:
    """The item of a matched entry: the row (and source) it was matched with."""
    item = _common(record, entry_sort_key(record.account_id, entry_id), entry_entity)
    item["entry_id"] = string(entry_id)
    return item


def transaction_groups(records: Sequence[MatchRecord]) -> list[list[MatchRecord]]:
    """The matches in order, packed into groups of at most `transaction_items_max` items."""
    groups: list[list[MatchRecord]] = []
    size = limits.transaction_items_max
    for record in records:
        items = 1 + len(record.entry_ids)
        if size + items > limits.transaction_items_max:
            groups.append([])
            size = 0
        groups[-1].append(record)
        size += items
    return groups


class TableMatches:
    """The statement match operations of the DynamoDB store."""

    table_name: str
    client: DynamoDBClient
    _budget: Callable[[], Budget]

    def matched_rows(
        self, ledger_id: str, account_id: str, source: str, row_ids: Sequence[str]
    ) -> set[str]:
        """The rows among `row_ids` matched already: strongly consistent reads by key."""
        sorts = {row_sort_key(account_id, source, row_id): row_id for row_id in row_ids}
        return {sorts[sort] for sort in self._existing(ledger_id, list(sorts))}

    def matched_entries(
        self, ledger_id: str, account_id: str, entry_ids: Sequence[str]
    ) -> set[str]:
        """The entries among `entry_ids` matched already: strongly consistent reads by key."""
        sorts = {entry_sort_key(account_id, entry_id): entry_id for entry_id in entry_ids}
        return {sorts[sort] for sort in self._existing(ledger_id, list(sorts))}

    def _existing(self, ledger_id: str, sorts: list[str]) -> set[str]:
        partition = ledger_partition(ledger_id)
        budget = self._budget()
        found: set[str] = set()
        step = limits.batch_get_keys_max
        for start in range(0, len(sorts), step):
            keys = [(partition, sort) for sort in sorts[start : start + step]]
            found |= {sort for _, sort in batch_get(self.client, self.table_name, keys, budget)}
        return found

    def record_matches(self, records: Sequence[MatchRecord]) -> dict[str, MatchRefused]:
        """Each match whole, with its items' `attribute_not_exists`; the matches another run
        recorded first (some item of theirs exists), by row id, with nothing of them written."""
        budget = self._budget()
        refused: dict[str, MatchRefused] = {}
        for group in transaction_groups(records):
            refused |= self._write_group(group, budget)
        return refused

    def _write_group(self, group: list[MatchRecord], budget: Budget) -> dict[str, MatchRefused]:
        refused: dict[str, MatchRefused] = {}
        pending = group
        # Each round writes every pending match, or drops at least one: it ends.
        while pending:
            actions, owners = self._actions(pending)
            failed = self._transact(actions, budget)
            if failed is None:
                return refused
            taken_rows = {owners[i][0].row_id for i in failed if owners[i][1] is None}
            taken_entries: dict[str, set[str]] = {}
            for index in failed:
                record, entry_id = owners[index]
                if entry_id is not None:
                    taken_entries.setdefault(record.row_id, set()).add(entry_id)
            for record in pending:
                row_taken = record.row_id in taken_rows
                entries = frozenset(taken_entries.get(record.row_id, ()))
                if row_taken or entries:
                    refused[record.row_id] = MatchRefused(row_taken, entries)
            pending = [record for record in pending if record.row_id not in refused]
        return refused

    def _actions(
        self, records: list[MatchRecord]
    ) -> tuple[list[TransactWriteItemTypeDef], list[Owner]]:
        actions: list[TransactWriteItemTypeDef] = []
        owners: list[Owner] = []
        for record in records:
            items: list[tuple[Item, str | None]] = [(row_item(record), None)]
            items += [(entry_item(record, entry_id), entry_id) for entry_id in record.entry_ids]
            for item, entry_id in items:
                actions.append(
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": item,
                            "ConditionExpression": clauses.item_is_new,
                        }
                    }
                )
                owners.append((record, entry_id))
        return actions, owners

    def _transact(
        self, actions: list[TransactWriteItemTypeDef], budget: Budget
    ) -> list[int] | None:
        """Write the actions; None once written, else the indexes of the items whose
        condition failed (nothing written). Contention alone is tried again."""
        failed: list[int] = []

        def settle(error: ClientError, outcome: Outcome) -> bool:
            reasons: list[Any] = error.response.get("CancellationReasons", [])
            codes = [reason.get("Code", "None") for reason in reasons]
            if len(codes) != len(actions) or not set(codes) <= known_reasons:
                raise error
            failed.extend(index for index, code in enumerate(codes) if code == condition_failed)
            # A failed condition stops this round; contention alone is tried again.
            return bool(failed)

        transact(self.client, actions, budget, settle)
        return failed or None
