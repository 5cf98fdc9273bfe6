"""When a DynamoDB call is tried again, how long to wait first, and when time is up."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    HTTPClientError,
)
from botocore.exceptions import ConnectionError as BotocoreConnectionError

from ledger.domain import limits
from ledger.domain.errors import Conflict
from ledger.store.deadline import Deadline

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

T = TypeVar("T")

condition_failed = "ConditionalCheckFailed"
# Reasons of a cancelled transaction that wrote nothing and may pass if tried again.
contention_reasons = frozenset(
    {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
)
# Every reason the store knows how to read; any other one is raised as it came.
known_reasons = contention_reasons | {"None", condition_failed}
retry_codes = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TransactionInProgressException",
        "InternalServerError",
        "ServiceUnavailable",
    }
)
# These may have been applied: the retry keeps the ClientRequestToken, so DynamoDB
# answers with the first outcome instead of applying the plan twice.
outcome_unknown_codes = frozenset(
    {"TransactionInProgressException", "InternalServerError", "ServiceUnavailable"}
)
# Raised while connecting: the request never left, so DynamoDB cannot have applied it.
not_sent_errors = (EndpointConnectionError, ConnectTimeoutError)
network_errors = (HTTPClientError, BotocoreConnectionError)


class Outcome(StrEnum):
    """What a caller can know about a write that did not complete (`details.outcome`)."""

    NOT_APPLIED = "not_applied"
    UNKNOWN = "unknown"


_gave_up = {
    Outcome.NOT_APPLIED: "the write met contention or ran out of time and was not applied; "
    "retry with the same key",
    Outcome.UNKNOWN: "DynamoDB did not answer in time, so the write may have been applied; "
    "retry with the same key",
}


def gave_up(outcome: Outcome) -> Conflict:
    """The 503 of a write that ran out of attempts or time, saying whether it may have landed."""
    return Conflict(_gave_up[outcome], {"outcome": outcome.value})


def backoff_ms(attempt: int) -> int:
    """Full jitter: a random wait up to an exponentially growing, bounded ceiling."""
    return random.randint(
        0, min(limits.retry_delay_ms_max, limits.retry_delay_ms_base * 2**attempt)
    )


@dataclass(frozen=True)
class Budget:
    """The time one store call has for its DynamoDB calls and the waits between them."""

    deadline: Deadline
    sleep: Callable[[float], None]

    def ready(self, attempt: int) -> bool:
        """Wait out the backoff before `attempt` (none before the first), cut short so that
        one whole call still fits before the deadline; False once none fits."""
        room_ms = self.deadline.remaining_ms() - limits.dynamodb_call_ms_max
        if room_ms < 0:
            return False
        if attempt > 0:
            self.sleep(min(backoff_ms(attempt - 1), room_ms) / 1000)
        return self.deadline.remaining_ms() >= limits.dynamodb_call_ms_max


def read_once(call: Callable[[], T]) -> T | None:
    """One read; None if it failed in a way another attempt may cure (network, throttling)."""
    try:
        return call()
    except network_errors:
        return None
    except ClientError as error:
        if error.response["Error"]["Code"] in retry_codes:
            return None
        raise


def read(budget: Budget, call: Callable[[], T], outcome: Outcome = Outcome.NOT_APPLIED) -> T:
    """A read, tried again after throttling or a failed call (a read changes nothing); 503
    with `outcome` (what the write around it may have done) when attempts or time run out."""
    for attempt in range(limits.read_attempts_max):
        if not budget.ready(attempt):
            break
        result = read_once(call)
        if result is not None:
            return result
    if outcome is Outcome.UNKNOWN:
        raise gave_up(outcome)
    raise Conflict(
        "the read did not complete in time; nothing was written; retry",
        {"outcome": Outcome.NOT_APPLIED.value},
    )


def query_up_to(
    client: DynamoDBClient, budget: Budget, arguments: dict[str, Any], count: int
) -> list[dict[str, Any]]:
    """At most `count` items of a Query, page after page, each page read as `read` does."""
    items: list[dict[str, Any]] = []
    while len(items) < count:
        response = read(budget, partial(client.query, **arguments, Limit=count - len(items)))
        items += response["Items"]
        if "LastEvaluatedKey" not in response:
            break
        arguments = {**arguments, "ExclusiveStartKey": response["LastEvaluatedKey"]}
    return items


# Reads a cancelled transaction: raises the refusal it shows, True if it shows that an
# earlier attempt committed, False if trying again may pass.
Settle = Callable[[ClientError, Outcome], bool]


def transact(client: DynamoDBClient, actions: Any, budget: Budget, settle: Settle) -> None:
    """One TransactWriteItems, tried again after contention, throttling and lost answers
    within `budget`; out of attempts or time, 503 saying whether an attempt may have landed."""
    token = str(uuid.uuid4())
    outcome = Outcome.NOT_APPLIED
    for attempt in range(limits.transaction_attempts_max):
        if not budget.ready(attempt):
            break
        try:
            client.transact_write_items(TransactItems=actions, ClientRequestToken=token)
        except not_sent_errors:
            continue
        except network_errors:
            outcome = Outcome.UNKNOWN
            continue
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code == "TransactionCanceledException":
                if settle(error, outcome):
                    return
            elif code not in retry_codes:
                raise
            elif code in outcome_unknown_codes:
                outcome = Outcome.UNKNOWN
            # Once an attempt may have committed, every later one carries its token, so
            # DynamoDB answers with that commit instead of applying the write again.
            if outcome is Outcome.NOT_APPLIED:
                token = str(uuid.uuid4())
        else:
            return
    raise gave_up(outcome)
