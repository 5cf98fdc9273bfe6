"""The DynamoDB key store's creation transaction, retries and listing reads, against a
scripted fake client."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any, cast

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from ledger.domain import limits
from ledger.domain.api_keys import ApiKey, KeyStatus, Role
from ledger.domain.errors import Conflict
from ledger.store.api_keys import KeyTaken
from ledger.store.dynamodb.api_keys import DynamoDBApiKeyStore, key_is_new

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

table_name = "ledger-unit"
now = datetime(2026, 1, 1, tzinfo=UTC)
key = ApiKey("key_0123456789abcdef0123", Role.READER, (), None, KeyStatus.ACTIVE, now)
key_digest = "ab" * 32

Outcome = Exception | None


def client_error(code: str, reasons: list[str] | None = None) -> ClientError:
    """A ClientError shaped like botocore's for `code`, with cancellation reason codes."""
    response: Any = {"Error": {"Code": code, "Message": f"{code} (scripted)"}}
    if reasons is not None:
        response["CancellationReasons"] = [{"Code": reason} for reason in reasons]
    return ClientError(response, "TransactWriteItems")


def cancelled(*reasons: str) -> ClientError:
    return client_error("TransactionCanceledException", list(reasons))


def timed_out() -> ReadTimeoutError:
    return ReadTimeoutError(endpoint_url="https://dynamodb.example.invalid")


class FakeClient:
    """Answers TransactWriteItems and UpdateItem from scripts, BatchGetItem from a list."""

    def __init__(
        self,
        outcomes: Iterable[Outcome] = (),
        update: Outcome = None,
        batch_responses: Iterable[dict[str, Any]] = (),
    ) -> None:
        self._outcomes: Iterator[Outcome] = chain(outcomes, repeat(None))
        self._update = update
        self._batch_responses = iter(batch_responses)
        self.transact_calls: list[dict[str, Any]] = []

    @property
    def tokens(self) -> list[str]:
        return [call["ClientRequestToken"] for call in self.transact_calls]

    def transact_write_items(self, **kwargs: Any) -> dict[str, Any]:
        self.transact_calls.append(kwargs)
        outcome = next(self._outcomes)
        if outcome is not None:
            raise outcome
        return {}

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        return {"Item": {"digest": {"S": key_digest}}}

    def update_item(self, **kwargs: Any) -> dict[str, Any]:
        if self._update is not None:
            raise self._update
        return {}

    def batch_get_item(self, **kwargs: Any) -> dict[str, Any]:
        return next(self._batch_responses)


class SleepRecorder:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def store_with(client: FakeClient, sleep: SleepRecorder | None = None) -> DynamoDBApiKeyStore:
    return DynamoDBApiKeyStore(
        table_name, cast("DynamoDBClient", client), sleep=sleep or SleepRecorder()
    )


def test_a_key_is_one_transaction_of_its_two_items_each_guarded_as_new() -> None:
    # GIVEN a client that accepts
    client = FakeClient()

    # WHEN a key is added
    store_with(client).add(key, key_digest)

    # THEN one transaction put the record and the id item, each on the named condition
    (call,) = client.transact_calls
    puts = [action["Put"] for action in call["TransactItems"]]
    assert [put["Item"]["pk"]["S"] for put in puts] == [f"KEY#{key_digest}", f"KEYID#{key.id}"]
    assert [put["ConditionExpression"] for put in puts] == [key_is_new, key_is_new]


@pytest.mark.parametrize(
    "contention",
    [
        pytest.param(cancelled("TransactionConflict", "None"), id="transaction-conflict"),
        pytest.param(cancelled("None", "ThrottlingError"), id="throttled-item"),
        pytest.param(client_error("ThrottlingException"), id="throttled-request"),
    ],
)
def test_contention_is_retried_with_a_bounded_backoff_not_refused(contention: Exception) -> None:
    # GIVEN a client that meets contention twice, then accepts
    client = FakeClient([contention, contention])
    sleep = SleepRecorder()

    # WHEN a key is added
    store_with(client, sleep).add(key, key_digest)

    # THEN it was tried three times, each retry after a bounded wait, with fresh tokens
    assert len(client.transact_calls) == 3
    assert len(sleep.delays) == 2
    assert all(0 <= delay <= limits.retry_delay_ms_max / 1000 for delay in sleep.delays)
    assert len(set(client.tokens)) == 3


def test_contention_that_outlasts_the_attempts_is_a_conflict() -> None:
    # GIVEN a client that always meets contention
    client = FakeClient(repeat(cancelled("TransactionConflict", "TransactionConflict")))

    # WHEN a key is added / THEN it is a 503 conflict after the bounded attempts
    with pytest.raises(Conflict):
        store_with(client).add(key, key_digest)
    assert len(client.transact_calls) == limits.transaction_attempts_max


