"""DynamoDBStore's retry loop and cancellation decoding, against a scripted fake client."""

from __future__ import annotations

from itertools import repeat
from typing import Any

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError
from store_fakes import (
    FakeClient,
    SleepRecorder,
    account_record,
    cancelled,
    client_error,
    endpoint_url,
    now,
    store_with,
    table_name,
    usd,
)

from ledger.domain import limits
from ledger.domain.errors import (
    AccountInactive,
    Conflict,
    GuardMismatch,
    InsufficientFunds,
    NotFound,
)
from ledger.domain.ids import new_account_id, new_entry_id, new_ledger_id, world_account_id
from ledger.domain.model import AccountStatus, Entry, EntryKind, EntryStatus, Line, Side, Totals
from ledger.service import Ledger
from ledger.store.dynamodb.codec import encode
from ledger.store.dynamodb.schema import index_keys
from ledger.store.dynamodb.store import default_client
from ledger.store.listings import EntriesOf


@pytest.fixture
def ledger_id() -> str:
    return new_ledger_id(None, None)


@pytest.fixture
def wallet_id(ledger_id: str) -> str:
    """A well-formed id of a credit-normal USD account; the fake decides whether it exists."""
    return new_account_id(ledger_id, usd, Side.CREDIT, None)


def assert_bounded(delays: list[float]) -> None:
    """Each backoff is non-negative and below the ceiling of its attempt."""
    for attempt, delay in enumerate(delays):
        ceiling_ms = min(limits.retry_delay_ms_max, limits.retry_delay_ms_base * 2**attempt)
        assert 0 <= delay <= ceiling_ms / 1000


# Retried cancellations


@pytest.mark.parametrize(
    "reasons",
    [
        ("None", "TransactionConflict", "None"),
        ("TransactionConflict", "TransactionConflict", "TransactionConflict"),
        ("None", "ThrottlingError", "None"),
        ("ProvisionedThroughputExceeded", "None", "None"),
    ],
)
def test_contention_cancellation_is_retried_with_a_new_token(
    wallet_id: str, reasons: tuple[str, ...]
) -> None:
    # GIVEN a transaction cancelled once only by contention or throttling (nothing written)
    client, sleep = FakeClient([cancelled(*reasons)]), SleepRecorder()
    ledger = Ledger(store_with(client, sleep))
    # WHEN a deposit is made
    entry = ledger.deposit(wallet_id, "5.00")
    # THEN it is sent again, as a new request, and succeeds after one bounded backoff
    assert len(client.transact_calls) == 2
    assert client.tokens[0] != client.tokens[1]
    assert client.transact_calls[0]["TransactItems"] == client.transact_calls[1]["TransactItems"]
    assert entry.replayed is False
    assert len(sleep.delays) == 1
    assert_bounded(sleep.delays)


@pytest.mark.parametrize(
    "code",
    ["ThrottlingException", "ProvisionedThroughputExceededException", "RequestLimitExceeded"],
)
def test_throttling_is_retried_with_a_new_token(wallet_id: str, code: str) -> None:
    # GIVEN a request throttled twice (rejected before DynamoDB applied anything)
    client, sleep = FakeClient([client_error(code), client_error(code)]), SleepRecorder()
    # WHEN a deposit is made
    entry = Ledger(store_with(client, sleep)).deposit(wallet_id, "5.00")
    # THEN the third attempt succeeds, each attempt with a fresh token
    assert entry.kind is EntryKind.DEPOSIT
    assert len(client.transact_calls) == 3
    assert len(set(client.tokens)) == 3
    assert len(sleep.delays) == 2
    assert_bounded(sleep.delays)


@pytest.mark.parametrize(
    "error",
    [
        client_error("InternalServerError"),
        client_error("TransactionInProgressException"),
        client_error("ServiceUnavailable"),
        ReadTimeoutError(endpoint_url=endpoint_url),
    ],
    ids=["internal-server-error", "transaction-in-progress", "service-unavailable", "read-timeout"],
)
def test_unknown_outcome_is_retried_with_the_same_token(wallet_id: str, error: Exception) -> None:
    # GIVEN a request whose outcome is unknown twice (it may have been applied)
    client, sleep = FakeClient([error, error]), SleepRecorder()
    # WHEN a deposit is made
    entry = Ledger(store_with(client, sleep)).deposit(wallet_id, "5.00")
    # THEN every retry carries the same token, so DynamoDB cannot apply it twice
    assert entry.lines[0].account_id == wallet_id
    assert len(client.transact_calls) == 3
    assert len(set(client.tokens)) == 1
    assert_bounded(sleep.delays)


