"""The hot-item model: item and index capacity, conflicts and retries, real shards, goodput."""

from __future__ import annotations

import math
import secrets

import pytest

from bench.hot_accounts import (
    Horizon,
    Service,
    gave_up_rate_max,
    hot_accounts_checks,
    simulate,
    sustainable_rate,
    workload,
)
from bench.item_size import transactional_factor, units_of
from bench.write_shapes import Recorded, Recording, Shape, Touch, record_shapes
from ledger.domain.ids import shard_of
from ledger.domain.model import Account
from ledger.planning.steps import Target
from ledger.store.dynamodb.schema import item_key

unbounded_index = Service(index_partition_units_per_s=math.inf)
# Runs of thousands of operations a second are measured over less simulated time than the
# bench's, which the one-item tests keep: a quarter of the events, the same verdicts.
short = Horizon(warm_up_s=0.1, measured_s=0.5)


@pytest.fixture(scope="module")
def recorded() -> Recorded:
    return record_shapes()


def _one_hot_item(item_bytes: int) -> Recording:
    """Operations that each create an entry and update one shared item of `item_bytes`."""
    hot = (f"ACCOUNT#{secrets.token_hex(4)}", "ACCOUNT")
    units = units_of(item_bytes, transactional_factor)
    entry = Touch((f"ENTRY#{secrets.token_hex(4)}", "ENTRY"), 2, conflicts=True, created=True)
    shape = Shape("ent", (entry, Touch(hot, units, conflicts=True, created=False)))
    return Recording((shape,), frozenset({hot}))


def test_one_item_under_1_kb_saturates_at_500_a_second() -> None:
    # GIVEN operations that all update one 700-byte item, held 1 ms in each transaction
    operations = workload(_one_hot_item(700))
    # WHEN enough clients saturate it
    saturated = simulate(operations, 16)
    # THEN the item's 1,000 write units a second, 2 a write, give exactly its ceiling
    assert round(saturated.goodput_per_s) == 500
    # AND the sustainable rate, within 1% giving up, is that ceiling
    assert 495 <= sustainable_rate(operations) <= 500
    # AND more clients commit no more, they only give up more often
    crowded = simulate(operations, 64)
    assert round(crowded.goodput_per_s) == 500
    assert crowded.gave_up_rate > gave_up_rate_max


def test_an_item_over_1_kb_takes_half_as_many() -> None:
    assert sustainable_rate(workload(_one_hot_item(1_500))) == 250


def test_a_longer_conflict_window_caps_an_item_by_its_conflicts() -> None:
    # GIVEN one hot item held 10 ms by each transaction
    operations = workload(_one_hot_item(700))
    held_long = Service(conflict_window_s=0.010)
    # WHEN clients contend for it
    run = simulate(operations, 8, service=held_long)
    # THEN attempts meet conflicts and are tried again; every attempt is decided one way
    assert run.conflicts > 0
    assert run.attempts == run.committed + run.conflicts + run.throttles
    # AND the item commits at most one transaction per window
    assert 80 <= sustainable_rate(operations, service=held_long) <= 100


def test_the_conflict_window_must_fit_in_the_round_trip() -> None:
    with pytest.raises(ValueError, match="part of the round trip"):
        Service(conflict_window_s=0.020, round_trip_s=0.010)


def test_the_same_seed_gives_the_same_run_and_another_seed_another(recorded: Recorded) -> None:
    operations = workload(recorded.world_deposits[8])
    first = simulate(operations, 32, seed=11, horizon=short)
    assert simulate(operations, 32, seed=11, horizon=short) == first
    assert simulate(operations, 32, seed=12, horizon=short) != first


def test_a_real_transfer_writes_three_items_and_one_index_entry(recorded: Recorded) -> None:
    for shape in recorded.transfers.shapes:
        table = [touch for touch in shape.touches if touch.conflicts]
        index = [touch for touch in shape.touches if touch.index]
        assert [touch.units for touch in table] == [2, 2, 2]
        assert sum(touch.created for touch in table) == 1
        assert [touch.units for touch in index] == [1]
        assert index[0].item[0].startswith("gsi1:LEDGER#")


@pytest.mark.parametrize("world_shards", [1, 8, 32])
def test_a_deposit_moves_the_world_shard_its_entry_id_picks(
    recorded: Recorded, world_shards: int
) -> None:
    # GIVEN deposits recorded through a ledger whose world has `world_shards` shards
    recording = recorded.world_deposits[world_shards]
    (world_pk,) = {pk for pk, sk in recording.hot_items if sk == "ACCOUNT"}
    world_id = world_pk.removeprefix("ACCOUNT#")
    # THEN each moves one world item: the one the library's shard function picks
    for shape in recording.shapes:
        (moved,) = [touch.item for touch in shape.touches if touch.item in recording.hot_items]
        shard = shard_of(shape.entry_id, world_shards)
        target = (
            Target("account", world_id) if shard == 0 else Target("shard", f"{world_id}#{shard}")
        )
        assert moved == (item_key(target)["pk"], item_key(target)["sk"])
    # AND every shard is moved by as many recorded deposits
    moved_items = [
        touch.item
        for shape in recording.shapes
        for touch in shape.touches
        if touch.item in recording.hot_items
    ]
    counts = {item: moved_items.count(item) for item in moved_items}
    assert len(counts) == world_shards
    assert len(set(counts.values())) == 1


def test_a_sharded_fee_account_spreads_sales_over_its_shards(recorded: Recorded) -> None:
    sharded = recorded.fee_sales["sharded_8"]
    unsharded = recorded.fee_sales["unsharded"]
    fee_items = {
        touch.item
        for shape in sharded.shapes
        for touch in shape.touches
        if touch.item in sharded.hot_items
    }
    assert len(fee_items) == 8
    # AND each shard is its own partition key, so each has its own partition's capacity
    assert len({pk for pk, _ in fee_items}) == 8
    (unsharded_item,) = unsharded.hot_items
    assert {
        touch.item
        for shape in unsharded.shapes
        for touch in shape.touches
        if touch.item in unsharded.hot_items
    } == {unsharded_item}
    assert unsharded_item[1] == Account.__name__.upper()


def test_eight_world_shards_with_an_unbounded_index_take_about_eight_times_one(
    recorded: Recorded,
) -> None:
    def rate(world_shards: int) -> int:
        return sustainable_rate(
            workload(recorded.world_deposits[world_shards]), service=unbounded_index, horizon=short
        )

    one, eight = rate(1), rate(8)
    assert one == 500
    assert 7 * one <= eight <= 8 * one


def test_a_ledgers_entries_spread_over_its_world_shards_index_partitions(
    recorded: Recorded,
) -> None:
    # GIVEN deposits through 16 world shards, whose entries spread over 16 index partitions
    recording = recorded.world_deposits[16]
    index_partitions = {
        touch.item for shape in recording.shapes for touch in shape.touches if touch.index
    }
    assert len(index_partitions) == 16
    # THEN no index partition caps them: they take close to 16 items' 500 a second
    assert sustainable_rate(workload(recording), horizon=short) >= 0.9 * 16 * 500


def test_checks_pass_and_fail_on_the_numbers() -> None:
    passing = {"world_deposits": {"1": 500, "8": 3_500}}
    failing = {"world_deposits": {"1": 499, "8": 1_000}}
    assert all(check.passed for check in hot_accounts_checks(passing))
    assert not any(check.passed for check in hot_accounts_checks(failing))