@pytest.mark.parametrize(
    ("reasons", "secret", "key_id"),
    [
        (("ConditionalCheckFailed", "None"), True, False),
        (("None", "ConditionalCheckFailed"), False, True),
        (("ConditionalCheckFailed", "ConditionalCheckFailed"), True, True),
        (("ConditionalCheckFailed", "TransactionConflict"), True, False),
    ],
)
def test_a_failed_condition_names_the_item_by_its_index(
    reasons: tuple[str, str], secret: bool, key_id: bool
) -> None:
    # GIVEN a creation cancelled because an item exists
    client = FakeClient([cancelled(*reasons)])

    # WHEN a key is added / THEN the refusal names which item was taken, and it is not retried
    with pytest.raises(KeyTaken) as taken:
        store_with(client).add(key, key_digest)
    assert (taken.value.secret, taken.value.key_id) == (secret, key_id)
    assert len(client.transact_calls) == 1


@pytest.mark.parametrize(
    "error",
    [
        pytest.param(cancelled(), id="no-reasons"),
        pytest.param(cancelled("None", "None"), id="no-reason-given"),
        pytest.param(cancelled("ValidationError", "None"), id="invalid-item"),
        pytest.param(client_error("AccessDeniedException"), id="not-a-retry-code"),
    ],
)
def test_a_cancellation_it_cannot_explain_is_raised_not_retried(error: ClientError) -> None:
    # GIVEN a client that fails in a way that is neither contention nor a taken item
    client = FakeClient([error])

    # WHEN a key is added / THEN the error is raised as it came, after one attempt
    with pytest.raises(ClientError) as raised:
        store_with(client).add(key, key_digest)
    assert raised.value is error
    assert len(client.transact_calls) == 1


@pytest.mark.parametrize(
    "unknown",
    [pytest.param(timed_out(), id="timeout"), pytest.param(client_error("InternalServerError"))],
)
def test_after_an_unknown_outcome_every_attempt_keeps_the_token(unknown: Exception) -> None:
    # GIVEN a first attempt whose outcome is unknown, then a throttle, then success
    client = FakeClient([unknown, client_error("ThrottlingException")])

    # WHEN a key is added
    store_with(client).add(key, key_digest)

    # THEN all three attempts carried the first one's token
    assert len(client.tokens) == 3
    assert len(set(client.tokens)) == 1


def test_revoking_a_key_whose_record_is_gone_finds_none() -> None:
    # GIVEN an id item whose record's condition fails
    client = FakeClient(update=client_error("ConditionalCheckFailedException"))

    # WHEN it is revoked / THEN there is no key to revoke
    assert store_with(client).revoke(key.id, now) is None
    # AND another failure is raised as it came
    other = client_error("ProvisionedThroughputExceededException")
    with pytest.raises(ClientError) as raised:
        store_with(FakeClient(update=other)).revoke(key.id, now)
    assert raised.value is other


def test_listing_reads_retry_unprocessed_keys_then_give_up_as_a_conflict() -> None:
    # GIVEN BatchGetItem answers that leave keys unprocessed every time
    pending = {"pk": {"S": "KEYID#key_x"}, "sk": {"S": "KEYID"}}
    unprocessed = {"Responses": {}, "UnprocessedKeys": {table_name: {"Keys": [pending]}}}
    client = FakeClient(batch_responses=repeat(unprocessed))
    sleep = SleepRecorder()

    # WHEN the listing reads them / THEN it retries with backoff, then refuses as a conflict
    store = store_with(client, sleep)
    with pytest.raises(Conflict) as conflict:
        store._batch_get([("KEYID#key_x", "KEYID")], store._budget())
    assert conflict.value.details == {"outcome": "not_applied"}
    assert len(sleep.delays) == limits.read_attempts_max - 1


def test_an_attempt_that_never_left_is_tried_again_as_the_same_request() -> None:
    # GIVEN a first attempt that could not connect (nothing was sent), then success
    client = FakeClient([EndpointConnectionError(endpoint_url="https://dynamodb.example.invalid")])

    # WHEN a key is added
    store_with(client).add(key, key_digest)

    # THEN the second attempt went out, as the plan store's do, under the same token
    assert len(client.tokens) == 2
    assert len(set(client.tokens)) == 1


def test_a_creation_out_of_time_is_a_conflict_saying_whether_it_may_have_landed() -> None:
    # GIVEN a store whose clock has passed the call's deadline after the first attempt, which
    # timed out
    client = FakeClient([timed_out()])
    store = DynamoDBApiKeyStore(
        table_name,
        cast("DynamoDBClient", client),
        sleep=SleepRecorder(),
        clock=lambda: 3600.0 if client.tokens else 0.0,
    )

    # WHEN a key is added / THEN it stops before another attempt, saying it may have landed
    with pytest.raises(Conflict) as conflict:
        store.add(key, key_digest)
    assert conflict.value.details == {"outcome": "unknown"}
    assert len(client.tokens) == 1
