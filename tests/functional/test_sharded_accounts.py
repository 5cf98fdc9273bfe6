"""Sharded accounts: one id and one balance over several items, each write moving one."""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pytest

from ledger.domain.errors import (
    AccountInactive,
    AccountNotEmpty,
    IdempotencyKeyReused,
    ValidationError,
)
from ledger.domain.ids import new_entry_id, parse_account_id, shard_of, world_account_id
from ledger.domain.model import Account, AccountShard, AccountStatus, OverdraftMode
from ledger.domain.money import builtin_currencies
from ledger.service import Ledger
from ledger.store.dynamodb.codec import decode

from .checks import assert_invariants, refused
from .conftest import started_backend, store_kinds_with_local
from .helpers import Backend, NothingWritten, State, open_account, random_owner

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient

usd = builtin_currencies["USD"]


@pytest.fixture(params=store_kinds_with_local)
def backend(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, moto_client: DynamoDBClient
) -> Iterator[Backend]:
    """Each store in turn, DynamoDB Local too: sharded items under its real conditions."""
    with started_backend(request, monkeypatch, moto_client) as started:
        yield started


def _items_of(state: State, account_id: str) -> dict[int, Account | AccountShard]:
    """The stored items of one account by shard index, decoded where the store holds items."""
    items: dict[int, Account | AccountShard] = {}
    for item in state.values():
        record: Any = decode(item) if isinstance(item, dict) else item
        if isinstance(record, Account) and record.id == account_id:
            items[0] = record
        elif isinstance(record, AccountShard) and record.account_id == account_id:
            items[record.index] = record
    return items


def _revenue(ledger: Ledger, book: str, shards: int = 8, **options: Any) -> Account:
    return open_account(ledger, book, "revenue", overdraft="allow", shards=shards, **options)


def test_a_ledger_spreads_its_world_over_eight_shards_unless_told(ledger: Ledger) -> None:
    # GIVEN ledgers created with the default, with one shard and with 32
    default = ledger.create_ledger("Default", owner_id=random_owner())
    single = ledger.create_ledger("Single", owner_id=random_owner(), world_shards=1)
    wide = ledger.create_ledger("Wide", owner_id=random_owner(), world_shards=32)
    # THEN each ledger says so, and so do its id and its world accounts' ids
    assert (default.world_shards, single.world_shards, wide.world_shards) == (8, 1, 32)
    assert default.id.endswith("-w8")
    assert "-w" not in single.id
    for record in (default, single, wide):
        open_account(ledger, record.id)
        world = ledger.get_account(world_account_id(record.id, usd))
        assert world.shards == record.world_shards
        assert parse_account_id(world.id).shards == record.world_shards
        assert ledger.get_ledger(record.id) == record


def test_deposits_spread_over_the_world_and_sum_to_one_balance(
    ledger: Ledger, book: str, backend: Backend
) -> None:
    # GIVEN a wallet in a ledger whose world has eight shards
    wallet = open_account(ledger, book)
    world_id = world_account_id(book, usd)
    # WHEN forty deposits of 1.00 arrive
    entries = [ledger.deposit(wallet.id, "1.00") for _ in range(40)]
    # THEN each moved the world's shard its entry id picks, and several shards were moved
    moved = Counter(shard_of(entry.id, 8) for entry in entries)
    items = _items_of(backend.state(), world_id)
    assert {index: item.version for index, item in items.items()} == dict(moved)
    assert len(moved) > 1
    # AND the world reads as one account: the sum of its shards, its version their count
    world = ledger.get_account(world_id)
    assert (world.balance().posted, world.version) == (-4000, 40)
    assert world.shard_versions == tuple(moved.get(index, 0) for index in range(8))
    assert world.last_entry_id == entries[-1].id
    assert ledger.get_balance(wallet.id).posted == 4000
    assert_invariants(backend, book)


