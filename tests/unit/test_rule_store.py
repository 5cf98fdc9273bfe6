"""The DynamoDB rule store's reading of a cancelled put, and its paged heads, on a
scripted client."""

from __future__ import annotations

from typing import Any, cast

import pytest
from botocore.exceptions import ClientError
from store_fakes import FakeClient, cancelled, client_error, now, table_name

from ledger.domain.errors import Conflict
from ledger.domain.model import Side
from ledger.domain.posting_rules import PostingRule, RuleLine
from ledger.store.dynamodb import DynamoDBStore
from ledger.store.dynamodb.rules import encode, head_key, version_key
from ledger.store.memory import MemoryStore
from ledger.store.rules import RuleVersionTaken

ledger_id = "ldg_abcdefghijklmnop"


def rule(version: int = 2, event_type: str = "expense.created") -> PostingRule:
    """A rule of two lines, one by code."""
    return PostingRule(
        event_type=event_type,
        ledger_id=ledger_id,
        version=version,
        lines=(
            RuleLine(Side.DEBIT, "{{data.amount}}", account_code="cash"),
            RuleLine(Side.CREDIT, "{{data.amount}}", account_id="{{data.account}}"),
        ),
        created_at=now,
        reference="{{data.ref}}",
    )


def store_of(client: FakeClient) -> DynamoDBStore:
    """A DynamoDB store on the scripted client, without waits."""
    return DynamoDBStore(table_name, client=cast(Any, client), sleep=lambda _seconds: None)


def test_a_put_whose_version_is_taken_is_refused_as_taken() -> None:
    # GIVEN a client that refuses the version item's condition
    client = FakeClient([cancelled("ConditionalCheckFailed", "None")])

    # WHEN / THEN the put says the version was taken
    with pytest.raises(RuleVersionTaken):
        store_of(client).rules.add(rule())


def test_a_put_whose_answer_was_lost_and_which_landed_is_done() -> None:
    # GIVEN a first attempt whose answer is lost, and a retry refused because it landed
    written = {**version_key(ledger_id, "expense.created", 2), **encode(rule())}
    client = FakeClient(
        [client_error("InternalServerError"), cancelled("ConditionalCheckFailed", "None")],
        items={f"LEDGER#{ledger_id}": written},
    )

    # WHEN the rule is put
    store_of(client).rules.add(rule())

    # THEN the store read the version item and found its own rule: done, two attempts
    assert len(client.transact_calls) == 2
    assert client.get_item_calls[0]["Key"] == version_key(ledger_id, "expense.created", 2)


def test_a_put_whose_answer_was_lost_and_another_rule_won_is_taken() -> None:
    # GIVEN a lost answer, then a refusal, and another writer's rule in the version item
    theirs = {**version_key(ledger_id, "expense.created", 2), **encode(rule(2, "expense.created"))}
    theirs["description"] = {"S": "theirs"}
    client = FakeClient(
        [client_error("InternalServerError"), cancelled("ConditionalCheckFailed", "None")],
        items={f"LEDGER#{ledger_id}": theirs},
    )

    # WHEN / THEN the put is refused as taken
    with pytest.raises(RuleVersionTaken):
        store_of(client).rules.add(rule())


def test_a_put_that_met_contention_is_tried_again_then_gives_up() -> None:
    # GIVEN a client that meets contention once, and one that always does
    once = FakeClient([cancelled("TransactionConflict", "None")])
    always = FakeClient([cancelled("TransactionConflict", "None")] * 100)

    # WHEN / THEN the first lands on its second attempt, the second is a 503
    store_of(once).rules.add(rule())
    assert len(once.transact_calls) == 2
    with pytest.raises(Conflict):
        store_of(always).rules.add(rule())


def test_a_cancellation_it_cannot_read_is_raised_as_it_came() -> None:
    # GIVEN a cancellation with no reasons
    client = FakeClient([cancelled()])

    # WHEN / THEN it is raised, not guessed at
    with pytest.raises(ClientError):
        store_of(client).rules.add(rule())


class PagedClient(FakeClient):
    """Answers Query with one item per page, following ExclusiveStartKey."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        super().__init__()
        self.pages = items
        self.queries: list[dict[str, Any]] = []

    def put_item(self, **kwargs: Any) -> dict[str, Any]:
        """The cursor secret's creation."""
        return {}

    def query(self, **kwargs: Any) -> dict[str, Any]:
        self.queries.append(kwargs)
        start = kwargs.get("ExclusiveStartKey")
        index = 0 if start is None else [item["sk"] for item in self.pages].index(start["sk"]) + 1
        page = self.pages[index : index + 1]
        more = index + 1 < len(self.pages)
        return {"Items": page, **({"LastEvaluatedKey": page[0]} if more else {})}


def test_the_listing_follows_query_pages_until_it_has_enough() -> None:
    # GIVEN heads that the table answers one per page
    heads = [
        {**head_key(ledger_id, name), **encode(rule(1, name))}
        for name in ("expense.created", "income.received")
    ]
    client = PagedClient(heads)

    # WHEN a page of ten is listed
    page = store_of(client).rules.page(ledger_id, 10, None, None)

    # THEN both heads came, in two queries, and nothing follows
    assert [each.event_type for each in page.items] == ["expense.created", "income.received"]
    assert len(client.queries) == 2
    assert page.next_cursor is None


def test_the_listing_stops_reading_once_it_has_enough() -> None:
    # GIVEN three heads, one per page
    heads = [
        {**head_key(ledger_id, name), **encode(rule(1, name))}
        for name in ("a.created", "b.created", "c.created")
    ]
    client = PagedClient(heads)

    # WHEN a page of one is listed (two are read: one more tells whether more follow)
    page = store_of(client).rules.page(ledger_id, 1, None, None)

    # THEN two queries were made, not three, and a cursor says more follow
    assert [each.event_type for each in page.items] == ["a.created"]
    assert len(client.queries) == 2
    assert page.next_cursor is not None


def test_the_memory_store_takes_only_the_next_version() -> None:
    # GIVEN rules kept in memory
    rules = MemoryStore().rules

    # WHEN a version is skipped, THEN it is refused; the next one is taken
    with pytest.raises(RuleVersionTaken):
        rules.add(rule(2))
    rules.add(rule(1))
    assert rules.latest(ledger_id, "expense.created") == rule(1)
