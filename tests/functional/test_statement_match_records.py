"""Statement match records on the DynamoDB store under moto (and on memory, which must
agree): matches written whole, refused whole where another run recorded any of their items
first, packed into transactions of at most 100 items, and read back by key."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

import pytest
from botocore.exceptions import ClientError

from ledger.domain.matches import MatchRecord, MatchRefused
from ledger.domain.model import Actor
from ledger.store.dynamodb import DynamoDBStore
from ledger.store.dynamodb.matches import transaction_groups
from ledger.store.matches import KeepsStatementMatches

from .helpers import Backend

now = datetime(2026, 3, 2, tzinfo=UTC)
ledger_id = "ldg_abcdefghijklmnop"
account = "acc_abcdefghijklmnop_USD-2-c_qrstuvwxyzabcdef"


def record(row_id: str, *entry_ids: str, run_id: str = "mrun_a", **extra: Any) -> MatchRecord:
    return MatchRecord(ledger_id, account, "bank", row_id, entry_ids, run_id, now, **extra)


def entry(number: int) -> str:
    return f"ent_abcdefghijklmnop_{number:026d}"


def store_of(backend: Backend) -> KeepsStatementMatches:
    store = backend.store
    assert isinstance(store, KeepsStatementMatches)
    return store


def test_matches_are_written_whole_and_read_back_by_key(backend: Backend) -> None:
    store = store_of(backend)
    # GIVEN two matches recorded, one with an actor
    actor = Actor(key_id="key_1", role="operator", request_id="req-1")
    refused = store.record_matches(
        [record("r1", entry(1), actor=actor), record("r#2", entry(2), entry(3))]
    )
    # THEN none was refused, and their rows and entries read as matched
    assert refused == {}
    assert store.matched_rows(ledger_id, account, "bank", ["r1", "r#2", "r3"]) == {"r1", "r#2"}
    assert store.matched_rows(ledger_id, account, "other", ["r1"]) == set()
    wanted = [entry(n) for n in range(1, 5)]
    assert store.matched_entries(ledger_id, account, wanted) == set(wanted[:3])
    assert store.matched_entries("ldg_qrstuvwxyzabcdef", account, wanted) == set()


def test_a_match_with_any_item_taken_is_refused_whole_and_the_rest_written(
    backend: Backend,
) -> None:
    store = store_of(backend)
    # GIVEN another run's matches of row r1 and of entry 3
    store.record_matches([record("r1", entry(9), run_id="mrun_b"), record("x", entry(3))])
    # WHEN this run records r1, r2 (entries 2 and 3), and r4, all in one transaction
    refused = store.record_matches(
        [record("r1", entry(1)), record("r2", entry(2), entry(3)), record("r4", entry(4))]
    )
    # THEN r1 is refused for its row, r2 for its entry 3, and r4 is written
    assert refused == {
        "r1": MatchRefused(row_taken=True, entries_taken=frozenset()),
        "r2": MatchRefused(row_taken=False, entries_taken=frozenset({entry(3)})),
    }
    assert store.matched_rows(ledger_id, account, "bank", ["r2", "r4"]) == {"r4"}
    # AND nothing of the refused matches was written
    assert store.matched_entries(ledger_id, account, [entry(1), entry(2)]) == set()
    # WHEN r4 is recorded again, THEN it is refused, its row and its entry taken
    assert store.record_matches([record("r4", entry(4))]) == {
        "r4": MatchRefused(row_taken=True, entries_taken=frozenset({entry(4)}))
    }


def test_matches_beyond_one_transaction_are_packed_in_several() -> None:
    # GIVEN 60 matches of one entry each and one of 99 entries
    records = [record(f"r{n}", entry(n)) for n in range(60)]
    records.append(record("big", *(entry(100 + n) for n in range(99))))
    # WHEN packed, THEN groups hold at most 100 items, in order, every match once
    groups = transaction_groups(records)
    assert [sum(1 + len(r.entry_ids) for r in group) for group in groups] == [100, 20, 100]
    assert [r for group in groups for r in group] == records


def test_many_matches_on_the_table_are_all_written(backend: Backend) -> None:
    store = store_of(backend)
    records = [record(f"r{n}", entry(n), entry(1000 + n)) for n in range(60)]
    assert store.record_matches(records) == {}
    rows = [f"r{n}" for n in range(60)]
    assert store.matched_rows(ledger_id, account, "bank", rows) == set(rows)


class Cancelling:
    """A client whose transactions are cancelled with the scripted reasons."""

    def __init__(self, reasons: list[dict[str, str]]) -> None:
        self.reasons = reasons

    def transact_write_items(self, **_arguments: Any) -> None:
        response: Any = {
            "Error": {"Code": "TransactionCanceledException", "Message": "scripted"},
            "CancellationReasons": self.reasons,
        }
        raise ClientError(response, "TransactWriteItems")


@pytest.mark.parametrize(
    "reasons",
    [[{"Code": "ConditionalCheckFailed"}], [{"Code": "None"}, {"Code": "ValidationError"}]],
)
def test_a_cancellation_that_cannot_be_read_is_raised(reasons: list[dict[str, str]]) -> None:
    # GIVEN a table whose cancellation reasons do not fit the transaction or are unknown
    store = DynamoDBStore("ledger", client=cast(Any, Cancelling(reasons)), sleep=lambda _: None)
    # WHEN a match of two items is recorded, THEN the cancellation is raised as it came
    with pytest.raises(ClientError):
        store.record_matches([record("r1", entry(1))])