def test_a_sharded_account_opens_with_every_shard(
    ledger: Ledger, book: str, backend: Backend
) -> None:
    # WHEN a revenue account is opened with four shards
    revenue = _revenue(ledger, book, shards=4)
    # THEN its id carries the count and it has four items, all active and at zero
    assert revenue.shards == 4
    assert revenue.id.endswith("-s4")
    items = _items_of(backend.state(), revenue.id)
    assert sorted(items) == [0, 1, 2, 3]
    assert {item.status for item in items.values()} == {AccountStatus.ACTIVE}
    assert {item.version for item in items.values()} == {0}
    # AND it reads back as the account it was opened as
    assert ledger.get_account(revenue.id) == revenue


def test_transfers_into_a_sharded_account_land_on_the_shard_of_each_entry(
    ledger: Ledger, book: str, backend: Backend
) -> None:
    # GIVEN a funded wallet and a revenue account of eight shards
    wallet = open_account(ledger, book)
    ledger.deposit(wallet.id, "100.00")
    revenue = _revenue(ledger, book)
    # WHEN the wallet pays it twenty times
    entries = [ledger.transfer(wallet.id, revenue.id, "2.50") for _ in range(20)]
    # THEN every transfer wrote its shard, the sum is every amount once
    items = _items_of(backend.state(), revenue.id)
    landed = Counter(shard_of(entry.id, 8) for entry in entries)
    assert {index: item.version for index, item in items.items() if item.version} == dict(landed)
    assert ledger.get_balance(revenue.id).posted == 5000
    assert ledger.get_balance(wallet.id).posted == 5000
    assert_invariants(backend, book)


def test_a_replay_lands_on_the_same_shard_and_changes_nothing(
    ledger: Ledger, book: str, backend: Backend, nothing_written: NothingWritten
) -> None:
    # GIVEN a deposit made under an idempotency key
    wallet = open_account(ledger, book)
    first = ledger.deposit(wallet.id, "7.00", idempotency_key="deposit-1")
    shard = shard_of(first.id, 8)
    # WHEN it is sent again
    with nothing_written():
        again = ledger.deposit(wallet.id, "7.00", idempotency_key="deposit-1")
    # THEN it replays the same entry and the world's shard holds it once
    assert (again.id, again.replayed) == (first.id, True)
    world = _items_of(backend.state(), world_account_id(book, usd))
    assert world[shard].totals.posted_debits == 700
    assert ledger.get_balance(world_account_id(book, usd)).posted == -700


def test_pending_amounts_resolve_on_the_shard_that_holds_them(
    ledger: Ledger, book: str, backend: Backend
) -> None:
    # GIVEN a sharded payout account that makes holds towards a wallet
    payouts = open_account(ledger, book, "asset", overdraft="allow", shards=8)
    wallet = open_account(ledger, book, "asset")
    holds = [ledger.hold(payouts.id, "3.00", counterparty_account_id=wallet.id) for _ in range(6)]
    # WHEN half are confirmed (one for less) and the rest released
    ledger.confirm_hold(holds[0].id)
    ledger.confirm_hold(holds[1].id, "1.00")
    ledger.confirm_hold(holds[2].id)
    for hold in holds[3:]:
        ledger.release_hold(hold.id)
    # THEN no item of the account holds a pending amount or a held part any more
    items = _items_of(backend.state(), payouts.id)
    for item in items.values():
        assert (item.totals.pending_credits, item.totals.held) == (0, 0), item
    # AND the account paid exactly what was confirmed, below zero as it may go
    assert ledger.get_balance(payouts.id).posted == -700
    assert ledger.get_balance(wallet.id).posted == 700
    assert_invariants(backend, book)


def test_a_batch_moves_each_shard_item_once(ledger: Ledger, book: str, backend: Backend) -> None:
    # GIVEN a funded wallet and a revenue account of eight shards
    wallet = open_account(ledger, book)
    ledger.deposit(wallet.id, "100.00")
    revenue = _revenue(ledger, book)
    # WHEN one batch pays it ten times
    operation = {
        "type": "transfer",
        "from_account_id": wallet.id,
        "to_account_id": revenue.id,
        "amount": "1.00",
    }
    result = ledger.batch([operation] * 10)
    # THEN each entry's amount landed on its own entry's shard, once
    landed = Counter(shard_of(entry.id, 8) for entry in result.entries)
    items = _items_of(backend.state(), revenue.id)
    credited = {index: item.totals.posted_credits for index, item in items.items()}
    assert {index: amount for index, amount in credited.items() if amount} == {
        index: count * 100 for index, count in landed.items()
    }
    assert ledger.get_balance(revenue.id).posted == 1000
    assert_invariants(backend, book)


