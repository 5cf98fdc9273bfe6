"""Network faults around TransactWriteItems on DynamoDB Local: lost responses, lost retries,
an unreachable endpoint. A write whose outcome is unknown is retried with the same
ClientRequestToken and the same entry id, so it lands exactly once whichever path answers."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from ledger.domain import limits
from ledger.domain.errors import Conflict
from ledger.domain.model import (
    Account,
    AccountStatus,
    Entry,
    EntryKind,
    EntryStatus,
    LedgerRecord,
    Overdraft,
    OverdraftMode,
)
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore, ensure_table

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mypy_boto3_dynamodb import DynamoDBClient

NetworkError = Callable[[str], Exception]


def read_timeout(endpoint_url: str) -> Exception:
    return ReadTimeoutError(endpoint_url=endpoint_url)


class FlakyNetwork:
    """A DynamoDB client whose TransactWriteItems misbehaves; every other call passes through.

    - `lose_responses`: that many calls reach DynamoDB, then their response is lost (read timeout);
    - `fail_before_sending`: every call fails with this network error and never reaches DynamoDB;
    - `forget_tokens`: each call gets a fresh ClientRequestToken, as if DynamoDB had forgotten
      the first one (tokens are remembered for 10 minutes), to force the cancellation path.
    """

    def __init__(
        self,
        real: DynamoDBClient,
        *,
        lose_responses: int = 0,
        fail_before_sending: NetworkError | None = None,
        forget_tokens: bool = False,
    ) -> None:
        self.real = real
        self.lose_responses = lose_responses
        self.fail_before_sending = fail_before_sending
        self.forget_tokens = forget_tokens
        self.tokens: list[str] = []
        self.answers: list[str] = []

    def transact_write_items(self, **kwargs: Any) -> Any:
        self.tokens.append(kwargs["ClientRequestToken"])
        endpoint_url = self.real.meta.endpoint_url
        if self.fail_before_sending is not None:
            raise self.fail_before_sending(endpoint_url)
        if self.forget_tokens:
            kwargs = {**kwargs, "ClientRequestToken": str(uuid.uuid4())}
        try:
            response = self.real.transact_write_items(**kwargs)
        except ClientError as error:
            self.answers.append(error.response["Error"]["Code"])
            raise
        self.answers.append("ok")
        if self.lose_responses > 0:
            self.lose_responses -= 1
            raise ReadTimeoutError(endpoint_url=endpoint_url)
        return response

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


class SleepRecorder:
    """Stands in for time.sleep so the retries cost no wall time."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


@dataclass(frozen=True)
class Scene:
    """A wallet holding exactly 10.00, and a ledger on a healthy network to inspect it."""

    client: DynamoDBClient
    table_name: str
    ledger: Ledger
    book: LedgerRecord
    alice: Account

    def over(self, network: FlakyNetwork, sleep: SleepRecorder) -> Ledger:
        """The same ledger seen through a flaky network."""
        client = cast("DynamoDBClient", network)
        return Ledger(DynamoDBStore(self.table_name, client=client, sleep=sleep))

    def spends(self) -> list[Entry]:
        """The spends in the ledger (one page holds them all)."""
        page = self.ledger.list_entries(self.book.id, limit=100)
        assert page.next_cursor is None
        return [entry for entry in page.items if entry.kind is EntryKind.SPEND]


@pytest.fixture(scope="module")
def table_name(dynamodb_client: DynamoDBClient) -> Iterator[str]:
    """One table for the module: every test makes its own ledger, and all reads are per ledger."""
    name = f"ledger-test-{secrets.token_hex(6)}"
    ensure_table(dynamodb_client, name)
    yield name
    dynamodb_client.delete_table(TableName=name)


