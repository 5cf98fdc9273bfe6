"""Races on DynamoDB Local, which (unlike moto) applies conditional transactions atomically.

Every race is bounded: a thread pool whose calls must all finish before a deadline. A call
that outlasts the store's retries ends in `Conflict` and must have written nothing, so the
balances are checked against the successful calls alone.
"""

from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from functools import partial
from typing import TYPE_CHECKING, TypeVar

import boto3
import pytest
from botocore.config import Config

from ledger.domain.errors import Conflict, InsufficientFunds, LedgerError
from ledger.domain.ids import shard_of, world_account_id
from ledger.domain.model import Account, Entry, EntryKind, LedgerRecord, Side
from ledger.domain.money import builtin_currencies
from ledger.local.dynamodb_local import credentials_dummy, region
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from ledger.local.dynamodb_local import DynamoDBLocal

T = TypeVar("T")

usd = builtin_currencies["USD"]
# Generous for 2 busy shared cores; an idle machine finishes each race in a few seconds.
race_deadline_s = 60.0
barrier_wait_s = 30.0
threads_max = 20
observer_pause_s = 0.02
ring_threads = 4
ring_transfers_per_thread = 12


@pytest.fixture(scope="module")
def pooled_client(dynamodb_local: DynamoDBLocal) -> DynamoDBClient:
    """A client whose connection pool fits every racing thread (boto3 clients are thread-safe)."""
    return boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_local.endpoint_url,
        region_name=region,
        aws_access_key_id=credentials_dummy,
        aws_secret_access_key=credentials_dummy,
        config=Config(
            max_pool_connections=threads_max + 4,
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 2, "mode": "standard"},
        ),
    )


@pytest.fixture
def ledger(pooled_client: DynamoDBClient, local_table: str) -> Ledger:
    # No stream consumers run here: reconciliation checks the journal only.
    return Ledger(DynamoDBStore(local_table, client=pooled_client, projections=()))


@pytest.fixture
def book(ledger: Ledger) -> LedgerRecord:
    return ledger.create_ledger("Race track")


def race(calls: list[Callable[[], T]], threads: int) -> list[T]:
    """Run every call on a pool; fail the test unless all finish before the deadline."""
    pool = ThreadPoolExecutor(max_workers=threads)
    try:
        futures = [pool.submit(call) for call in calls]
        _, not_done = wait(futures, timeout=race_deadline_s)
        assert not not_done, f"{len(not_done)} calls still running after {race_deadline_s}s"
        return [future.result() for future in futures]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def outcome_of(call: Callable[[], Entry]) -> Callable[[], Entry | str]:
    """The entry a call returns, or the code of the domain error it raises."""

    def run() -> Entry | str:
        try:
            return call()
        except LedgerError as error:
            return error.code

    return run


def all_pages(fetch: Callable[[str | None], tuple[list[T], str | None]]) -> list[T]:
    items: list[T] = []
    cursor: str | None = None
    for _ in range(1000):
        page, cursor = fetch(cursor)
        items += page
        if cursor is None:
            return items
    raise AssertionError("listing did not end")


def all_entries(ledger: Ledger, ledger_id: str) -> list[Entry]:
    def fetch(cursor: str | None) -> tuple[list[Entry], str | None]:
        page = ledger.list_entries(ledger_id, limit=100, cursor=cursor)
        return page.items, page.next_cursor

    return all_pages(fetch)


def all_accounts(ledger: Ledger, ledger_id: str) -> list[Account]:
    def fetch(cursor: str | None) -> tuple[list[Account], str | None]:
        page = ledger.list_accounts(ledger_id, limit=100, cursor=cursor)
        return page.items, page.next_cursor

    return all_pages(fetch)


def imbalance(accounts: list[Account]) -> dict[str, int]:
    """Per currency, posted debits minus posted credits over all accounts: 0 when conserved."""
    totals: dict[str, int] = defaultdict(int)
    for account in accounts:
        totals[account.currency.code] += account.totals.posted_debits
        totals[account.currency.code] -= account.totals.posted_credits
    return dict(totals)


def tally(outcomes: list[Entry | str]) -> Counter[str]:
    return Counter("ok" if isinstance(outcome, Entry) else outcome for outcome in outcomes)


def test_racing_spends_never_overdraw(ledger: Ledger, book: LedgerRecord) -> None:
    # GIVEN a wallet holding 50.00
    alice = ledger.create_account(book.id, "Alice", "liability", "USD")
    ledger.deposit(alice.id, "50.00")
    assert imbalance(all_accounts(ledger, book.id)) == {"USD": 0}

    # WHEN 20 threads race 200 spends of 1.00
    spends = [outcome_of(lambda: ledger.spend(alice.id, "1.00")) for _ in range(200)]
    counts = tally(race(spends, threads=20))

    # THEN each spend either succeeded, found no funds, or gave up on contention
    assert set(counts) <= {"ok", "insufficient_funds", "conflict"}
    successes, conflicts = counts["ok"], counts["conflict"]
    assert successes + counts["insufficient_funds"] + conflicts == 200
    # AND exactly the funds were spent (only a spend that gave up can leave money behind)
    assert successes <= 50
    assert successes == 50 or conflicts > 0
    balance = ledger.get_balance(alice.id)
    assert balance.available == balance.posted == 5000 - 100 * successes
    assert balance.total_out == 100 * successes
    assert balance.version == 1 + successes
    # AND nothing else was written, and money was conserved across the ledger
    entries = all_entries(ledger, book.id)
    assert Counter(entry.kind for entry in entries) == {
        EntryKind.DEPOSIT: 1,
        EntryKind.SPEND: successes,
    }
    assert imbalance(all_accounts(ledger, book.id)) == {"USD": 0}
    assert ledger.get_balance(world_account_id(book.id, usd)).posted == -5000 + 100 * successes