@pytest.mark.parametrize(
    "unknown",
    [client_error("InternalServerError"), ReadTimeoutError(endpoint_url=endpoint_url)],
    ids=["internal-server-error", "read-timeout"],
)
@pytest.mark.parametrize(
    "after",
    [
        cancelled("None", "TransactionConflict", "None"),
        client_error("ThrottlingException"),
        client_error("ProvisionedThroughputExceededException"),
        client_error("TransactionInProgressException"),
    ],
    ids=["contention", "throttling", "throughput", "in-progress"],
)
def test_token_is_kept_after_an_unknown_outcome_whatever_comes_next(
    wallet_id: str, unknown: Exception, after: Exception
) -> None:
    # GIVEN an unknown outcome, then a definite failure (which alone would renew the token)
    client, sleep = FakeClient([unknown, after, after]), SleepRecorder()
    # WHEN a deposit is made
    Ledger(store_with(client, sleep)).deposit(wallet_id, "5.00")
    # THEN every attempt after the unknown one carries its token: had it committed, DynamoDB
    # answers with that commit instead of applying the deposit again
    assert len(client.tokens) == 4
    assert len(set(client.tokens)) == 1


def test_token_is_renewed_after_definite_failures_before_any_unknown_outcome(
    wallet_id: str,
) -> None:
    # GIVEN contention, then throttling, then an unknown outcome, then contention again
    outcomes = [
        cancelled("None", "TransactionConflict", "None"),
        client_error("ThrottlingException"),
        client_error("InternalServerError"),
        cancelled("None", "TransactionConflict", "None"),
    ]
    client, sleep = FakeClient(outcomes), SleepRecorder()
    # WHEN a deposit is made
    Ledger(store_with(client, sleep)).deposit(wallet_id, "5.00")
    # THEN each definite failure renewed the token until the unknown outcome froze it
    first, second, third, fourth, fifth = client.tokens
    assert len({first, second, third}) == 3
    assert third == fourth == fifth


# Errors that are not retried


@pytest.mark.parametrize(
    "code", ["ValidationException", "ResourceNotFoundException", "AccessDeniedException"]
)
def test_other_client_errors_are_raised_unchanged(wallet_id: str, code: str) -> None:
    # GIVEN a client error no retry can cure
    error = client_error(code)
    client, sleep = FakeClient([error]), SleepRecorder()
    # WHEN a deposit is made
    with pytest.raises(ClientError) as raised:
        Ledger(store_with(client, sleep)).deposit(wallet_id, "5.00")
    # THEN the very error surfaces after one attempt, with no backoff
    assert raised.value is error
    assert len(client.transact_calls) == 1
    assert sleep.delays == []


def test_cancellation_with_an_unexpected_reason_is_raised_unchanged(wallet_id: str) -> None:
    # GIVEN a cancellation whose reason is neither a condition nor contention
    error = cancelled("None", "ValidationError", "None")
    client, sleep = FakeClient([error]), SleepRecorder()
    # WHEN a deposit is made
    with pytest.raises(ClientError) as raised:
        Ledger(store_with(client, sleep)).deposit(wallet_id, "5.00")
    # THEN it is not retried and not disguised
    assert raised.value is error
    assert len(client.transact_calls) == 1
    assert sleep.delays == []


def test_conflict_mixed_with_an_unexpected_reason_is_not_retried(wallet_id: str) -> None:
    # GIVEN a cancellation citing contention on one item and a validation error on another
    error = cancelled("TransactionConflict", "ValidationError", "None")
    client, sleep = FakeClient([error]), SleepRecorder()
    # WHEN a deposit is made
    with pytest.raises(ClientError) as raised:
        Ledger(store_with(client, sleep)).deposit(wallet_id, "5.00")
    # THEN retrying cannot help, so the error surfaces at once
    assert raised.value is error
    assert len(client.transact_calls) == 1


