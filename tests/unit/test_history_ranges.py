"""History reads over an empty range ask DynamoDB nothing: a BETWEEN with its bounds
reversed is a ValidationException, which would surface as a 500."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import pytest

from ledger.store.deadline import Deadline
from ledger.store.dynamodb.history import query_aggregates, query_history
from ledger.store.dynamodb.retries import Budget
from ledger.store.history import HistoryQuery, at_or_before, before, from_moment

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

moment = datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)


class Unasked:
    """A client that fails the test if it is asked anything."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"DynamoDB was asked {name}")


def _budget() -> Budget:
    return Budget(Deadline(time.monotonic() + 30), time.sleep)


@pytest.mark.parametrize(
    ("low", "high"),
    [
        (from_moment(moment), before(moment.replace(year=2025))),
        (at_or_before(moment), before(moment)),
    ],
    ids=["from-after-to", "past-the-instant-before-it"],
)
@pytest.mark.parametrize("descending", [False, True])
def test_an_empty_history_range_reads_nothing(low: str, high: str, descending: bool) -> None:
    # GIVEN a query whose low bound is above its high bound
    query = HistoryQuery("effective", limit=5, low=low, high=high, descending=descending)
    client = cast("DynamoDBClient", Unasked())
    # WHEN one item's history is read over it THEN none comes, and DynamoDB is not asked
    assert query_history(client, "table", ("acc_x", 0), query, _budget()) == []


@pytest.mark.parametrize(
    ("low", "high"),
    [("DAY#2026-05-04", "DAY#2026-05-01"), ("MONTH#2026-05", "MONTH#2026-05")],
    ids=["reversed", "equal"],
)
def test_an_empty_aggregate_range_reads_nothing(low: str, high: str) -> None:
    # GIVEN bounds with the high one not above the low one (the high one is excluded)
    client = cast("DynamoDBClient", Unasked())
    # WHEN one item's aggregates are read between them THEN none come, DynamoDB not asked
    assert query_aggregates(client, "table", ("acc_x", 0), (low, high), _budget()) == {}