@pytest.fixture
def scene(dynamodb_client: DynamoDBClient, table_name: str) -> Scene:
    ledger = Ledger(DynamoDBStore(table_name, client=dynamodb_client))
    book = ledger.create_ledger("Faults")
    alice = ledger.create_account(book.id, "Alice", "liability", "USD")
    ledger.deposit(alice.id, "10.00")
    return Scene(dynamodb_client, table_name, ledger, book, alice)


key_or_none = pytest.mark.parametrize(
    "idempotency_key", ["spend-1", None], ids=["with-key", "without-key"]
)


@key_or_none
@pytest.mark.parametrize("lost", [1, 2], ids=["response-lost", "retry-lost-too"])
def test_lost_response_lands_once(scene: Scene, idempotency_key: str | None, lost: int) -> None:
    # GIVEN a network that loses the response of the first write (and of its first retry)
    network = FlakyNetwork(scene.client, lose_responses=lost)
    sleep = SleepRecorder()
    # WHEN Alice spends her whole balance
    entry = scene.over(network, sleep).spend(
        scene.alice.id, "10.00", idempotency_key=idempotency_key
    )
    # THEN every attempt reached DynamoDB with the same token, and the last one was answered
    assert len(network.tokens) == lost + 1
    assert len(set(network.tokens)) == 1
    assert network.answers[0] == "ok"
    # AND the spend is returned once, a replay only if DynamoDB cancelled the retry of a
    # keyed request (without a key, only this call's own attempt can have written it)
    token_honoured = network.answers[-1] == "ok"
    assert entry.replayed is (not token_honoured and idempotency_key is not None)
    # AND exactly one entry exists and the balance moved once
    assert [spend.id for spend in scene.spends()] == [entry.id]
    balance = scene.ledger.get_balance(scene.alice.id)
    assert (balance.available, balance.total_out, balance.version) == (0, 1000, 2)
    assert len(sleep.delays) == lost


@key_or_none
def test_retry_without_the_token_returns_the_posted_entry(
    scene: Scene, idempotency_key: str | None
) -> None:
    # GIVEN a lost response and a DynamoDB that no longer knows the first token
    network = FlakyNetwork(scene.client, lose_responses=1, forget_tokens=True)
    # WHEN Alice spends her whole balance
    entry = scene.over(network, SleepRecorder()).spend(
        scene.alice.id, "10.00", idempotency_key=idempotency_key
    )
    # THEN the retry was cancelled (the entry exists; Alice has no funds left) and the store
    # read that as the entry already posted, not as insufficient funds; it is a replay only
    # for a keyed request, since without a key only this call can have written it
    assert network.answers == ["ok", "TransactionCanceledException"]
    assert entry.replayed is (idempotency_key is not None)
    assert [spend.id for spend in scene.spends()] == [entry.id]
    assert entry.lines[0].amount == 1000
    balance = scene.ledger.get_balance(scene.alice.id)
    assert (balance.available, balance.total_out, balance.version) == (0, 1000, 2)


@pytest.mark.parametrize(
    ("network_error", "outcome"),
    [
        (lambda url: EndpointConnectionError(endpoint_url=url), "not_applied"),
        (lambda url: ConnectTimeoutError(endpoint_url=url), "not_applied"),
        (lambda url: ConnectionClosedError(endpoint_url=url), "unknown"),
        (read_timeout, "unknown"),
    ],
    ids=["endpoint-connection", "connect-timeout", "connection-closed", "read-timeout"],
)
def test_unreachable_dynamodb_is_conflict_and_writes_nothing(
    scene: Scene, network_error: NetworkError, outcome: str
) -> None:
    # GIVEN a network on which no write ever reaches DynamoDB
    network = FlakyNetwork(scene.client, fail_before_sending=network_error)
    sleep = SleepRecorder()
    # WHEN Alice spends
    with pytest.raises(Conflict) as raised:
        scene.over(network, sleep).spend(scene.alice.id, "1.00", idempotency_key="spend-2")
    # THEN 503 conflict after the bounded attempts, all with the same token; a request that
    # never connected cannot have been applied, one that was sent may have been
    assert raised.value.status == 503
    assert raised.value.details == {"outcome": outcome}
    assert len(network.tokens) == limits.transaction_attempts_max
    assert len(set(network.tokens)) == 1
    assert network.answers == []
    # AND nothing was written
    assert scene.spends() == []
    balance = scene.ledger.get_balance(scene.alice.id)
    assert (balance.available, balance.version) == (1000, 1)