# Exhaustion


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (cancelled("None", "TransactionConflict", "None"), "not_applied"),
        (client_error("ThrottlingException"), "not_applied"),
        (client_error("InternalServerError"), "unknown"),
        (ReadTimeoutError(endpoint_url=endpoint_url), "unknown"),
    ],
    ids=["conflict", "throttling", "internal-server-error", "read-timeout"],
)
def test_exhausting_the_attempts_raises_conflict(
    wallet_id: str, error: Exception, outcome: str
) -> None:
    # GIVEN a write that fails the same retryable way forever
    client, sleep = FakeClient(repeat(error)), SleepRecorder()
    # WHEN a deposit is made
    with pytest.raises(Conflict) as raised:
        Ledger(store_with(client, sleep)).deposit(wallet_id, "5.00")
    # THEN exactly the configured number of attempts ran, then 503 conflict saying whether
    # an attempt may have landed
    assert raised.value.status == 503
    assert raised.value.details == {"outcome": outcome}
    assert len(client.transact_calls) == limits.transaction_attempts_max
    assert len(sleep.delays) <= limits.transaction_attempts_max
    assert_bounded(sleep.delays)


def test_attempt_bound_is_read_from_limits(wallet_id: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN the attempt bound lowered to 3
    monkeypatch.setattr(limits, "transaction_attempts_max", 3)
    client, sleep = FakeClient(repeat(client_error("ThrottlingException"))), SleepRecorder()
    # WHEN a deposit keeps being throttled
    with pytest.raises(Conflict):
        Ledger(store_with(client, sleep)).deposit(wallet_id, "5.00")
    # THEN it gave up after 3 attempts
    assert len(client.transact_calls) == 3


def test_backoff_delays_stay_within_their_bounds(wallet_id: str) -> None:
    # GIVEN many writes that each exhaust their attempts
    per_write: list[list[float]] = []
    for _ in range(30):
        contention = cancelled("TransactionConflict", "None", "None")
        client, sleep = FakeClient(repeat(contention)), SleepRecorder()
        with pytest.raises(Conflict):
            Ledger(store_with(client, sleep)).deposit(wallet_id, "5.00")
        per_write.append(sleep.delays)
    all_delays = [delay for delays in per_write for delay in delays]
    # THEN every delay is non-negative, below its attempt's ceiling and the global maximum
    for delays in per_write:
        assert_bounded(delays)
    assert max(all_delays) <= limits.retry_delay_ms_max / 1000
    # AND the delays are jittered, not a fixed schedule
    assert len(set(all_delays)) > 1
    # AND the total wait of one write is bounded by the sum of the ceilings
    ceiling_total_ms = sum(
        min(limits.retry_delay_ms_max, limits.retry_delay_ms_base * 2**attempt)
        for attempt in range(limits.transaction_attempts_max)
    )
    assert all(sum(delays) <= ceiling_total_ms / 1000 for delays in per_write)


# Explaining a cancellation


def test_condition_failure_with_the_old_item_needs_no_read(wallet_id: str) -> None:
    # GIVEN a spend cancelled on the wallet's condition, DynamoDB returning the wallet as it was
    wallet = account_record(wallet_id, headroom=300, totals=Totals(posted_credits=300))
    reasons: list[dict[str, Any]] = [
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Item": encode(wallet)},
        {"Code": "None"},
    ]
    error = client_error("TransactionCanceledException", reasons)
    client, sleep = FakeClient([error]), SleepRecorder()
    # WHEN 5.00 is spent from a wallet holding 3.00
    with pytest.raises(InsufficientFunds) as raised:
        Ledger(store_with(client, sleep)).spend(wallet_id, "5.00")
    # THEN the returned item explains it: no GetItem, no retry
    assert raised.value.details == {"account_id": wallet_id}
    assert client.get_item_calls == []
    assert len(client.transact_calls) == 1


def test_condition_failure_without_the_item_is_explained_by_a_consistent_read(
    wallet_id: str,
) -> None:
    # GIVEN a cancellation that did not carry the failed item, and a suspended wallet
    suspended = account_record(wallet_id, status=AccountStatus.SUSPENDED)
    client = FakeClient(
        [cancelled("None", "ConditionalCheckFailed", "None")],
        items={f"ACCOUNT#{wallet_id}": encode(suspended)},
    )
    # WHEN a deposit is made
    with pytest.raises(AccountInactive) as raised:
        Ledger(store_with(client, SleepRecorder())).deposit(wallet_id, "5.00")
    # THEN one strongly consistent GetItem of that very account explained it
    assert raised.value.details == {"account_id": wallet_id}
    assert len(client.get_item_calls) == 1
    read = client.get_item_calls[0]
    assert read["ConsistentRead"] is True
    assert read["TableName"] == table_name
    assert read["Key"] == {"pk": {"S": f"ACCOUNT#{wallet_id}"}, "sk": {"S": "ACCOUNT"}}


def test_condition_failure_on_a_missing_account_is_not_found(wallet_id: str) -> None:
    # GIVEN a cancellation on an account that does not exist (no item to return or read)
    client = FakeClient([cancelled("None", "ConditionalCheckFailed", "None")])
    # WHEN a deposit is made to it
    with pytest.raises(NotFound) as raised:
        Ledger(store_with(client, SleepRecorder())).deposit(wallet_id, "5.00")
    # THEN the error names the account
    assert raised.value.details == {"resource": "account", "id": wallet_id}
    assert len(client.get_item_calls) == 1


def test_first_violation_in_plan_order_wins(ledger_id: str, wallet_id: str) -> None:
    # GIVEN a transfer where both accounts' conditions failed: the payer is broke, the payee closed
    payee_id = new_account_id(ledger_id, usd, Side.CREDIT, None)
    payer = account_record(wallet_id)
    payee = account_record(payee_id, status=AccountStatus.CLOSED)
    reasons: list[dict[str, Any]] = [
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Item": encode(payer)},
        {"Code": "ConditionalCheckFailed", "Item": encode(payee)},
    ]
    client = FakeClient([client_error("TransactionCanceledException", reasons)])
    # WHEN the transfer is made
    with pytest.raises(InsufficientFunds) as raised:
        Ledger(store_with(client, SleepRecorder())).transfer(wallet_id, payee_id, "1.00")
    # THEN the payer's violation (earlier in the plan) is the one reported
    assert raised.value.details == {"account_id": wallet_id}


def test_condition_failure_whose_item_breaks_no_rule_is_a_guard_mismatch(wallet_id: str) -> None:
    # GIVEN a condition failure whose returned item satisfies every rule of the spend: the
    # condition and the check that explains it disagree
    healthy = account_record(wallet_id, headroom=10_000, totals=Totals(posted_credits=10_000))
    reasons: list[dict[str, Any]] = [
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Item": encode(healthy)},
        {"Code": "None"},
    ]
    client = FakeClient(repeat(client_error("TransactionCanceledException", reasons)))
    sleep = SleepRecorder()
    # WHEN 1.00 is spent
    with pytest.raises(GuardMismatch) as raised:
        Ledger(store_with(client, sleep)).spend(wallet_id, "1.00")
    # THEN it is an internal error naming the operation, after one attempt and no wait: no
    # retry can make the two agree, and a 503 "retry" would hide the bug
    assert (raised.value.code, raised.value.status) == ("internal_error", 500)
    assert raised.value.details == {"outcome": "not_applied"}
    assert (raised.value.operation, raised.value.target) == ("ApplyDelta", f"account {wallet_id}")
    assert len(client.transact_calls) == 1
    assert sleep.delays == []
    assert client.get_item_calls == []


def test_guard_mismatch_after_a_lost_answer_does_not_claim_nothing_was_written(
    wallet_id: str,
) -> None:
    # GIVEN a lost answer, then a refusal on an item that breaks no rule
    healthy = account_record(wallet_id, headroom=10_000, totals=Totals(posted_credits=10_000))
    reasons: list[dict[str, Any]] = [
        {"Code": "None"},
        {"Code": "ConditionalCheckFailed", "Item": encode(healthy)},
        {"Code": "None"},
    ]
    outcomes = [
        ReadTimeoutError(endpoint_url=endpoint_url),
        client_error("TransactionCanceledException", reasons),
    ]
    client = FakeClient(outcomes)
    # WHEN 1.00 is spent
    with pytest.raises(GuardMismatch) as raised:
        Ledger(store_with(client, SleepRecorder())).spend(wallet_id, "1.00")
    # THEN the mismatch says the first attempt may have landed
    assert raised.value.details == {"outcome": "unknown"}
    assert len(client.transact_calls) == 2


def test_condition_failure_without_an_item_is_retried_when_a_read_shows_state_moved_on(
    wallet_id: str,
) -> None:
    # GIVEN a condition failure that returned no item, and an account that now exists and
    # is in good standing (it was created meanwhile)
    wallet = account_record(wallet_id, headroom=10_000, totals=Totals(posted_credits=10_000))
    client = FakeClient(
        [cancelled("None", "ConditionalCheckFailed", "None")],
        items={f"ACCOUNT#{wallet_id}": encode(wallet)},
    )
    # WHEN 1.00 is spent
    entry = Ledger(store_with(client, SleepRecorder())).spend(wallet_id, "1.00")
    # THEN one consistent read showed the state moved on, and the retry, a new request, passed
    assert entry.lines[0].amount == 100
    assert len(client.get_item_calls) == 1
    assert len(client.tokens) == 2
    assert client.tokens[0] != client.tokens[1]


@pytest.mark.parametrize(
    "reasons",
    [None, [], [{"Code": "TransactionConflict"}]],
    ids=["no-reasons", "empty-reasons", "fewer-reasons-than-actions"],
)
def test_cancellation_without_a_reason_per_action_is_not_retried(
    wallet_id: str, reasons: list[dict[str, Any]] | None
) -> None:
    # GIVEN a cancellation whose reasons cannot be matched to the plan's actions
    error = client_error("TransactionCanceledException", reasons)
    client, sleep = FakeClient([error]), SleepRecorder()
    # WHEN a deposit is made
    with pytest.raises(ClientError) as raised:
        Ledger(store_with(client, sleep)).deposit(wallet_id, "5.00")
    # THEN nothing is read into it: no reason is no proof of contention, so no retry
    assert raised.value is error
    assert len(client.transact_calls) == 1
    assert sleep.delays == []


# Listings: BatchGetItem's unprocessed keys


def stored_entry(ledger_id: str, number: int) -> Entry:
    account_id = new_account_id(ledger_id, usd, Side.CREDIT, None)
    return Entry(
        id=new_entry_id(ledger_id, f"entry-{number}"),
        ledger_id=ledger_id,
        kind=EntryKind.DEPOSIT,
        status=EntryStatus.POSTED,
        lines=(
            Line(account_id, Side.CREDIT, 100 + number, "USD"),
            Line(world_account_id(ledger_id, usd), Side.DEBIT, 100 + number, "USD"),
        ),
        effective_at=now,
        created_at=now.replace(second=number),
        request_hash=str(number) * 64,
    )


def index_row(entry: Entry) -> dict[str, Any]:
    """What the keys-only index returns for an entry."""
    keys = {"pk": f"ENTRY#{entry.id}", "sk": "ENTRY", **index_keys(entry)}
    return {name: {"S": value} for name, value in keys.items()}


def item_key_of(entry: Entry) -> dict[str, Any]:
    return {"pk": {"S": f"ENTRY#{entry.id}"}, "sk": {"S": "ENTRY"}}


def test_unprocessed_keys_are_fetched_again(ledger_id: str) -> None:
    # GIVEN two entries, the first BatchGetItem returning only one of them
    newer, older = stored_entry(ledger_id, 2), stored_entry(ledger_id, 1)
    responses: list[dict[str, Any]] = [
        {
            "Responses": {table_name: [encode(older)]},
            "UnprocessedKeys": {table_name: {"Keys": [item_key_of(newer)]}},
        },
        {"Responses": {table_name: [encode(newer)]}, "UnprocessedKeys": {}},
    ]
    client = FakeClient(batch_responses=responses, query_items=[index_row(newer), index_row(older)])
    sleep = SleepRecorder()
    # WHEN the ledger's entries are listed
    page = store_with(client, sleep).page(EntriesOf(ledger_id, None), 10, None, Entry)
    # THEN the missing key was asked for again, alone, and the page keeps index order
    assert [entry.id for entry in page.items] == [newer.id, older.id]
    assert page.next_cursor is None
    assert len(client.batch_get_calls) == 2
    second_request = client.batch_get_calls[1]["RequestItems"][table_name]
    assert second_request["Keys"] == [item_key_of(newer)]
    assert second_request["ConsistentRead"] is True
    assert len(sleep.delays) == 1
    assert_bounded(sleep.delays)


def test_keys_never_processed_raise_conflict(ledger_id: str) -> None:
    # GIVEN a BatchGetItem that never processes anything
    entry = stored_entry(ledger_id, 1)
    never: dict[str, Any] = {
        "Responses": {},
        "UnprocessedKeys": {table_name: {"Keys": [item_key_of(entry)]}},
    }
    client = FakeClient(batch_responses=repeat(never), query_items=[index_row(entry)])
    sleep = SleepRecorder()
    # WHEN the ledger's entries are listed
    with pytest.raises(Conflict):
        store_with(client, sleep).page(EntriesOf(ledger_id, None), 10, None, Entry)
    # THEN it gave up after the bounded number of attempts, sleeping a bounded time in between
    assert len(client.batch_get_calls) == limits.read_attempts_max
    assert_bounded(sleep.delays)


def test_default_client_has_bounded_timeouts_and_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a region from the environment, as in Lambda
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    # WHEN the store creates its own client
    client = default_client()
    # THEN it talks to DynamoDB in that region with the named timeouts and no retries of its
    # own (the store retries, within its deadline), so one call lasts at most the sum of both
    config: dict[str, Any] = vars(client.meta.config)
    assert client.meta.service_model.service_name == "dynamodb"
    assert client.meta.region_name == "eu-west-1"
    timeouts_ms = (config["connect_timeout"] * 1000, config["read_timeout"] * 1000)
    assert timeouts_ms == (limits.dynamodb_connect_timeout_ms, limits.dynamodb_read_timeout_ms)
    assert sum(timeouts_ms) == limits.dynamodb_call_ms_max
    assert config["retries"] == {"total_max_attempts": 1, "mode": "standard"}


# Reads: retried by the store itself, since botocore retries nothing


class FailingReads(FakeClient):
    """GetItem and BatchGetItem fail with the scripted errors first, then answer."""

    def __init__(self, errors: list[Exception], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._errors = iter(errors)

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        answer = super().get_item(**kwargs)
        error = next(self._errors, None)
        if error is not None:
            raise error
        return answer

    def batch_get_item(self, **kwargs: Any) -> dict[str, Any]:
        answer = super().batch_get_item(**kwargs)
        error = next(self._errors, None)
        if error is not None:
            raise error
        return answer


@pytest.mark.parametrize(
    "error",
    [ReadTimeoutError(endpoint_url=endpoint_url), client_error("ThrottlingException")],
    ids=["read-timeout", "throttling"],
)
def test_a_failed_read_is_tried_again(wallet_id: str, error: Exception) -> None:
    # GIVEN a stored wallet whose first read fails
    wallet = account_record(wallet_id, headroom=700, totals=Totals(posted_credits=700))
    client = FailingReads([error], items={f"ACCOUNT#{wallet_id}": encode(wallet)})
    sleep = SleepRecorder()
    # WHEN its balance is read
    balance = Ledger(store_with(client, sleep)).get_balance(wallet_id)
    # THEN the second read answered it, after one bounded backoff
    assert balance.available == 700
    assert len(client.get_item_calls) == 2
    assert_bounded(sleep.delays)


def test_a_read_error_no_retry_cures_is_raised_unchanged(wallet_id: str) -> None:
    # GIVEN a read refused as invalid
    error = client_error("ValidationException")
    client = FailingReads([error])
    # WHEN an account is read
    with pytest.raises(ClientError) as raised:
        Ledger(store_with(client, SleepRecorder())).get_account(wallet_id)
    # THEN that error surfaces after one call
    assert raised.value is error
    assert len(client.get_item_calls) == 1


def test_a_read_throttled_on_every_attempt_is_503_not_applied(wallet_id: str) -> None:
    # GIVEN reads throttled forever, and all the time in the world
    client = FailingReads([client_error("ThrottlingException")] * limits.read_attempts_max)
    # WHEN an account is read
    with pytest.raises(Conflict) as raised:
        Ledger(store_with(client, SleepRecorder())).get_account(wallet_id)
    # THEN it gave up after the bounded attempts; a read writes nothing
    assert raised.value.details == {"outcome": "not_applied"}
    assert len(client.get_item_calls) == limits.read_attempts_max


def test_a_failed_batch_read_of_a_listing_is_tried_again(ledger_id: str) -> None:
    # GIVEN a listing whose first BatchGetItem times out
    entry = stored_entry(ledger_id, 1)
    answer = {"Responses": {table_name: [encode(entry)]}, "UnprocessedKeys": {}}
    client = FailingReads(
        [ReadTimeoutError(endpoint_url=endpoint_url)],
        batch_responses=[answer, answer],
        query_items=[index_row(entry)],
    )
    # WHEN the ledger's entries are listed
    page = store_with(client, SleepRecorder()).page(EntriesOf(ledger_id, None), 10, None, Entry)
    # THEN the second batch read filled the page
    assert [item.id for item in page.items] == [entry.id]
    assert len(client.batch_get_calls) == 2
