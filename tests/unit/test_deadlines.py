"""Every store call ends by its deadline and says whether its write may have landed; a
fake clock stands in for time, and the scripted client's calls take time on it."""

from __future__ import annotations

from itertools import repeat
from typing import Any

import pytest
from botocore.exceptions import EndpointConnectionError, ReadTimeoutError
from store_fakes import FakeClient, Outcome, cancelled, client_error, endpoint_url, store_with
from unit_builders import a_ledger_id, an_account_id

from ledger.domain import limits
from ledger.domain.errors import Conflict
from ledger.domain.model import Account, Entry, Side
from ledger.planning.steps import Target
from ledger.service import Ledger
from ledger.store.deadline import current_deadline, lambda_budget_ms, request_deadline
from ledger.store.listings import EntriesOf

call_s_max = limits.dynamodb_call_ms_max / 1000


class FakeClock:
    """Monotonic seconds that move only when slept or when a call takes time."""

    def __init__(self) -> None:
        self.now_s = 1000.0
        self.slept_s = 0.0

    def __call__(self) -> float:
        return self.now_s

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.slept_s += seconds
        self.now_s += seconds


class SlowClient(FakeClient):
    """A scripted client whose every call takes `call_s` on the clock; records when each
    TransactWriteItems started, as time left before the deadline."""

    def __init__(self, clock: FakeClock, call_s: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.clock = clock
        self.call_s = call_s
        self.started_s: list[float] = []

    def transact_write_items(self, **kwargs: Any) -> dict[str, Any]:
        self.started_s.append(self.clock())
        self.clock.now_s += self.call_s
        return super().transact_write_items(**kwargs)

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        self.clock.now_s += self.call_s
        return super().get_item(**kwargs)

    def batch_get_item(self, **kwargs: Any) -> dict[str, Any]:
        self.clock.now_s += self.call_s
        return super().batch_get_item(**kwargs)


def wallet() -> str:
    return an_account_id(side=Side.CREDIT)


def test_the_local_bound_ends_a_contended_write_before_it_with_nothing_applied() -> None:
    # GIVEN no request deadline (the library), and a deposit contended forever, each attempt
    # taking a second
    clock = FakeClock()
    start_s = clock()
    client = SlowClient(
        clock, 1.0, outcomes=repeat(cancelled("TransactionConflict", "None", "None"))
    )
    # WHEN the deposit is made
    with pytest.raises(Conflict) as raised:
        Ledger(store_with(client, clock.sleep, clock)).deposit(wallet(), "5.00")
    # THEN it gave up before the local bound, never starting a call that might outlast it,
    # and says nothing was applied
    deadline_s = start_s + limits.store_deadline_ms_local / 1000
    assert raised.value.details == {"outcome": "not_applied"}
    assert all(deadline_s - started >= call_s_max for started in client.started_s)
    assert clock() <= deadline_s
    assert 1 < len(client.started_s) < limits.transaction_attempts_max


def test_a_write_whose_attempts_went_unanswered_runs_out_as_unknown() -> None:
    # GIVEN a request deadline of 8 s, and a network that loses every answer after 2 s
    clock = FakeClock()
    client = SlowClient(clock, 2.0, outcomes=repeat(ReadTimeoutError(endpoint_url=endpoint_url)))
    # WHEN a deposit is made within it
    with request_deadline(8_000, clock) as deadline, pytest.raises(Conflict) as raised:
        Ledger(store_with(client, clock.sleep, clock)).deposit(wallet(), "5.00")
    # THEN it stopped in time and says truthfully that the deposit may have landed
    assert raised.value.details == {"outcome": "unknown"}
    assert raised.value.status == 503
    assert deadline.remaining_ms() >= 0
    assert len(client.started_s) == 2
    assert len(set(client.tokens)) == 1


def test_a_write_never_sent_runs_out_as_not_applied() -> None:
    # GIVEN an endpoint that cannot be reached at all
    clock = FakeClock()
    client = SlowClient(clock, 1.0, outcomes=repeat(EndpointConnectionError(endpoint_url="x")))
    # WHEN a deposit is made
    with pytest.raises(Conflict) as raised:
        Ledger(store_with(client, clock.sleep, clock)).deposit(wallet(), "5.00")
    # THEN no attempt left the machine, so none can have been applied
    assert raised.value.details == {"outcome": "not_applied"}


def test_backoff_is_cut_short_so_that_one_call_still_fits(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN backoffs far longer than the deadline leaves, and throttling forever
    monkeypatch.setattr(limits, "retry_delay_ms_base", 60_000)
    monkeypatch.setattr(limits, "retry_delay_ms_max", 60_000)
    clock = FakeClock()
    client = SlowClient(clock, 0.0, outcomes=repeat(client_error("ThrottlingException")))
    # WHEN a deposit is made within a 7 s deadline
    with request_deadline(7_000, clock), pytest.raises(Conflict) as raised:
        Ledger(store_with(client, clock.sleep, clock)).deposit(wallet(), "5.00")
    # THEN the waits together stayed within what the deadline leaves after one call
    assert raised.value.details == {"outcome": "not_applied"}
    assert clock.slept_s <= 7 - call_s_max + 1e-9
    assert len(client.started_s) >= 1


def test_store_calls_of_one_request_share_its_deadline() -> None:
    # GIVEN a request deadline of 6 s whose first read takes 2 s
    clock = FakeClock()
    client = SlowClient(clock, 2.0)
    store = store_with(client, clock.sleep, clock)
    # WHEN the request reads, then writes
    with request_deadline(6_000, clock):
        store.get(Target("account", wallet()), Account)
        with pytest.raises(Conflict) as raised:
            Ledger(store).deposit(wallet(), "5.00")
    # THEN the write found too little time left for one call, and sent nothing
    assert client.transact_calls == []
    assert raised.value.details == {"outcome": "not_applied"}


def test_a_read_throttled_until_its_deadline_is_503_not_applied() -> None:
    # GIVEN reads that are throttled forever, each taking a second
    clock = FakeClock()

    class Throttled(SlowClient):
        def get_item(self, **kwargs: Any) -> dict[str, Any]:
            super().get_item(**kwargs)
            raise client_error("ThrottlingException")

    client = Throttled(clock, 1.0)
    # WHEN an account is read
    with request_deadline(9_000, clock), pytest.raises(Conflict) as raised:
        store_with(client, clock.sleep, clock).get(Target("account", wallet()), Account)
    # THEN it ended in time; a read writes nothing
    assert raised.value.details == {"outcome": "not_applied"}
    assert 1 < len(client.get_item_calls) < limits.read_attempts_max


def test_a_listing_out_of_time_is_503_not_applied() -> None:
    # GIVEN a listing whose BatchGetItem leaves every key unprocessed, 3 s a call
    clock = FakeClock()
    ledger_id = a_ledger_id()
    keys = [{"pk": {"S": "ENTRY#x"}, "sk": {"S": "ENTRY"}}]
    never = {"Responses": {}, "UnprocessedKeys": {"ledger-unit": {"Keys": keys}}}
    row = {"pk": {"S": "ENTRY#x"}, "sk": {"S": "ENTRY"}, "gsi1pk": {"S": "p"}, "gsi1sk": {"S": "s"}}
    client = SlowClient(clock, 3.0, batch_responses=repeat(never), query_items=[row])
    # WHEN the entries are listed within 12 s
    with request_deadline(12_000, clock) as deadline, pytest.raises(Conflict) as raised:
        store_with(client, clock.sleep, clock).page(EntriesOf(ledger_id, None), 10, None, Entry)
    # THEN it made the calls that fit (at 12, 9 and 6 s left) and stopped before the deadline
    assert raised.value.details == {"outcome": "not_applied"}
    assert deadline.remaining_ms() >= 0
    assert len(client.batch_get_calls) == 3


def test_a_lost_answer_then_a_read_out_of_time_is_unknown() -> None:
    # GIVEN a lost answer, then a cancellation that needs a read, and reads that are throttled
    clock = FakeClock()

    class Throttled(SlowClient):
        def get_item(self, **kwargs: Any) -> dict[str, Any]:
            super().get_item(**kwargs)
            raise client_error("ThrottlingException")

    outcomes: list[Outcome] = [
        ReadTimeoutError(endpoint_url=endpoint_url),
        cancelled("None", "ConditionalCheckFailed", "None"),
    ]
    client = Throttled(clock, 1.0, outcomes=outcomes)
    # WHEN a deposit is made
    with pytest.raises(Conflict) as raised:
        Ledger(store_with(client, clock.sleep, clock)).deposit(wallet(), "5.00")
    # THEN the read that could not explain the cancellation does not hide the lost answer
    assert raised.value.details == {"outcome": "unknown"}


@pytest.mark.parametrize(
    ("remaining_ms", "budget_ms"),
    [
        (None, limits.api_gateway_timeout_ms - limits.deadline_margin_ms),
        (10_000, 10_000 - limits.deadline_margin_ms),
        (900_000, limits.api_gateway_timeout_ms - limits.deadline_margin_ms),
    ],
    ids=["outside-lambda", "lambda-time-left", "past-api-gateway"],
)
def test_request_budget_is_the_nearer_cut_off_less_the_margin(
    remaining_ms: int | None, budget_ms: int
) -> None:
    # GIVEN a Lambda's remaining time (or none)
    # WHEN the request's budget is derived
    # THEN it is the Lambda's time or API Gateway's 29 s, whichever is nearer, less the margin
    assert lambda_budget_ms(remaining_ms) == budget_ms


def test_the_request_deadline_holds_only_inside_its_block() -> None:
    # GIVEN a fake clock
    clock = FakeClock()
    # WHEN a request deadline of 3 s is set, and then left
    with request_deadline(3_000, clock) as inside:
        assert current_deadline(clock) is inside
        assert inside.remaining_ms() == 3_000
    outside = current_deadline(clock)
    # THEN outside it every store call gets the local bound afresh
    assert outside is not inside
    assert outside.remaining_ms() == limits.store_deadline_ms_local