@pytest.mark.parametrize("forget_tokens", [True, False], ids=["token-forgotten", "token-kept"])
def test_a_release_whose_answer_was_lost_is_that_release(scene: Scene, forget_tokens: bool) -> None:
    # GIVEN a hold of 4.00 on Alice's 10.00, and a network that loses the answer of the
    # release (and, for one case, a DynamoDB that no longer knows its token)
    hold = scene.ledger.hold(scene.alice.id, "4.00")
    network = FlakyNetwork(scene.client, lose_responses=1, forget_tokens=forget_tokens)
    # WHEN the hold is released
    released = scene.over(network, SleepRecorder()).release_hold(hold.id)
    # THEN the answer is the release that committed, never already_resolved
    assert (released.id, released.status) == (hold.id, EntryStatus.VOIDED)
    assert network.answers[0] == "ok"
    assert len(set(network.tokens)) == 1
    # AND it was applied once: the held amount is back, nothing more
    balance = scene.ledger.get_balance(scene.alice.id)
    assert (balance.available, balance.held, balance.version) == (1000, 0, 3)


def test_closing_and_a_credit_line_whose_answers_were_lost_are_those_changes(
    scene: Scene,
) -> None:
    # GIVEN an empty account, and a network that loses each change's answer, its retry
    # cancelled because DynamoDB no longer knows the token
    empty = scene.ledger.create_account(scene.book.id, "Empty", "liability", "USD")
    network = FlakyNetwork(scene.client, lose_responses=2, forget_tokens=True)
    ledger = scene.over(network, SleepRecorder())
    # WHEN the empty account is closed and Alice is given a 50.00 credit line
    closed = ledger.update_account(empty.id, status="closed")
    credited = ledger.update_account(scene.alice.id, overdraft="limit", credit_limit="50.00")
    # THEN each answers its own committed change, not account_inactive nor conflict
    assert network.answers == ["ok", "TransactionCanceledException"] * 2
    assert closed.status is AccountStatus.CLOSED
    assert credited.overdraft == Overdraft(OverdraftMode.LIMIT, 5000)
    # AND the credit line was granted once: Alice may spend her 10.00 and the 50.00
    assert scene.ledger.get_balance(scene.alice.id).spendable == 6000


def test_dynamodb_local_honours_client_request_token(
    dynamodb_client: DynamoDBClient, table_name: str
) -> None:
    # GIVEN a committed transaction that creates an item only if it is new
    key: Any = {"pk": {"S": f"PROBE#{secrets.token_hex(8)}"}, "sk": {"S": "PROBE"}}
    put: Any = {
        "Put": {
            "TableName": table_name,
            "Item": key,
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }
    token = str(uuid.uuid4())
    dynamodb_client.transact_write_items(TransactItems=[put], ClientRequestToken=token)
    # WHEN it is sent again with the same token, and then with another
    again = dynamodb_client.transact_write_items(TransactItems=[put], ClientRequestToken=token)
    with pytest.raises(ClientError) as other_token:
        dynamodb_client.transact_write_items(
            TransactItems=[put], ClientRequestToken=str(uuid.uuid4())
        )
    # THEN the same token is answered as the success it was; another token is cancelled
    assert again["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert other_token.value.response["Error"]["Code"] == "TransactionCanceledException"
    reasons = other_token.value.response.get("CancellationReasons", [])
    assert [reason.get("Code") for reason in reasons] == ["ConditionalCheckFailed"]
