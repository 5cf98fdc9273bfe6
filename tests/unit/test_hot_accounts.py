"""The hot-item model: partition capacity, conflicts and retries, shards, determinism."""

from __future__ import annotations

import secrets
from collections import Counter

import pytest

from bench.hot_accounts import (
    Service,
    hot_accounts_checks,
    shard_of,
    shard_touches,
    simulate,
    sustainable_rate,
    workload,
)
from bench.write_shapes import Recorded, Shape, Touch, record_shapes
from ledger.domain import limits

# So short that conflicts are rare: the partition's write units are the limit.
instant = Service(latency_s=0.0001)


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return record_shapes()


def _one_hot_item(units: int = 2) -> tuple[Shape, tuple[str, str]]:
    hot = (f"ACCOUNT#{secrets.token_hex(4)}", "ACCOUNT")
    entry = Touch((f"ENTRY#{secrets.token_hex(4)}", "ENTRY"), 2, conflicts=True, created=True)
    return Shape("ent", (entry, Touch(hot, units, conflicts=True, created=False))), hot


def test_one_item_of_up_to_1_kb_takes_close_to_500_writes_a_second() -> None:
    # GIVEN operations that all update one item of 2 transactional write units
    shape, hot = _one_hot_item()
    # WHEN the highest sustainable rate is searched, in flight too briefly to conflict
    rate = sustainable_rate(workload(shape, hot), service=instant)
    # THEN the partition's 1,000 units a second cap it just below 500
    assert 450 <= rate <= 500
    assert not simulate(workload(shape, hot), 600, service=instant).sustainable


def test_an_item_over_1_kb_takes_half_as_many() -> None:
    shape, hot = _one_hot_item(units=4)
    rate = sustainable_rate(workload(shape, hot), service=instant)
    assert 225 <= rate <= 250


def test_conflicts_cancel_attempts_that_are_retried() -> None:
    # GIVEN a hot item held 10 ms by each transaction, offered 60 operations a second
    shape, hot = _one_hot_item()
    run = simulate(workload(shape, hot), 60, service=Service(latency_s=0.010))
    # THEN attempts meet conflicts, are tried again, and most operations commit
    assert run.conflicts > 0
    assert run.attempts == run.committed + run.conflicts + run.throttles
    assert run.attempts > run.operations
    assert run.success_rate > 0.9
    # AND well beyond what the item takes, operations run out of attempts
    overloaded = simulate(workload(shape, hot), 400, service=Service(latency_s=0.010))
    assert overloaded.gave_up > 0
    assert overloaded.attempts <= overloaded.operations * limits.transaction_attempts_max


def test_the_same_seed_gives_the_same_run_and_another_seed_another() -> None:
    shape, hot = _one_hot_item()
    operations = workload(shape, hot, shards=4)
    first = simulate(operations, 300, seed=11)
    assert simulate(operations, 300, seed=11) == first
    assert simulate(operations, 300, seed=12) != first


def test_the_shard_mapping_spreads_entries_and_keeps_each_on_one_shard() -> None:
    entry_ids = [f"ent_{secrets.token_hex(16)}" for _ in range(8_000)]
    counts = Counter(shard_of(entry_id, 8) for entry_id in entry_ids)
    assert sorted(counts) == list(range(8))
    assert all(800 <= count <= 1_200 for count in counts.values())
    assert all(shard_of(entry_id, 8) == shard_of(entry_id, 8) for entry_id in entry_ids[:10])


def test_sharding_replaces_only_the_hot_item() -> None:
    shape, hot = _one_hot_item()
    touches = shard_touches(shape.touches, "ent_1", hot, 8)
    assert touches[0] == shape.touches[0]
    assert touches[1].item == (f"{hot[0]}#shard{shard_of('ent_1', 8)}", hot[1])
    assert touches[1].units == shape.touches[1].units
    assert shard_touches(shape.touches, "ent_1", hot, 1) == shape.touches


def test_real_transfer_writes_three_items_and_one_index_entry(recorded: Recorded) -> None:
    table = [touch for touch in recorded.transfer.touches if touch.conflicts]
    index = [touch for touch in recorded.transfer.touches if not touch.conflicts]
    assert [touch.units for touch in table] == [2, 2, 2]
    assert sum(touch.created for touch in table) == 1
    assert [touch.units for touch in index] == [1]
    assert index[0].partition.startswith("gsi1:LEDGER#")


def test_shards_multiply_deposits_until_the_ledgers_index_partition_limits(
    recorded: Recorded,
) -> None:
    # GIVEN deposits through one world account, each in flight 10 ms
    def rate(shards: int) -> int:
        return sustainable_rate(workload(recorded.deposit, recorded.world, shards))

    one, two, many = rate(1), rate(2), rate(32)
    # THEN two shards take about twice one
    assert 1.6 * one <= two <= 2.4 * one
    # AND 32 shards stop near the 1,000 units a second of the entries' index partition
    assert 900 <= many <= 1_050
    assert many < 16 * two


def test_checks_pass_and_fail_on_the_numbers() -> None:
    passing = {"world_deposits": {"1": 500, "8": 3_500}}
    failing = {"world_deposits": {"1": 50, "8": 300}}
    assert all(check.passed for check in hot_accounts_checks(passing))
    assert not any(check.passed for check in hot_accounts_checks(failing))
