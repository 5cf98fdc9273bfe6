"""Atomic batches on DynamoDB Local: one TransactWriteItems per batch with no read, one item
per entry and per account, and batches racing spends never overdraw a shared account."""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.config import Config

from ledger.domain import limits
from ledger.domain.errors import InsufficientFunds, LedgerError
from ledger.domain.ids import world_account_id
from ledger.domain.model import Account, Entry, EntryKind
from ledger.domain.money import builtin_currencies
from ledger.local.dynamodb_local import credentials_dummy, region
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from ledger.local.dynamodb_local import DynamoDBLocal

usd = builtin_currencies["USD"]
eur = builtin_currencies["EUR"]
# Generous for 2 busy shared cores; an idle machine finishes the race in about a second.
race_deadline_s = 60.0
barrier_wait_s = 30.0
race_threads = 6
turns_per_thread = 3
pages_max = 100


@pytest.fixture(scope="module")
def client(dynamodb_local: DynamoDBLocal) -> DynamoDBClient:
    """A client whose connection pool fits every racing thread (boto3 clients are thread-safe)."""
    return boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_local.endpoint_url,
        region_name=region,
        aws_access_key_id=credentials_dummy,
        aws_secret_access_key=credentials_dummy,
        config=Config(
            max_pool_connections=race_threads + 4,
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 2, "mode": "standard"},
        ),
    )


@pytest.fixture
def ledger(client: DynamoDBClient, local_table: str) -> Ledger:
    return Ledger(DynamoDBStore(local_table, client=client))


class Calls:
    """Every DynamoDB call a client makes, by operation name, and each transaction's items."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.transactions: list[list[dict[str, Any]]] = []
        self._lock = threading.Lock()

    def on_call(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.names.append(model.name)

    def on_parameters(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        if model.name == "TransactWriteItems":
            with self._lock:
                self.transactions.append(list(params["TransactItems"]))


@contextmanager
def counted(client: DynamoDBClient) -> Iterator[Calls]:
    """Record the client's calls while inside; the hooks are removed on leaving."""
    calls = Calls()
    hooks: list[tuple[str, Callable[..., None]]] = [
        ("before-call.dynamodb", calls.on_call),
        ("before-parameter-build.dynamodb", calls.on_parameters),
    ]
    for event, handler in hooks:
        client.meta.events.register(event, handler)
    try:
        yield calls
    finally:
        for event, handler in hooks:
            client.meta.events.unregister(event, handler)


def _transfer(source: Account, target: Account, amount: str) -> dict[str, Any]:
    return {
        "type": "transfer",
        "from_account_id": source.id,
        "to_account_id": target.id,
        "amount": amount,
    }


def _preset(kind: str, account: Account, amount: str) -> dict[str, Any]:
    return {"type": kind, "account_id": account.id, "amount": amount}


def _wallet(ledger: Ledger, ledger_id: str, name: str, currency: str = "USD") -> Account:
    return ledger.create_account(ledger_id, name, "liability", currency)


def _all_entries(ledger: Ledger, ledger_id: str) -> list[Entry]:
    entries: list[Entry] = []
    cursor: str | None = None
    for _ in range(pages_max):
        page = ledger.list_entries(ledger_id, limit=limits.page_size_max, cursor=cursor)
        entries += page.items
        cursor = page.next_cursor
        if cursor is None:
            return entries
    raise AssertionError("the entry listing did not end")


