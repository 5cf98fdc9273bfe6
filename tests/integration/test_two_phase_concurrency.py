"""Two-phase entries under races on DynamoDB Local: one resolution per pending entry, holds
never overdraw, and the expiry sweeper shares the exactly-once rule with posts.

Every race is bounded: a pool whose calls must all finish before a deadline, loops with a
fixed number of turns, barriers with timeouts. A call that outlasts the store's retries
ends in `Conflict` and must have written nothing, so every count is checked against the
journal the race leaves behind rather than against what the callers believe.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, TypeVar

import boto3
import pytest
from botocore.config import Config

from ledger.domain.errors import Conflict, LedgerError
from ledger.domain.ids import derived_entry_id, world_account_id
from ledger.domain.model import Account, Entry, EntryKind, EntryStatus, LedgerRecord
from ledger.domain.money import builtin_currencies
from ledger.local.dynamodb_local import credentials_dummy, region
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from ledger.local.dynamodb_local import DynamoDBLocal

T = TypeVar("T")

usd = builtin_currencies["USD"]
# Generous for 2 busy shared cores; an idle machine finishes each race in about a second.
race_deadline_s = 60.0
barrier_wait_s = 30.0
threads_max = 20
resolve_threads = 10
resolve_rounds = 3
spend_threads = 6
spend_turns_per_thread = 12
sweeper_threads = 2
sweeps_per_thread_max = 25
sweep_pause_s = 0.01
post_delay_s_max = 0.4
post_attempts_max = 3
observer_reads_max = 2000
observer_pause_s = 0.01


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
def store(pooled_client: DynamoDBClient, local_table: str) -> DynamoDBStore:
    return DynamoDBStore(local_table, client=pooled_client)


@pytest.fixture
def ledger(store: DynamoDBStore) -> Ledger:
    return Ledger(store)


@pytest.fixture
def book(ledger: Ledger) -> LedgerRecord:
    return ledger.create_ledger("Two-phase race track")


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


def outcome_of(call: Callable[[], Entry]) -> Entry | str:
    """The entry a call returns, or the code of the domain error it raises."""
    try:
        return call()
    except LedgerError as error:
        return error.code


def all_entries(ledger: Ledger, ledger_id: str) -> list[Entry]:
    entries: list[Entry] = []
    cursor: str | None = None
    for _ in range(1000):
        page = ledger.list_entries(ledger_id, limit=100, cursor=cursor)
        entries += page.items
        cursor = page.next_cursor
        if cursor is None:
            return entries
    raise AssertionError("listing did not end")


def all_accounts(ledger: Ledger, ledger_id: str) -> list[Account]:
    accounts: list[Account] = []
    cursor: str | None = None
    for _ in range(1000):
        page = ledger.list_accounts(ledger_id, limit=100, cursor=cursor)
        accounts += page.items
        cursor = page.next_cursor
        if cursor is None:
            return accounts
    raise AssertionError("listing did not end")


def assert_books_balance(accounts: list[Account]) -> None:
    """Per currency, debits equal credits, for posted and for pending totals alike."""
    posted: dict[str, int] = defaultdict(int)
    pending: dict[str, int] = defaultdict(int)
    for account in accounts:
        totals = account.totals
        posted[account.currency.code] += totals.posted_debits - totals.posted_credits
        pending[account.currency.code] += totals.pending_debits - totals.pending_credits
    assert all(value == 0 for value in posted.values()), posted
    assert all(value == 0 for value in pending.values()), pending


class SettableClock:
    """A clock the test sets; every thread of a ledger reads the same instant."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


# 1. Post against void


def resolve_race(ledger: Ledger, entry_id: str, posts: list[str | None]) -> list[Entry | str]:
    """Threads released together: one posts with each of `posts` (None = in full), the
    others void."""
    start = threading.Barrier(resolve_threads, timeout=barrier_wait_s)

    def post(amount: str | None) -> Entry | str:
        start.wait()
        return outcome_of(lambda: ledger.post_entry(entry_id, amount))

    def void() -> Entry | str:
        start.wait()
        return outcome_of(lambda: ledger.void_entry(entry_id))

    calls: list[Callable[[], Entry | str]] = [partial(post, amount) for amount in posts]
    calls += [void] * (resolve_threads - len(posts))
    random.shuffle(calls)
    return race(calls, resolve_threads)