def test_a_reversal_and_reports_see_one_account(
    ledger: Ledger, book: str, backend: Backend
) -> None:
    # GIVEN fees paid into a sharded fee account, one of them reversed
    wallet = open_account(ledger, book)
    ledger.deposit(wallet.id, "50.00")
    fees = _revenue(ledger, book, shards=3)
    paid = [ledger.transfer(wallet.id, fees.id, "5.00") for _ in range(4)]
    ledger.reverse_entry(paid[0].id)
    # THEN the fee account holds the rest
    assert ledger.get_balance(fees.id).posted == 1500
    # AND a listing shows it once, with that balance
    listed = [account for account in ledger.list_accounts(book).items if account.id == fees.id]
    assert [account.balance().posted for account in listed] == [1500]
    # AND the trial balance and reconciliation agree with the journal
    report = ledger.reconcile(book)
    assert report.ok, report
    trial = ledger.trial_balance(book, "USD")
    assert trial.balanced
    assert_invariants(backend, book)


def test_suspending_a_sharded_account_stops_every_shard(
    ledger: Ledger, book: str, backend: Backend, nothing_written: NothingWritten
) -> None:
    # GIVEN a funded wallet and a sharded revenue account
    wallet = open_account(ledger, book)
    ledger.deposit(wallet.id, "100.00")
    revenue = _revenue(ledger, book, shards=4)
    # WHEN it is suspended
    suspended = ledger.update_account(revenue.id, status="suspended")
    # THEN every item is suspended, and no payment reaches any shard
    assert suspended.status is AccountStatus.SUSPENDED
    items = _items_of(backend.state(), revenue.id)
    assert {item.status for item in items.values()} == {AccountStatus.SUSPENDED}
    for _ in range(6):
        refused(
            nothing_written, lambda: ledger.transfer(wallet.id, revenue.id, "1.00"), AccountInactive
        )
    # AND reactivated, it takes payments again
    ledger.update_account(revenue.id, status="active")
    ledger.transfer(wallet.id, revenue.id, "1.00")
    assert ledger.get_balance(revenue.id).posted == 100


def _keys_moving_shard(ledger_id: str, shards: int, *, shard: int, count: int) -> list[str]:
    """Idempotency keys whose entries move `shard` of an account of `shards` shards: an
    entry's shard is a digest of its id, which its key fixes."""
    prefix = secrets.token_hex(4)
    candidates = (f"{prefix}-{number}" for number in range(shards * count * 50))
    found = [key for key in candidates if shard_of(new_entry_id(ledger_id, key), shards) == shard]
    return found[:count]


def test_closing_a_sharded_account_needs_its_summed_balance_at_zero(
    ledger: Ledger, book: str, backend: Backend, nothing_written: NothingWritten
) -> None:
    # GIVEN a sharded account that took 10.00 on its first shard, to pay it out on another
    wallet = open_account(ledger, book)
    ledger.deposit(wallet.id, "10.00")
    revenue = _revenue(ledger, book, shards=4)
    for key in _keys_moving_shard(book, 4, shard=0, count=4):
        ledger.transfer(wallet.id, revenue.id, "2.50", idempotency_key=key)
    # WHEN it is closed with money on it
    error = refused(
        nothing_written,
        lambda: ledger.update_account(revenue.id, status="closed"),
        AccountNotEmpty,
    )
    assert error.details == {"account_id": revenue.id}
    # AND once everything is paid back out, although single shards are not at zero
    for key in _keys_moving_shard(book, 4, shard=1, count=2):
        ledger.transfer(revenue.id, wallet.id, "5.00", idempotency_key=key)
    items = _items_of(backend.state(), revenue.id)
    assert any(item.totals.posted_credits != item.totals.posted_debits for item in items.values())
    closed = ledger.update_account(revenue.id, status="closed")
    # THEN every item is closed
    assert closed.status is AccountStatus.CLOSED
    items = _items_of(backend.state(), revenue.id)
    assert {item.status for item in items.values()} == {AccountStatus.CLOSED}
    assert_invariants(backend, book)


