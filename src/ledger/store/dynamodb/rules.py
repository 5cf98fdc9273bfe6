"""Posting rules in the ledger's table, in the ledger's partition.

Each version is its own item, `LEDGER#<id>` / `RULE#<event type>#<version>`, written once
(`attribute_not_exists`) and never changed. Beside them, `LEDGER#<id>` /
`RULE_HEAD#<event type>` holds a copy of the latest version, moved forward by one version
at a time in the same transaction, so the latest rule is one GetItem and the listing of a
ledger's rules one Query of its heads ("_" sorts after "#": no version is among them).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ledger.domain import limits
from ledger.domain.model import Page, Side
from ledger.domain.posting_rules import PostingRule, RuleLine
from ledger.domain.timestamps import timestamp
from ledger.planning.steps import Claim, Target, claim_id
from ledger.store.dynamodb.codec import decode as decode_record
from ledger.store.dynamodb.retries import (
    Budget,
    Outcome,
    condition_failed,
    contention_reasons,
    query_up_to,
    read,
    transact,
)
from ledger.store.dynamodb.schema import item_key
from ledger.store.dynamodb.secret import TableSeal
from ledger.store.rules import RuleVersionTaken, page_of

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

version_is_new = "attribute_not_exists(pk)"
head_is_previous = "attribute_not_exists(pk) OR #version = :previous"
head_prefix = "RULE_HEAD#"
version_digits = len(str(limits.rule_version_max))
entity = "posting_rule"


def version_key(ledger_id: str, event_type: str, version: int) -> dict[str, Any]:
    """The key of one version of a rule; versions sort in order, zero-padded."""
    return {
        "pk": {"S": f"LEDGER#{ledger_id}"},
        "sk": {"S": f"RULE#{event_type}#{version:0{version_digits}d}"},
    }


def head_key(ledger_id: str, event_type: str) -> dict[str, Any]:
    """The key of the item that holds the latest version of a rule."""
    return {"pk": {"S": f"LEDGER#{ledger_id}"}, "sk": {"S": f"{head_prefix}{event_type}"}}


def encode(rule: PostingRule) -> dict[str, Any]:
    """A rule's attributes, keys apart."""
    item: dict[str, Any] = {
        "entity": {"S": entity},
        "ledger_id": {"S": rule.ledger_id},
        "event_type": {"S": rule.event_type},
        "version": {"N": str(rule.version)},
        "lines": {"L": [{"M": _line_map(line)} for line in rule.lines]},
        "created_at": {"S": timestamp(rule.created_at)},
    }
    for name in ("reference", "description"):
        value = getattr(rule, name)
        if value is not None:
            item[name] = {"S": value}
    return item


def _line_map(line: RuleLine) -> dict[str, Any]:
    values = {"side": {"S": line.side.value}, "amount": {"S": line.amount}}
    if line.account_id is not None:
        values["account_id"] = {"S": line.account_id}
    if line.account_code is not None:
        values["account_code"] = {"S": line.account_code}
    return values