@pytest.mark.parametrize(
    "posts",
    [[None] * 5, ["1.00", "2.00", "3.00", "4.00", "5.00"], [None] * 9, [None]],
    ids=["same-posts", "different-posts", "nine-posts-one-void", "one-post-nine-voids"],
)
def test_post_racing_void_resolves_exactly_once(
    ledger: Ledger, book: LedgerRecord, posts: list[str | None]
) -> None:
    # GIVEN a payer with 100.00 and a payee
    payer = ledger.create_account(book.id, "Payer", "liability", "USD")
    payee = ledger.create_account(book.id, "Payee", "liability", "USD")
    ledger.deposit(payer.id, "100.00")
    posted_total = 0
    winners: Counter[str] = Counter()
    for round_number in range(resolve_rounds):
        # AND a pending hold of 10.00 from payer to payee (an escrow every other round)
        if round_number % 2 == 0:
            pending = ledger.hold(payer.id, "10.00", counterparty_account_id=payee.id)
        else:
            pending = ledger.escrow(payer.id, payee.id, "10.00")

        # WHEN 10 threads post it and void it at once
        outcomes = resolve_race(ledger, pending.id, posts)

        # THEN exactly one call resolved it; the rest were told so, or replayed its post
        fresh = [o for o in outcomes if isinstance(o, Entry) and not o.replayed]
        replays = [o for o in outcomes if isinstance(o, Entry) and o.replayed]
        refusals = Counter(o for o in outcomes if isinstance(o, str))
        assert len(fresh) == 1, outcomes
        assert set(refusals) <= {"already_resolved", "conflict"}, refusals
        assert len(fresh) + len(replays) + refusals.total() == resolve_threads
        winner = fresh[0]
        winners[winner.status] += 1
        stored = ledger.get_entry(pending.id)
        assert stored.status is winner.status
        # AND a replay only ever answers an identical post that won
        posting_id = derived_entry_id(pending.id, "posting")
        if winner.status is EntryStatus.POSTED:
            assert (winner.posting_entry_id, stored.posting_entry_id) == (posting_id, posting_id)
            posting = ledger.get_entry(posting_id)
            assert (posting.kind, posting.pending_id) == (EntryKind.POST, pending.id)
            amount = posting.lines[0].amount
            assert 0 < amount <= 1000
            if len(set(posts)) == 1:
                assert amount == 1000
            assert all(replay.posting_entry_id == posting_id for replay in replays)
            if len(set(posts)) > 1:
                assert not replays
            posted_total += amount
        else:
            assert winner.status is EntryStatus.VOIDED
            assert stored.posting_entry_id is None
            assert not replays

        # AND the balances show the posting or the release, never both; nothing stays pending
        for account_id, sign in ((payer.id, -1), (payee.id, 1)):
            balance = ledger.get_balance(account_id)
            assert balance.posted == (10000 if sign < 0 else 0) + sign * posted_total
            assert (balance.pending_in, balance.pending_out) == (0, 0)
            assert (balance.held, balance.escrowed) == (0, 0)

    # AND the journal holds one posting entry per posting that won, and the books balance
    entries = all_entries(ledger, book.id)
    kinds = Counter(entry.kind for entry in entries)
    assert kinds[EntryKind.POST] == winners[EntryStatus.POSTED]
    assert sum(e.lines[0].amount for e in entries if e.kind is EntryKind.POST) == posted_total
    assert not [entry for entry in entries if entry.status is EntryStatus.PENDING]
    assert_books_balance(all_accounts(ledger, book.id))


# 2. Holds against spends


