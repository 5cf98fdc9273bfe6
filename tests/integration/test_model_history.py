"""History against a model, on DynamoDB Local with its real stream.

A seeded random sequence of operations (deposits and transfers, some backdated, some on
the same instants and on day and month boundaries; holds and pending entries posted in
full or in part, voided or expired; a status change; a sharded account and a sharded
world) goes to a Ledger on DynamoDB Local under a hand-moved clock, and a plain model
records every change with its recorded and effective time. The history and audit
consumers take the table's stream through the local stream poller. Then every account's
balance as recorded at K, effective at T, and both, at many sampled times, and its
statements on both bases over sampled ranges, page by page, equal the model's."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Metrics
from history_checks import check_balances, check_statement, sample_pool, statement_bounds
from history_model import HistoryModel
from test_model_based import SteppingClock

from ledger.consumers.audit import AuditConsumer
from ledger.consumers.history import HistoryConsumer
from ledger.domain.ids import world_account_id
from ledger.domain.model import AccountStatus, Entry, Side
from ledger.domain.money import builtin_currencies, format_amount
from ledger.local.streams import StreamPoller
from ledger.service import Ledger, LineInput
from ledger.store.dynamodb import DynamoDBStore

if TYPE_CHECKING:
    from pathlib import Path

    from mypy_boto3_dynamodb import DynamoDBClient

    from ledger.local.dynamodb_local import DynamoDBLocal

seed = 20260101
operations = 24
catch_up_s_max = 30
_instant = timedelta(microseconds=1)
usd = builtin_currencies["USD"]


class InProcess:
    """The consumers run in process, invoked by name as the poller invokes functions."""

    def __init__(self, consumers: dict[str, HistoryConsumer | AuditConsumer]) -> None:
        self.consumers = consumers

    def invoke(self, key: str, event: Any, request_id: str) -> object:
        return self.consumers[key].handle(event)


@dataclass
class Driver:
    """Sends random operations to the ledger and tells the model what each one changed."""

    ledger: Ledger
    clock: SteppingClock
    rng: random.Random
    users: list[str]
    plain: list[str]
    model: HistoryModel = field(default_factory=HistoryModel)
    pending: dict[str, tuple[Entry, datetime | None]] = field(default_factory=dict)
    effective_used: list[datetime] = field(default_factory=list)

    def run(self, count: int) -> None:
        steps: list[Callable[[], None]] = [
            self.deposit,
            self.deposit,
            self.transfer,
            self.transfer,
            self.hold,
            self.pending_entry,
            self.hold,
            self.resolve,
            self.resolve,
            self.resolve,
            self.expire,
            self.expire,
            self.jump,
        ]
        for _ in range(count):
            self.clock.tick()
            self.rng.choice(steps)()
        self.status_change()

    def _amount(self) -> str:
        return f"{self.rng.randint(1, 400)}.{self.rng.randint(0, 99):02d}"

    def _effective(self) -> datetime | None:
        """None (now), or a time in the past: random, a day's or a month's first instant, a
        day's last, or one used before."""
        now = self.clock.now
        back = now - timedelta(days=self.rng.randint(0, 70), seconds=self.rng.randint(0, 86399))
        midnight = back.replace(hour=0, minute=0, second=0, microsecond=0)
        choices = [
            None,
            None,
            back.replace(microsecond=self.rng.randint(0, 999_999)),
            midnight,
            midnight.replace(day=1),
            midnight - _instant,
            *self.effective_used[-3:],
        ]
        chosen = self.rng.choice(choices)
        if chosen is not None:
            self.effective_used.append(chosen)
        return chosen

    def _created(self, entry: Entry, effective: datetime | None) -> None:
        assert entry.effective_at == (effective or self.clock.now)
        self.model.created(entry, self.clock.now, effective or self.clock.now)

    def deposit(self) -> None:
        effective = self._effective()
        account = self.rng.choice(self.users)
        self._created(
            self.ledger.deposit(account, self._amount(), effective_at=effective), effective
        )

    def transfer(self) -> None:
        effective = self._effective()
        source, target = self.rng.sample(self.users, 2)
        entry = self.ledger.transfer(source, target, self._amount(), effective_at=effective)
        self._created(entry, effective)

    def _expires_in(self) -> int | None:
        """None, or an expiry at least 2 s from every other pending entry's, so that each
        sweep expires exactly one."""
        for _ in range(20):
            seconds = self.rng.randint(60, 7200)
            at = self.clock.now + timedelta(seconds=seconds)
            others = [expiry for _, expiry in self.pending.values() if expiry is not None]
            if all(abs((at - other).total_seconds()) >= 2 for other in others):
                return seconds
        return None

    def _opened(self, entry: Entry, expires_in: int | None) -> None:
        self._created(entry, None)
        expiry = None if expires_in is None else self.clock.now + timedelta(seconds=expires_in)
        assert entry.expires_at == expiry
        self.pending[entry.id] = (entry, expiry)

    def hold(self) -> None:
        expires_in = self.rng.choice([None, self._expires_in(), self._expires_in()])
        account = self.rng.choice(self.users)
        self._opened(self.ledger.hold(account, self._amount(), expires_in=expires_in), expires_in)

    def pending_entry(self) -> None:
        expires_in = self.rng.choice([None, self._expires_in(), self._expires_in()])
        source, target = self.rng.sample(self.users, 2)
        amount = self._amount()
        lines = [LineInput(source, Side.DEBIT, amount), LineInput(target, Side.CREDIT, amount)]
        book = self.ledger.get_account(source).ledger_id
        entry = self.ledger.create_entry(book, lines, pending=True, expires_in=expires_in)
        self._opened(entry, expires_in)

    def resolve(self) -> None:
        """Post one pending entry in full or in part, or void it."""
        if not self.pending:
            return
        entry_id = self.rng.choice(sorted(self.pending))
        entry, _ = self.pending.pop(entry_id)
        choice = self.rng.choice(["full", "part", "void"])
        if choice == "void":
            self.ledger.void_entry(entry_id)
            self.model.released(entry, "void", self.clock.now)
            return
        whole = entry.lines[0].amount
        part = None if choice == "full" else format_amount(self.rng.randint(1, whole), usd)
        resolved = self.ledger.post_entry(entry_id, part)
        assert resolved.posting_entry_id is not None
        posting = self.ledger.get_entry(resolved.posting_entry_id)
        assert posting.effective_at == self.clock.now
        self.model.posted(entry, posting, self.clock.now)

    def expire(self) -> None:
        """Move the clock just past the next expiry and sweep: exactly that entry expires."""
        expiring = sorted((expiry, key) for key, (_, expiry) in self.pending.items() if expiry)
        if not expiring:
            return
        expiry, entry_id = expiring[0]
        self.clock.now = max(self.clock.now, expiry + timedelta(milliseconds=1))
        assert self.ledger.expire_pending() == 1
        entry, _ = self.pending.pop(entry_id)
        self.model.released(entry, "expire", self.clock.now)

    def jump(self) -> None:
        """Some hours on, but never past a pending entry's expiry."""
        wanted = self.clock.now + timedelta(seconds=self.rng.randint(600, 30_000))
        expiries = [at - timedelta(seconds=1) for _, at in self.pending.values() if at is not None]
        self.clock.now = max(self.clock.now, min([wanted, *expiries]))

    def status_change(self) -> None:
        """Suspend and reactivate one single-item account: two versions that move nothing."""
        account = self.plain[0]
        for status in (AccountStatus.SUSPENDED, AccountStatus.ACTIVE):
            self.clock.tick()
            self.ledger.update_account(account, status=status)
            self.model.status(account, self.clock.now)


