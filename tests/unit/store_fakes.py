"""A scripted stand-in for the DynamoDB client, for the store's pure unit tests."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from itertools import chain, repeat
from typing import TYPE_CHECKING, Any, cast

from botocore.exceptions import ClientError

from ledger.domain.ids import parse_account_id
from ledger.domain.model import Account, AccountStatus, AccountType, Overdraft
from ledger.domain.money import builtin_currencies
from ledger.store.dynamodb import DynamoDBStore

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_dynamodb.client import DynamoDBClient

table_name = "ledger-unit"
usd = builtin_currencies["USD"]
now = datetime(2026, 1, 1, tzinfo=UTC)
endpoint_url = "https://dynamodb.example.invalid"

Outcome = Exception | None


def client_error(code: str, reasons: list[dict[str, Any]] | None = None) -> ClientError:
    """A ClientError shaped like the one botocore raises for `code`."""
    response: Any = {"Error": {"Code": code, "Message": f"{code} (scripted)"}}
    if reasons is not None:
        response["CancellationReasons"] = reasons
    return ClientError(response, "TransactWriteItems")


def cancelled(*codes: str) -> ClientError:
    """A TransactionCanceledException with one reason code per action."""
    return client_error("TransactionCanceledException", [{"Code": code} for code in codes])


class FakeClient:
    """Answers TransactWriteItems from a script; GetItem, Query and BatchGetItem from dicts."""

    def __init__(
        self,
        outcomes: Iterable[Outcome] = (),
        items: dict[str, dict[str, Any]] | None = None,
        batch_responses: Iterable[dict[str, Any]] = (),
        query_items: list[dict[str, Any]] | None = None,
    ) -> None:
        self._outcomes: Iterator[Outcome] = chain(outcomes, repeat(None))
        self._items = items or {}
        self._batch_responses = iter(batch_responses)
        self._query_items = query_items or []
        self.transact_calls: list[dict[str, Any]] = []
        self.get_item_calls: list[dict[str, Any]] = []
        self.batch_get_calls: list[dict[str, Any]] = []

    @property
    def tokens(self) -> list[str]:
        """The ClientRequestToken of every TransactWriteItems call, in order."""
        return [call["ClientRequestToken"] for call in self.transact_calls]

    def transact_write_items(self, **kwargs: Any) -> dict[str, Any]:
        self.transact_calls.append(kwargs)
        outcome = next(self._outcomes)
        if outcome is not None:
            raise outcome
        return {}

    def get_item(self, **kwargs: Any) -> dict[str, Any]:
        self.get_item_calls.append(kwargs)
        item = self._items.get(kwargs["Key"]["pk"]["S"])
        return {} if item is None else {"Item": item}

    def query(self, **kwargs: Any) -> dict[str, Any]:
        return {"Items": self._query_items[: kwargs["Limit"]]}

    def batch_get_item(self, **kwargs: Any) -> dict[str, Any]:
        self.batch_get_calls.append(kwargs)
        return next(self._batch_responses)


class SleepRecorder:
    """Stands in for time.sleep: records each delay and never sleeps."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def store_with(
    client: FakeClient, sleep: Callable[[float], None], clock: Callable[[], float] | None = None
) -> DynamoDBStore:
    """A store on the fake client; `clock` defaults to the real monotonic clock."""
    client_ = cast("DynamoDBClient", client)
    if clock is None:
        return DynamoDBStore(table_name, client=client_, sleep=sleep)
    return DynamoDBStore(table_name, client=client_, sleep=sleep, clock=clock)


def account_record(account_id: str, **changes: Any) -> Account:
    """A stored customer wallet (a liability) as DynamoDB would hold it."""
    account = Account(
        id=account_id,
        ledger_id=parse_account_id(account_id).ledger_id,
        name="wallet",
        type=AccountType.LIABILITY,
        currency=usd,
        status=AccountStatus.ACTIVE,
        overdraft=Overdraft(),
        created_at=now,
        updated_at=now,
        request_hash="0" * 64,
    )
    return replace(account, **changes)