def test_holds_racing_spends_never_overdraw(ledger: Ledger, book: LedgerRecord) -> None:
    # GIVEN a wallet that may not overdraw, holding 60.00
    wallet = ledger.create_account(book.id, "Wallet", "liability", "USD")
    ledger.deposit(wallet.id, "60.00")
    world_id = world_account_id(book.id, usd)

    # AND an observer that keeps reading the wallet's balance while the race runs
    stop = threading.Event()
    observed: list[tuple[int, int, int]] = []

    def observe() -> None:
        for _ in range(observer_reads_max):
            balance = ledger.get_balance(wallet.id)
            observed.append((balance.spendable, balance.credit_used, balance.available))
            if stop.wait(observer_pause_s):
                return

    observer = threading.Thread(target=observe, daemon=True)
    observer.start()

    # WHEN threads hold, spend, confirm (fully or in part) and release at random
    open_holds: list[Entry] = []
    open_lock = threading.Lock()

    def take_hold(generator: random.Random) -> Entry | None:
        with open_lock:
            if not open_holds:
                return None
            return open_holds.pop(generator.randrange(len(open_holds)))

    def turns(seed: int) -> Counter[str]:
        generator = random.Random(seed)
        counts: Counter[str] = Counter()
        for _ in range(spend_turns_per_thread):
            action = generator.choice(["hold", "hold", "spend", "spend", "confirm", "release"])
            amount = f"{generator.randint(0, 4)}.{generator.randint(50, 99):02d}"
            if action in ("confirm", "release"):
                hold = take_hold(generator)
                if hold is None:
                    continue
                if action == "release":
                    outcome = outcome_of(partial(ledger.release_hold, hold.id))
                else:
                    part = generator.choice([None, "0.50"])
                    outcome = outcome_of(partial(ledger.confirm_hold, hold.id, part))
                if outcome == "conflict":
                    # Nothing was written: the hold is still open for another turn.
                    with open_lock:
                        open_holds.append(hold)
            elif action == "hold":
                outcome = outcome_of(partial(ledger.hold, wallet.id, amount))
                if isinstance(outcome, Entry):
                    with open_lock:
                        open_holds.append(outcome)
            else:
                outcome = outcome_of(partial(ledger.spend, wallet.id, amount))
            counts[f"{action}:{outcome if isinstance(outcome, str) else 'ok'}"] += 1
        return counts

    seeds = [random.randrange(2**32) for _ in range(spend_threads)]
    try:
        counts = sum(race([partial(turns, seed) for seed in seeds], spend_threads), Counter())
    finally:
        stop.set()
        observer.join(timeout=race_deadline_s)

    # THEN calls either succeeded, found no funds, or gave up on contention
    allowed = {"ok", "insufficient_funds", "conflict"}
    assert {key.split(":")[1] for key in counts} <= allowed, counts
    assert counts["hold:ok"] > 0, (counts, seeds)
    assert counts["spend:ok"] + counts["confirm:ok"] > 0, (counts, seeds)
    # AND the wallet was never seen overdrawn, nor is it now
    assert observed
    assert min(spendable for spendable, _, _ in observed) >= 0
    assert max(credit_used for _, credit_used, _ in observed) == 0
    balance = ledger.get_balance(wallet.id)
    assert balance.spendable >= 0
    assert balance.available == balance.posted - balance.pending_out >= 0
    # AND what is held is exactly the holds still open in the journal
    entries = all_entries(ledger, book.id)
    still_open = {e.id: e.lines[0].amount for e in entries if e.status is EntryStatus.PENDING}
    assert {e.kind for e in entries if e.id in still_open} <= {EntryKind.HOLD}
    assert still_open == {hold.id: hold.lines[0].amount for hold in open_holds}
    assert balance.held == balance.pending_out == sum(still_open.values())
    assert balance.escrowed == balance.pending_in == 0
    # AND what left the wallet is exactly the spends and the postings of confirmed holds
    spent = sum(e.lines[0].amount for e in entries if e.kind is EntryKind.SPEND)
    confirmed = sum(e.lines[0].amount for e in entries if e.kind is EntryKind.POST)
    assert Counter(e.kind for e in entries)[EntryKind.SPEND] == counts["spend:ok"]
    assert Counter(e.kind for e in entries)[EntryKind.POST] == counts["confirm:ok"]
    assert Counter(e.kind for e in entries)[EntryKind.HOLD] == counts["hold:ok"]
    assert balance.total_out == spent + confirmed
    assert balance.posted == 6000 - spent - confirmed
    # AND every account's totals agree with the books, which balance
    accounts = all_accounts(ledger, book.id)
    assert {account.id for account in accounts} == {wallet.id, world_id}
    assert_books_balance(accounts)


# 3. The expiry sweeper against posts