def catch_up(poller: StreamPoller, ledger: Ledger, accounts: list[str], far: datetime) -> None:
    """Poll the stream until a round delivers nothing and every account's history holds all
    its versions (bounded)."""
    deadline = time.monotonic() + catch_up_s_max
    while True:
        delivered = poller.poll_once()
        if not delivered and all(
            ledger.get_balance(account, at=far).version == ledger.get_balance(account).version
            for account in accounts
        ):
            return
        assert time.monotonic() < deadline, "history did not catch up in time"
        if not delivered:
            time.sleep(0.1)


def test_balances_and_statements_of_the_past_equal_the_model(
    dynamodb_local: DynamoDBLocal, dynamodb_client: DynamoDBClient, local_table: str, tmp_path: Path
) -> None:
    # GIVEN a ledger whose world has 4 items, three accounts of one item and one of 3,
    # under a clock moved by hand, and the history and audit consumers on the table's stream
    clock = SteppingClock()
    ledger = Ledger(DynamoDBStore(local_table, client=dynamodb_client), clock=clock)
    book = ledger.create_ledger("Model history", world_shards=4).id
    opened = [
        ledger.create_account(book, name, kind, "USD", overdraft="allow", shards=shards).id
        for name, kind, shards in (
            ("alice", "liability", 1),
            ("bob", "liability", 1),
            ("carol", "asset", 1),
            ("hot", "liability", 3),
        )
    ]
    # (Metrics instances share one set: clear what earlier tests left in it.)
    metrics = Metrics(namespace="Test")
    metrics.clear_metrics()
    history = HistoryConsumer(local_table, dynamodb_client, metrics=metrics)
    audit = AuditConsumer(local_table, dynamodb_client, metrics=metrics)
    arn = dynamodb_client.describe_table(TableName=local_table)["Table"]["LatestStreamArn"]
    consumers: dict[str, HistoryConsumer | AuditConsumer] = {"history": history, "audit": audit}
    poller = StreamPoller(
        dynamodb_local.streams_client(), arn, list(consumers), InProcess(consumers), tmp_path
    )
    rng = random.Random(seed)
    # WHEN the random operations run and the consumers catch up
    driver = Driver(ledger, clock, rng, users=opened, plain=opened[:3])
    driver.run(operations)
    world = world_account_id(book, usd)
    accounts = [*opened, world]
    catch_up(poller, ledger, accounts, clock.now + timedelta(days=1))
    # THEN no history record is a mismatch and every audit chain verifies
    assert "HistoryMismatch" not in history.metrics.metric_set
    assert all(ledger.verify_audit(account).ok for account in accounts)
    # AND every balance of the past and every statement equals the model's
    times = sample_pool(driver.model.times())
    for account_id in accounts:
        account = ledger.get_account(account_id)
        check_balances(ledger, driver.model, account, times, rng)
        first = min(change.recorded for change in driver.model.changes[account_id])
        for basis in ("recorded", "effective"):
            for bounds in statement_bounds(times, first, rng):
                limit = rng.choice([1, 2, 3, 100])
                check_statement(
                    ledger,
                    driver.model,
                    account,
                    basis=basis,
                    bounds=bounds,
                    limit=limit,
                    now=clock.now,
                )