def decode(item: dict[str, Any]) -> PostingRule:
    """The rule an item holds."""

    def optional(values: dict[str, Any], name: str) -> str | None:
        return values[name]["S"] if name in values else None

    return PostingRule(
        event_type=item["event_type"]["S"],
        ledger_id=item["ledger_id"]["S"],
        version=int(item["version"]["N"]),
        lines=tuple(
            RuleLine(
                side=Side(line["M"]["side"]["S"]),
                amount=line["M"]["amount"]["S"],
                account_id=optional(line["M"], "account_id"),
                account_code=optional(line["M"], "account_code"),
            )
            for line in item["lines"]["L"]
        ),
        created_at=datetime.strptime(item["created_at"]["S"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=UTC
        ),
        reference=optional(item, "reference"),
        description=optional(item, "description"),
    )


class DynamoDBRules:
    """Posting rules on one table; contention is retried with the store's bounded backoff."""

    def __init__(
        self,
        client: DynamoDBClient,
        table_name: str,
        cursors: TableSeal,
        budget: Callable[[], Budget],
    ) -> None:
        self.client = client
        self.table_name = table_name
        self._cursors = cursors
        self._budget = budget

    def add(self, rule: PostingRule) -> None:
        """The version item (if new) and the head (if at the version before), together."""
        item = encode(rule)
        actions: Any = [
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {**version_key(rule.ledger_id, rule.event_type, rule.version), **item},
                    "ConditionExpression": version_is_new,
                }
            },
            {
                "Put": {
                    "TableName": self.table_name,
                    "Item": {**head_key(rule.ledger_id, rule.event_type), **item},
                    "ConditionExpression": head_is_previous,
                    "ExpressionAttributeNames": {"#version": "version"},
                    "ExpressionAttributeValues": {":previous": {"N": str(rule.version - 1)}},
                }
            },
        ]
        budget = self._budget()

        def settle(error: ClientError, outcome: Outcome) -> bool:
            return self._settled(rule, error, outcome, budget)

        transact(self.client, actions, budget, settle)

    def _settled(
        self, rule: PostingRule, error: ClientError, outcome: Outcome, budget: Budget
    ) -> bool:
        """True if an earlier attempt wrote this very rule; False (try again) after
        contention alone; RuleVersionTaken if another writer took the version."""
        reasons = [
            reason.get("Code", "None") for reason in error.response.get("CancellationReasons", [])
        ]
        if condition_failed in reasons:
            if outcome is Outcome.UNKNOWN:
                written = self.version(rule.ledger_id, rule.event_type, rule.version, budget)
                if written == rule:
                    return True
            raise RuleVersionTaken(rule) from error
        if reasons and all(reason in contention_reasons or reason == "None" for reason in reasons):
            return False
        raise error

    def account_of_code(self, ledger_id: str, code: str) -> str | None:
        """The code's claim item: one consistent GetItem."""
        key = {
            name: {"S": value}
            for name, value in item_key(Target("code", claim_id(ledger_id, code))).items()
        }
        response = read(
            self._budget(),
            lambda: self.client.get_item(TableName=self.table_name, Key=key, ConsistentRead=True),
        )
        claim = decode_record(response["Item"]) if "Item" in response else None
        return claim.account_id if isinstance(claim, Claim) and claim.kind == "code" else None

    def latest(self, ledger_id: str, event_type: str) -> PostingRule | None:
        """The head item: one consistent GetItem."""
        return self._get(head_key(ledger_id, event_type), self._budget())

    def version(
        self, ledger_id: str, event_type: str, version: int, budget: Budget | None = None
    ) -> PostingRule | None:
        """One version item: one consistent GetItem."""
        key = version_key(ledger_id, event_type, version)
        return self._get(key, budget or self._budget())

    def _get(self, key: dict[str, Any], budget: Budget) -> PostingRule | None:
        response = read(
            budget,
            lambda: self.client.get_item(TableName=self.table_name, Key=key, ConsistentRead=True),
        )
        return decode(response["Item"]) if "Item" in response else None

    def page(
        self, ledger_id: str, limit: int, cursor: str | None, caller: str | None
    ) -> Page[PostingRule]:
        """The ledger's head items, by event type: consistent Query pages."""
        budget = self._budget()

        def read_after(after: str | None, count: int) -> list[PostingRule]:
            arguments: dict[str, Any] = {
                "TableName": self.table_name,
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                "ExpressionAttributeValues": {
                    ":pk": {"S": f"LEDGER#{ledger_id}"},
                    ":prefix": {"S": head_prefix},
                },
                "ConsistentRead": True,
            }
            if after is not None:
                arguments["ExclusiveStartKey"] = head_key(ledger_id, after)
            return [decode(item) for item in query_up_to(self.client, budget, arguments, count)]

        return page_of(
            read_after,
            seal=self._cursors,
            ledger_id=ledger_id,
            limit=limit,
            cursor=cursor,
            caller=caller,
        )