@pytest.mark.parametrize("mode", ["forbid", "limit"])
def test_an_account_with_a_floor_cannot_be_sharded(
    ledger: Ledger, book: str, nothing_written: NothingWritten, mode: str
) -> None:
    # WHEN an account with a floor is opened with shards
    credit_limit = "10.00" if mode == "limit" else None
    error = refused(
        nothing_written,
        lambda: open_account(ledger, book, overdraft=mode, credit_limit=credit_limit, shards=2),
        ValidationError,
    )
    # THEN the refusal names `shards`
    assert error.details == {"field": "shards"}


@pytest.mark.parametrize("count", [0, 65, -1, True, "8"])
def test_a_shard_count_outside_1_to_64_is_refused(
    ledger: Ledger, book: str, nothing_written: NothingWritten, count: Any
) -> None:
    # WHEN an account or a ledger is asked for a count no account can have
    account_error = refused(
        nothing_written,
        lambda: open_account(ledger, book, overdraft="allow", shards=count),
        ValidationError,
    )
    ledger_error = refused(
        nothing_written,
        lambda: ledger.create_ledger("Books", world_shards=count),
        ValidationError,
    )
    # THEN each refusal names its field
    assert account_error.details == {"field": "shards"}
    assert ledger_error.details == {"field": "world_shards"}


def test_a_sharded_account_keeps_its_no_floor_policy(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a sharded revenue account
    revenue = _revenue(ledger, book, shards=2)
    # WHEN its overdraft is to become a floor
    error = refused(
        nothing_written,
        lambda: ledger.update_account(revenue.id, overdraft="forbid"),
        ValidationError,
    )
    # THEN it is refused, naming the overdraft
    assert error.details == {"field": "overdraft"}
    assert ledger.get_account(revenue.id).overdraft.mode is OverdraftMode.ALLOW


def test_one_key_with_another_shard_count_is_refused(
    ledger: Ledger, book: str, nothing_written: NothingWritten
) -> None:
    # GIVEN a sharded account and a ledger opened under idempotency keys
    owner = random_owner()
    _revenue(ledger, book, shards=4, idempotency_key="revenue")
    ledger.create_ledger("Books", owner_id=owner, idempotency_key="books", world_shards=4)
    # WHEN the same keys come back asking for other counts
    account_error = refused(
        nothing_written,
        lambda: _revenue(ledger, book, shards=8, idempotency_key="revenue"),
        IdempotencyKeyReused,
    )
    ledger_error = refused(
        nothing_written,
        lambda: ledger.create_ledger(
            "Books", owner_id=owner, idempotency_key="books", world_shards=2
        ),
        IdempotencyKeyReused,
    )
    # THEN both are refused as reused keys, and the same requests still replay
    assert "account" in account_error.message
    assert "ledger" in ledger_error.message
    replayed = ledger.create_ledger(
        "Books", owner_id=owner, idempotency_key="books", world_shards=4
    )
    assert (replayed.replayed, replayed.world_shards) == (True, 4)


def test_replaying_a_sharded_account_answers_it_as_it_is_now(ledger: Ledger, book: str) -> None:
    # GIVEN a sharded account opened under a key, then paid on several shards
    wallet = open_account(ledger, book)
    ledger.deposit(wallet.id, "10.00")

    def open_fees() -> Account:
        return ledger.create_account(
            book, "Fees", "revenue", "USD", overdraft="allow", shards=4, idempotency_key="fees"
        )

    revenue = open_fees()
    for _ in range(6):
        ledger.transfer(wallet.id, revenue.id, "1.00")
    # WHEN the opening is sent again
    again = open_fees()
    # THEN it replays the account with all its shards summed, as a read shows it
    assert again.replayed
    assert again == replace(ledger.get_account(revenue.id), replayed=True)
    assert again.balance().posted == 600