def test_one_idempotency_key_posts_once(ledger: Ledger, book: LedgerRecord) -> None:
    # GIVEN 10 threads holding the same deposit with the same idempotency key
    alice = ledger.create_account(book.id, "Alice", "liability", "USD")
    start = threading.Barrier(10, timeout=barrier_wait_s)

    def deposit() -> Entry | str:
        start.wait()
        return outcome_of(lambda: ledger.deposit(alice.id, "7.00", idempotency_key="once"))()

    # WHEN they all send it at once
    outcomes = race([deposit] * 10, threads=10)

    # THEN everyone who got an answer got the same entry, and exactly one posted it
    entries = [outcome for outcome in outcomes if isinstance(outcome, Entry)]
    conflicts = [outcome for outcome in outcomes if outcome == "conflict"]
    assert len(entries) + len(conflicts) == 10
    assert len({entry.id for entry in entries}) == 1
    assert [entry.replayed for entry in entries].count(False) == 1
    assert len({(entry.lines, entry.created_at, entry.request_hash) for entry in entries}) == 1
    # AND the ledger holds one entry and the money moved once
    assert [entry.id for entry in all_entries(ledger, book.id)] == [entries[0].id]
    balance = ledger.get_balance(alice.id)
    assert (balance.available, balance.version) == (700, 1)


def test_transfer_ring_keeps_every_invariant(ledger: Ledger, book: LedgerRecord) -> None:
    # GIVEN a ring of wallets A -> B -> C -> A, each holding 20.00
    ring = [ledger.create_account(book.id, name, "liability", "USD") for name in "ABC"]
    for account in ring:
        ledger.deposit(account.id, "20.00")
    ring_ids = [account.id for account in ring]

    # AND an observer that keeps reading balances while the race runs
    stop = threading.Event()
    observed: list[int] = []

    def observe() -> None:
        for _ in range(2000):
            observed.extend(ledger.get_balance(account_id).available for account_id in ring_ids)
            if stop.wait(observer_pause_s):
                return

    observer = threading.Thread(target=observe, daemon=True)
    observer.start()

    # WHEN 4 threads make 12 transfers each, of random sizes along random edges of the ring
    sent: list[tuple[str, int]] = []
    sent_lock = threading.Lock()

    def transfers(seed: int) -> Counter[str]:
        generator = random.Random(seed)
        counts: Counter[str] = Counter()
        for _ in range(ring_transfers_per_thread):
            source = generator.randrange(3)
            target = (source + 1) % 3
            cents = generator.randint(1, 1500)
            amount = f"{cents // 100}.{cents % 100:02d}"
            try:
                entry = ledger.transfer(ring_ids[source], ring_ids[target], amount)
            except InsufficientFunds:
                counts["insufficient_funds"] += 1
            except Conflict:
                counts["conflict"] += 1
            else:
                counts["ok"] += 1
                with sent_lock:
                    sent.append((entry.id, cents))
        return counts

    seeds = [random.randrange(2**32) for _ in range(ring_threads)]
    try:
        counts = sum(race([partial(transfers, seed) for seed in seeds], ring_threads), Counter())
    finally:
        stop.set()
        observer.join(timeout=race_deadline_s)

    # THEN every transfer is accounted for, and both outcomes really happened
    assert (
        counts["ok"] + counts["insufficient_funds"] + counts["conflict"]
        == len(seeds) * ring_transfers_per_thread
    )
    assert counts["ok"] > 0
    assert counts["insufficient_funds"] > 0, seeds
    # AND no balance was ever seen below zero, nor is one now
    assert observed
    assert min(observed) >= 0
    balances = [ledger.get_balance(account_id) for account_id in ring_ids]
    assert all(balance.posted >= 0 and balance.available >= 0 for balance in balances)
    # AND the ring holds exactly what was deposited, and the ledger balances
    assert sum(balance.posted for balance in balances) == 3 * 2000
    accounts = all_accounts(ledger, book.id)
    assert imbalance(accounts) == {"USD": 0}
    # AND the journal holds exactly the successful transfers
    entries = all_entries(ledger, book.id)
    transfers_listed = {
        entry.id: entry.lines[0].amount for entry in entries if entry.kind is EntryKind.TRANSFER
    }
    assert transfers_listed == dict(sent)
    # AND each account's totals equal the sum of its lines in the journal
    from_lines: dict[str, Counter[Side]] = defaultdict(Counter)
    touches: Counter[str] = Counter()
    for entry in entries:
        for line in entry.lines:
            from_lines[line.account_id][line.side] += line.amount
            touches[line.account_id] += 1
    assert len(accounts) == 4
    for account in accounts:
        assert from_lines[account.id][Side.DEBIT] == account.totals.posted_debits
        assert from_lines[account.id][Side.CREDIT] == account.totals.posted_credits
        assert touches[account.id] == account.version