def test_sweeper_racing_posts_resolves_each_entry_once(
    store: DynamoDBStore, book: LedgerRecord
) -> None:
    # GIVEN holds created at t0 that expire 1 to 8 seconds later, two of each
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    creator = Ledger(store, clock=SettableClock(t0))
    payer = creator.create_account(book.id, "Payer", "liability", "USD")
    payee = creator.create_account(book.id, "Payee", "liability", "USD")
    creator.deposit(payer.id, "100.00")
    holds = [
        creator.hold(payer.id, "1.00", counterparty_account_id=payee.id, expires_in=seconds)
        for seconds in range(1, 9)
        for _ in range(2)
    ]
    # AND posters whose clock reads t0 + 4.5 s while the sweeper's runs 2 s ahead (skew
    # between two hosts): holds expiring at 5 and 6 s are open to both, 1-4 s to the sweeper
    # only, 7-8 s to posts only
    poster = Ledger(store, clock=SettableClock(t0 + timedelta(seconds=4.5)))
    sweeper = Ledger(store, clock=SettableClock(t0 + timedelta(seconds=6.5)))
    start = threading.Barrier(len(holds) + sweeper_threads, timeout=barrier_wait_s)
    posts_done = threading.Event()

    def post(hold: Entry, delay_s: float) -> Entry | str:
        start.wait()
        # Spread the posts over about one sweep, so either side may come first.
        time.sleep(delay_s)
        outcome = outcome_of(lambda: poster.confirm_hold(hold.id))
        for _ in range(post_attempts_max - 1):
            # A post that gave up on contention wrote nothing: the client tries again.
            if outcome != "conflict":
                break
            outcome = outcome_of(lambda: poster.confirm_hold(hold.id))
        return outcome

    def sweep() -> list[int | str]:
        start.wait()
        swept: list[int | str] = []
        for _ in range(sweeps_per_thread_max):
            finished = posts_done.is_set()
            try:
                swept.append(sweeper.expire_pending())
            except Conflict:
                swept.append("conflict")
            if finished:
                break
            posts_done.wait(sweep_pause_s)
        return swept

    # WHEN every hold is confirmed once while two sweepers keep expiring
    pool = ThreadPoolExecutor(max_workers=len(holds) + sweeper_threads)
    try:
        delays_s = [random.uniform(0, post_delay_s_max) for _ in holds]
        post_futures = [pool.submit(post, *pair) for pair in zip(holds, delays_s, strict=True)]
        sweep_futures = [pool.submit(sweep) for _ in range(sweeper_threads)]
        _, not_done = wait(post_futures, timeout=race_deadline_s)
        posts_done.set()
        _, sweeps_not_done = wait(sweep_futures, timeout=race_deadline_s)
        assert not not_done, "the posts did not finish in time"
        assert not sweeps_not_done, "the sweeps did not finish in time"
        outcomes = [future.result() for future in post_futures]
        sweeps = [count for future in sweep_futures for count in future.result()]
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    # AND one more sweep after the race finds whatever contention left behind
    sweeps.append(sweeper.expire_pending())

    # THEN each hold ended exactly once: posted by its post, or expired by a sweep
    expired_count = sum(count for count in sweeps if isinstance(count, int))
    final = {hold.id: creator.get_entry(hold.id) for hold in holds}
    statuses = Counter(entry.status for entry in final.values())
    assert set(statuses) <= {EntryStatus.POSTED, EntryStatus.EXPIRED}, statuses
    if "conflict" in sweeps:
        # A sweep that gave up on contention does not say how many it had expired already.
        assert statuses[EntryStatus.EXPIRED] >= expired_count
    else:
        assert statuses[EntryStatus.EXPIRED] == expired_count
    for hold, outcome in zip(holds, outcomes, strict=True):
        entry = final[hold.id]
        assert hold.expires_at is not None
        seconds = (hold.expires_at - t0).total_seconds()
        if isinstance(outcome, Entry):
            assert (outcome.status, outcome.replayed) == (EntryStatus.POSTED, False)
            assert entry.status is EntryStatus.POSTED
            assert seconds > 4.5
        else:
            assert outcome in ("pending_expired", "already_resolved"), outcome
            assert entry.status is EntryStatus.EXPIRED, (hold.id, outcome)
        # AND the window decides who may win: only posts before, only sweeps after
        if seconds <= 4:
            assert entry.status is EntryStatus.EXPIRED
        if seconds >= 7:
            assert entry.status is EntryStatus.POSTED

    # AND the money moved once per posted hold, and nothing is pending any more
    posted_count = statuses[EntryStatus.POSTED]
    payer_balance = creator.get_balance(payer.id)
    payee_balance = creator.get_balance(payee.id)
    assert payer_balance.posted == 10000 - 100 * posted_count
    assert payee_balance.posted == 100 * posted_count
    for balance in (payer_balance, payee_balance):
        assert (balance.pending_in, balance.pending_out, balance.held) == (0, 0, 0)
    entries = all_entries(creator, book.id)
    assert Counter(entry.kind for entry in entries)[EntryKind.POST] == posted_count
    assert_books_balance(all_accounts(creator, book.id))
