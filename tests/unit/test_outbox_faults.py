"""Outbox writes that DynamoDB refuses for a reason other than an event there already, or
an entry resolved or noticed already, are raised: never taken as written."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, cast

import pytest
from botocore.exceptions import ClientError
from store_fakes import FakeClient, cancelled, client_error, table_name

from ledger.domain import events
from ledger.domain.events import OutboxEvent
from ledger.store.dynamodb.expiring import notice_expiring
from ledger.store.dynamodb.outbox import put_outbox

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

at = datetime(2026, 1, 1, tzinfo=UTC)


def an_event(number: int) -> OutboxEvent:
    return OutboxEvent(
        event_id=events.event_id("ent_1", str(number)),
        detail_type=events.entry_expiring,
        ledger_id="ldg_1",
        time=at,
        detail={"id": "ent_1"},
    )


def client_of(fake: FakeClient) -> DynamoDBClient:
    return cast("DynamoDBClient", fake)


@pytest.mark.parametrize(
    "refusal",
    [
        cancelled("TransactionConflict", "None"),
        cancelled("None", "ThrottlingError"),
        client_error("ProvisionedThroughputExceededException"),
    ],
    ids=["conflict", "throttled-in-transaction", "throttled"],
)
def test_an_outbox_put_refused_otherwise_than_for_an_event_there_is_raised(
    refusal: ClientError,
) -> None:
    # GIVEN a table that refuses the put of two events, neither for being there already
    fake = FakeClient([refusal])
    # WHEN they are put / THEN the refusal is raised after the one attempt
    with pytest.raises(ClientError) as raised:
        put_outbox(client_of(fake), table_name, [an_event(1), an_event(2)])
    assert raised.value is refusal
    assert len(fake.transact_calls) == 1


def test_an_outbox_put_with_an_event_there_puts_the_others_only() -> None:
    # GIVEN a table where the first of three events is there already
    fake = FakeClient([cancelled("ConditionalCheckFailed", "None", "None")])
    sent = [an_event(1), an_event(2), an_event(3)]
    # WHEN they are put
    put_outbox(client_of(fake), table_name, sent)
    # THEN the second attempt put the other two, and nothing more was tried
    first, second = (
        [action["Put"]["Item"]["event_id"]["S"] for action in call["TransactItems"]]
        for call in fake.transact_calls
    )
    assert first == [event.event_id for event in sent]
    assert second == [event.event_id for event in sent[1:]]


@pytest.mark.parametrize(
    "refusal",
    [
        client_error("ProvisionedThroughputExceededException"),
        cancelled("None", "ThrottlingError"),
        cancelled("ValidationError", "None"),
    ],
    ids=["throttled", "throttled-in-transaction", "invalid"],
)
def test_a_notice_refused_otherwise_than_for_the_entry_or_contention_is_raised(
    refusal: ClientError,
) -> None:
    # GIVEN a table that refuses a notice for neither a failed condition nor a conflict
    fake = FakeClient([refusal])
    # WHEN the entry is noticed / THEN the refusal is raised, not taken for passed over
    with pytest.raises(ClientError) as raised:
        notice_expiring(client_of(fake), table_name, "ent_1", at, an_event(1))
    assert raised.value is refusal


@pytest.mark.parametrize("reason", ["ConditionalCheckFailed", "TransactionConflict"])
def test_a_notice_that_lost_its_condition_or_a_conflict_is_passed_over(reason: str) -> None:
    # GIVEN a table that cancels the notice for the entry's condition or a conflict
    fake = FakeClient([cancelled(reason, "None")])
    # WHEN the entry is noticed / THEN it is left for a later sweep, nothing raised
    assert notice_expiring(client_of(fake), table_name, "ent_1", at, an_event(1)) is False