def _item_kinds(actions: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """(action, item kind) of each TransactWriteItems action, e.g. ("Put", "ENTRY")."""
    kinds: Counter[tuple[str, str]] = Counter()
    for action in actions:
        ((verb, body),) = action.items()
        key = body["Item"] if verb == "Put" else body["Key"]
        kinds[(verb, key["sk"]["S"])] += 1
    return kinds


def test_a_batch_is_one_transact_write_items_with_no_read(
    ledger: Ledger, client: DynamoDBClient
) -> None:
    # GIVEN Alice with 50.00, Bob, and a EUR wallet
    book = ledger.create_ledger("Batch calls").id
    alice, bob = _wallet(ledger, book, "Alice"), _wallet(ledger, book, "Bob")
    euros = _wallet(ledger, book, "Euros", "EUR")
    ledger.deposit(alice.id, "50.00")
    operations = [
        _preset("deposit", bob, "1.00"),
        _transfer(alice, bob, "5.00"),
        _preset("spend", alice, "1.00"),
        _preset("hold", alice, "2.00"),
        {
            "type": "escrow",
            "buyer_account_id": alice.id,
            "seller_account_id": bob.id,
            "amount": "3.00",
        },
        {
            "type": "conversion",
            "from_account_id": alice.id,
            "to_account_id": euros.id,
            "from_amount": "10.00",
            "to_amount": "9.00",
        },
        {
            "type": "entry",
            "lines": [
                {"account_id": bob.id, "side": "debit", "amount": "0.50"},
                {"account_id": alice.id, "side": "credit", "amount": "0.50"},
            ],
        },
    ]
    # WHEN the batch is sent
    with counted(client) as calls:
        result = ledger.batch(operations)
    # THEN it was one TransactWriteItems and nothing else
    assert calls.names == ["TransactWriteItems"]
    # AND it put every entry and updated each of the three wallets once
    (actions,) = calls.transactions
    kinds = _item_kinds(actions)
    assert kinds[("Put", "ENTRY")] == 7
    # AND each world account (of USD, of EUR) once per shard its entries moved, every item
    # updated at most once
    updated = [action["Update"]["Key"] for action in actions if "Update" in action]
    assert len({(key["pk"]["S"], key["sk"]["S"]) for key in updated}) == len(updated)
    worlds = {world_account_id(book, currency) for currency in (usd, eur)}
    owners = {key["pk"]["S"].removeprefix("ACCOUNT#").split("#")[0] for key in updated}
    assert owners == {
        alice.id,
        bob.id,
        euros.id,
        *worlds,
    }
    assert len(result.entries) == 7
    # WHEN a batch is refused on Alice's guard
    with counted(client) as calls, pytest.raises(InsufficientFunds) as caught:
        ledger.batch([_preset("deposit", bob, "1.00"), _preset("spend", alice, "100.00")])
    # THEN that too was one TransactWriteItems: the cancellation explains itself, unread
    assert calls.names == ["TransactWriteItems"]
    assert caught.value.details["operation_index"] == 1
    # AND its message gives the spend's own amount and what Alice could spend, not a total
    assert caught.value.message == (
        f"account {alice.id} cannot cover 100.00 USD in operation 1: it could spend 29.50 USD"
    )


def test_a_refusal_blames_the_operation_from_which_the_account_stays_below_its_floor(
    ledger: Ledger, client: DynamoDBClient
) -> None:
    # GIVEN Alice with 10.00 and Bob
    book = ledger.create_ledger("Batch blame").id
    alice, bob = _wallet(ledger, book, "Alice"), _wallet(ledger, book, "Bob")
    ledger.deposit(alice.id, "10.00")
    # WHEN a batch dips below her floor and recovers (15.00 out, 10.00 in), spends 7.00 and
    # then 9.00, ending 11.00 short
    operations = [
        _preset("spend", alice, "15.00"),
        _preset("deposit", alice, "10.00"),
        _preset("spend", alice, "7.00"),
        _transfer(alice, bob, "9.00"),
    ]
    with counted(client) as calls, pytest.raises(InsufficientFunds) as caught:
        ledger.batch(operations)
    # THEN the one cancelled transaction explains it from the returned item, unread
    assert calls.names == ["TransactWriteItems"]
    # AND it blames the 7.00 spend, from which she stays short to the end: the dip the
    # deposit made good broke nothing
    assert caught.value.details == {"account_id": alice.id, "operation_index": 2}
    assert caught.value.message == (
        f"account {alice.id} cannot cover 7.00 USD in operation 2: it could spend 5.00 USD"
    )
    assert ledger.get_balance(alice.id).posted == 1000


def test_ten_transfers_among_three_accounts_write_ten_entries_and_three_accounts(
    ledger: Ledger, client: DynamoDBClient
) -> None:
    # GIVEN A with 100.00, B and C
    book = ledger.create_ledger("Ten transfers").id
    a, b, c = (_wallet(ledger, book, name) for name in "ABC")
    funding = ledger.deposit(a.id, "100.00")
    transfers = [
        (a, b, "5.00"),
        (a, c, "5.00"),
        (b, c, "1.00"),
        (c, b, "1.00"),
        (b, a, "1.00"),
        (c, a, "1.00"),
        (a, b, "1.00"),
        (a, c, "1.00"),
        (b, c, "1.00"),
        (c, a, "1.00"),
    ]
    # WHEN the ten transfers go as one batch
    with counted(client) as calls:
        result = ledger.batch([_transfer(*transfer) for transfer in transfers])
    # THEN one TransactWriteItems put ten entries and updated three account items
    assert calls.names == ["TransactWriteItems"]
    (actions,) = calls.transactions
    assert _item_kinds(actions) == {("Put", "ENTRY"): 10, ("Update", "ACCOUNT"): 3}
    updated = {action["Update"]["Key"]["pk"]["S"] for action in actions if "Update" in action}
    assert updated == {f"ACCOUNT#{account.id}" for account in (a, b, c)}
    # AND the table holds those ten entries besides the funding, all transfers
    stored = _all_entries(ledger, book)
    assert {entry.id for entry in stored} == {funding.id} | {e.id for e in result.entries}
    assert Counter(entry.kind for entry in stored) == {
        EntryKind.TRANSFER: 10,
        EntryKind.DEPOSIT: 1,
    }
    # AND each account moved once, by its net: A paid 12.00 and got 3.00,
    # B got 7.00 and paid 3.00, C got 8.00 and paid 3.00
    balances = [ledger.get_balance(account.id) for account in (a, b, c)]
    assert [(balance.posted, balance.version) for balance in balances] == [
        (9100, 2),
        (400, 1),
        (500, 1),
    ]


def _outcome(call: Callable[[], object]) -> str:
    """ "ok", or the code of the domain error the call raised."""
    try:
        call()
    except LedgerError as error:
        return error.code
    return "ok"


def test_batches_racing_spends_never_overdraw_a_shared_account(ledger: Ledger) -> None:
    # GIVEN a pot that may not overdraw, holding 50.00, and a sink
    book = ledger.create_ledger("Batch race").id
    pot, sink = _wallet(ledger, book, "Pot"), _wallet(ledger, book, "Sink")
    ledger.deposit(pot.id, "50.00")
    # Each batch takes 5.00 out of the pot (a spend and a transfer) and pays the sink 1.00
    # more; each spend takes 4.00. Together they ask for 81.00, more than the pot holds.
    batch = [
        _preset("spend", pot, "3.00"),
        _transfer(pot, sink, "2.00"),
        _preset("deposit", sink, "1.00"),
    ]
    start = threading.Barrier(race_threads, timeout=barrier_wait_s)

    def racer(sends_batches: bool) -> list[tuple[str, str]]:
        start.wait()
        outcomes = []
        for _ in range(turns_per_thread):
            if sends_batches:
                outcomes.append(("batch", _outcome(lambda: ledger.batch(batch))))
            else:
                outcomes.append(("spend", _outcome(lambda: ledger.spend(pot.id, "4.00"))))
        return outcomes

    # WHEN half the threads send batches and half send spends, all at once
    pool = ThreadPoolExecutor(max_workers=race_threads)
    try:
        futures = [pool.submit(racer, index % 2 == 0) for index in range(race_threads)]
        _, not_done = wait(futures, timeout=race_deadline_s)
        assert not not_done, f"{len(not_done)} racers still running after {race_deadline_s}s"
        outcomes = Counter(outcome for future in futures for outcome in future.result())
    finally:
        pool.shutdown(wait=False, cancel_futures=True)

    # THEN every call either went through or was refused for funds (or gave up on contention)
    assert {code for _, code in outcomes} <= {"ok", "insufficient_funds", "conflict"}, outcomes
    assert outcomes.total() == race_threads * turns_per_thread
    batches_ok, spends_ok = outcomes[("batch", "ok")], outcomes[("spend", "ok")]
    assert outcomes[("batch", "insufficient_funds")] + outcomes[("spend", "insufficient_funds")] > 0
    # AND the pot only ever lost money, so ending at or above zero means it never went below;
    # it lost exactly what the successful calls took
    final = ledger.get_balance(pot.id)
    assert final.posted >= 0
    assert final.posted == 5000 - 500 * batches_ok - 400 * spends_ok
    # AND a refusal came only when the pot could no longer cover that call
    if outcomes[("batch", "insufficient_funds")]:
        assert final.posted < 500
    if outcomes[("spend", "insufficient_funds")]:
        assert final.posted < 400
    # AND the journal holds three entries per successful batch and one per spend
    stored = _all_entries(ledger, book)
    kinds = Counter(entry.kind for entry in stored)
    assert kinds[EntryKind.TRANSFER] == batches_ok
    assert kinds[EntryKind.SPEND] == batches_ok + spends_ok
    assert kinds[EntryKind.DEPOSIT] == 1 + batches_ok
    assert ledger.get_balance(sink.id).posted == 300 * batches_ok
    # AND the books balance: the pot, the sink and the world sum to zero
    world = ledger.get_account(world_account_id(book, usd))
    posted: dict[str, int] = defaultdict(int)
    for account in (ledger.get_account(pot.id), ledger.get_account(sink.id), world):
        posted["USD"] += account.totals.posted_debits - account.totals.posted_credits
    assert posted == {"USD": 0}


def test_one_keyed_batch_sent_by_many_threads_at_once_is_written_once(ledger: Ledger) -> None:
    # GIVEN Alice with 10.00 and Bob, and one batch with its idempotency key
    book = ledger.create_ledger("Replay race").id
    alice, bob = _wallet(ledger, book, "Alice"), _wallet(ledger, book, "Bob")
    ledger.deposit(alice.id, "10.00")
    batch = [_transfer(alice, bob, "6.00"), _preset("spend", bob, "1.00")]
    start = threading.Barrier(race_threads, timeout=barrier_wait_s)

    def send() -> tuple[bool, tuple[str, ...]] | str:
        start.wait()
        try:
            result = ledger.batch(batch, idempotency_key="payout-1")
        except LedgerError as error:
            return error.code
        return result.replayed, tuple(entry.id for entry in result.entries)

    # WHEN every thread sends it at the same moment
    pool = ThreadPoolExecutor(max_workers=race_threads)
    try:
        futures = [pool.submit(send) for _ in range(race_threads)]
        _, not_done = wait(futures, timeout=race_deadline_s)
        assert not not_done, f"{len(not_done)} senders still running after {race_deadline_s}s"
        outcomes = [future.result() for future in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)

    # THEN one call wrote it; every other one replayed the same entries (or gave up on
    # contention, having written nothing)
    answers = [outcome for outcome in outcomes if not isinstance(outcome, str)]
    assert {outcome for outcome in outcomes if isinstance(outcome, str)} <= {"conflict"}
    assert [replayed for replayed, _ in answers].count(False) == 1, outcomes
    assert len({ids for _, ids in answers}) == 1
    # AND the money moved once
    assert ledger.get_balance(alice.id).posted == 400
    assert ledger.get_balance(bob.id).posted == 500
    assert len(_all_entries(ledger, book)) == 3