# Races into sharded accounts: a hot revenue account and a hot `world` take concurrent
# entries on their shards, and every amount is counted exactly once.
sharded_race_threads = 16
transfers_count = 200
deposits_count = 200
race_shards = 8
# Each payer starts with enough for every transfer it may make.
payers_count = sharded_race_threads
funding_cents = 10_000


def _cents(amount: int) -> str:
    return f"{amount // 100}.{amount % 100:02d}"


def _sent(call: Callable[[], Entry]) -> Callable[[], Entry | None]:
    """The entry, or None when the call gave up on contention (and, as the store reports
    it, wrote nothing or may have: it is re-sent under its key afterwards)."""

    def run() -> Entry | None:
        try:
            return call()
        except Conflict:
            return None

    return run


def test_a_sharded_revenue_account_and_world_take_a_race_exactly(
    ledger: Ledger, book: LedgerRecord
) -> None:
    # GIVEN a ledger whose world has 8 shards, 16 funded payers, wallets to deposit into,
    # and a revenue account of 8 shards
    assert book.world_shards == race_shards
    payers = [ledger.create_account(book.id, f"Payer {n}", "liability", "USD") for n in range(16)]
    for payer in payers:
        ledger.deposit(payer.id, _cents(funding_cents))
    wallets = [ledger.create_account(book.id, f"Wallet {n}", "liability", "USD") for n in range(8)]
    revenue = ledger.create_account(
        book.id, "Revenue", "revenue", "USD", overdraft="allow", shards=race_shards
    )
    # WHEN 16 threads race 200 transfers into the revenue account and 200 deposits through
    # the world, each under its own idempotency key
    transfers = {
        f"sale-{n}": partial(
            ledger.transfer,
            payers[n % payers_count].id,
            revenue.id,
            _cents(1 + n % 37),
            idempotency_key=f"sale-{n}",
        )
        for n in range(transfers_count)
    }
    deposits = {
        f"topup-{n}": partial(
            ledger.deposit,
            wallets[n % len(wallets)].id,
            _cents(100 + n % 53),
            idempotency_key=f"topup-{n}",
        )
        for n in range(deposits_count)
    }
    calls = {**transfers, **deposits}
    keys = sorted(calls, key=lambda key: (int(key.split("-")[1]), key))
    outcomes = dict(
        zip(keys, race([_sent(calls[key]) for key in keys], sharded_race_threads), strict=True)
    )
    # AND whatever gave up on contention is sent again under its key
    given_up = [key for key, entry in outcomes.items() if entry is None]
    for key in given_up:
        outcomes[key] = calls[key]()

    # THEN every call has one entry, and the ledger holds each exactly once
    entries = {key: entry for key, entry in outcomes.items() if entry is not None}
    assert len(entries) == len(calls)
    stored = all_entries(ledger, book.id)
    raced = [entry for entry in stored if entry.id in {e.id for e in entries.values()}]
    assert len(raced) == len({entry.id for entry in raced}) == len(calls)
    assert Counter(entry.kind for entry in stored) == {
        EntryKind.DEPOSIT: payers_count + deposits_count,
        EntryKind.TRANSFER: transfers_count,
    }
    # AND the revenue account holds every sale once, spread over several of its shards
    sold = sum(1 + n % 37 for n in range(transfers_count))
    revenue_now = ledger.get_account(revenue.id)
    assert revenue_now.balance().posted == sold
    assert revenue_now.version == transfers_count
    assert len({shard_of(entries[key].id, race_shards) for key in transfers}) > 1
    # AND each payer paid exactly its sales, each wallet got exactly its deposits
    for index, payer in enumerate(payers):
        paid = sum(1 + n % 37 for n in range(index, transfers_count, payers_count))
        assert ledger.get_balance(payer.id).posted == funding_cents - paid
    for index, wallet in enumerate(wallets):
        got = sum(100 + n % 53 for n in range(index, deposits_count, len(wallets)))
        assert ledger.get_balance(wallet.id).posted == got
    # AND the world gave out every deposit once, over several of its shards
    deposited = funding_cents * payers_count + sum(100 + n % 53 for n in range(deposits_count))
    world = ledger.get_account(world_account_id(book.id, usd))
    assert world.balance().posted == -deposited
    assert world.version == payers_count + deposits_count
    assert sum(1 for version in world.shard_versions if version) > 1
    # AND money is conserved, and reconciliation finds every account as its journal says
    assert imbalance(all_accounts(ledger, book.id)) == {"USD": 0}
    report = ledger.reconcile(book.id)
    assert report.ok, report.mismatches
    assert report.entries_checked == len(stored)
