"""A discrete-event model of how many operations a second hot items take (docs/scaling.md).

Closed-loop clients each run one operation after another. An operation is one
TransactWriteItems of a shape recorded from the library (`bench.write_shapes`). An attempt
reaches DynamoDB halfway through the network part of its round trip; there it is cancelled
with TransactionConflict if another transaction holds one of its items, else with
ThrottlingError if one of its items or index partitions lacks the write units it needs;
otherwise it spends them and holds its items for the conflict window. Its client has the
answer one round trip after it sent it, and retries a cancellation as the store does
(`ledger.store.dynamodb.retries`): full-jitter backoff, at most `transaction_attempts_max`
attempts, within the store's deadline.

The sustainable rate of a workload is its goodput: operations committed a second, after a
warm-up, with so many clients that more no longer raise it, while at most
`gave_up_rate_max` of operations run out of their retry budget.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bench.targets import Check
from bench.write_shapes import ItemKey, Recorded, Recording, Touch, record_shapes
from ledger.domain import limits
from ledger.store.dynamodb.retries import contention_reasons

conflict_reason = "TransactionConflict"
throttle_reason = "ThrottlingError"
if not {conflict_reason, throttle_reason} <= contention_reasons:
    raise RuntimeError("the store no longer retries the reasons this model cancels with")

# DynamoDB's published limit per partition. A hot item ends up on a partition of its own
# (split for heat); an index partition whose sort key grows with time does not split.
partition_units_per_s = 1000.0
# How long DynamoDB holds an item inside a transaction: an assumption, as AWS publishes no
# figure. The round trip is what a client sees, network included; it only sets how many
# clients it takes to saturate an item.
conflict_window_s_default = 0.001
round_trip_s_default = 0.010
gave_up_rate_max = 0.01
seed_default = 7
warm_up_s = 0.5
measured_s = 2.0
# More clients must raise goodput by more than this to count as raising it.
raise_min = 0.01
clients_max = 1024
client_bisections = 4
# Accounts the per-operation accounts are drawn from: so many that no one of them is hot.
account_pool_size = 100_000
sensitivity_windows_ms = (1, 2, 5, 10)
modern_treasury_entries_per_s = 20
unsharded_multiple_min = 25
eight_shard_multiple_min = 7


@dataclass(frozen=True)
class Service:
    """What DynamoDB does with one attempt, and how long its client waits for the answer."""

    conflict_window_s: float = conflict_window_s_default
    round_trip_s: float = round_trip_s_default
    item_units_per_s: float = partition_units_per_s
    index_partition_units_per_s: float = partition_units_per_s
    # Write units an item or index partition banks while idle: a small burst, not
    # DynamoDB's unpublished burst and adaptive capacity.
    bucket_units: float = 20.0

    def __post_init__(self) -> None:
        if not 0 < self.conflict_window_s <= self.round_trip_s:
            raise ValueError("the conflict window is part of the round trip")


@dataclass(frozen=True)
class Horizon:
    """How long a run warms up, then how long it is measured, in simulated seconds."""

    warm_up_s: float = warm_up_s
    measured_s: float = measured_s


@dataclass(frozen=True)
class Operation:
    """One operation: the items it holds and the units it spends in each item or index
    partition (True where that is an index partition)."""

    held: tuple[ItemKey, ...]
    demand: tuple[tuple[ItemKey, int, bool], ...]


Workload = Callable[[random.Random, int], Operation]


def workload(recording: Recording, pool_size: int = account_pool_size) -> Workload:
    """Operations drawn from the recorded ones: the hot account's items (its own and its
    shards) and every index partition are shared by all, as recorded; an item a plan
    creates is new for each operation; every other item is drawn from `pool_size` others,
    distinct within an operation."""

    def role(touch: Touch) -> str:
        if touch.index or touch.item in recording.hot_items:
            return "shared"
        return "created" if touch.created else "pooled"

    # Each shape's touches as plain tuples, read once: the model draws an operation each
    # time a client finishes one, so drawing must cost little.
    plans = [
        [(role(touch), touch.item, touch.units, touch.index) for touch in shape.touches]
        for shape in recording.shapes
    ]
    pooled_counts = [[touch[0] for touch in plan].count("pooled") for plan in plans]

    def operation(rng: random.Random, number: int) -> Operation:
        drawn = rng.randrange(len(plans))
        draws = iter(rng.sample(range(pool_size), pooled_counts[drawn]))
        # Units add up per item, its kind the first touch's; every table item is held.
        demand: dict[ItemKey, tuple[int, bool]] = {}
        held = []
        for touch_role, recorded_item, units, index in plans[drawn]:
            pk, sk = item = recorded_item
            if touch_role == "created":
                item = (f"{pk}.{number}", sk)
            elif touch_role == "pooled":
                item = (f"{pk}.{next(draws)}", sk)
            spent, first_index = demand.get(item, (0, index))
            demand[item] = (spent + units, first_index)
            if not index:
                held.append(item)
        return Operation(
            tuple(held), tuple((item, units, index) for item, (units, index) in demand.items())
        )

    return operation


@dataclass(frozen=True)
class Run:
    """What one simulated run gave, counted over its measured time."""

    clients: int
    committed: int
    gave_up: int
    attempts: int
    conflicts: int
    throttles: int
    measured_s: float

    @property
    def goodput_per_s(self) -> float:
        """Operations committed a second."""
        return self.committed / self.measured_s

    @property
    def gave_up_rate(self) -> float:
        """Operations that ran out of their retry budget over those that finished."""
        finished = self.committed + self.gave_up
        return self.gave_up / finished if finished else 0.0


def _backoff_ceiling_ms(attempt: int) -> int:
    """The longest backoff after `attempt`, as `retries.backoff_ms` bounds it."""
    return min(limits.retry_delay_ms_max, limits.retry_delay_ms_base * (1 << attempt))


def _next_attempt_s(
    rng: random.Random, started_s: float, answered_s: float, attempt: int
) -> float | None:
    """When `attempt` is sent, as `retries.Budget.ready` decides; None once the attempts or
    the store's deadline run out."""
    if attempt >= limits.transaction_attempts_max:
        return None
    deadline_s = started_s + limits.store_deadline_ms_local / 1000
    call_s = limits.dynamodb_call_ms_max / 1000
    room_s = deadline_s - answered_s - call_s
    if room_s < 0:
        return None
    backoff_s = rng.randint(0, _backoff_ceiling_ms(attempt - 1)) / 1000
    sent_s = answered_s + min(backoff_s, room_s)
    return sent_s if deadline_s - sent_s >= call_s else None


class _Buckets:
    """Token buckets of write units, one per item and per index partition, refilled
    continuously: units not spent while a bucket is below full are banked, so a saturated
    item spends its whole rate."""

    def __init__(self, service: Service) -> None:
        self._service = service
        self._tokens: dict[ItemKey, tuple[float, float]] = {}

    def _level(self, key: ItemKey, index: bool, now_s: float) -> float:
        service = self._service
        tokens, since_s = self._tokens.get(key, (service.bucket_units, now_s))
        rate = service.index_partition_units_per_s if index else service.item_units_per_s
        if math.isinf(rate):
            return service.bucket_units
        return min(service.bucket_units, tokens + (now_s - since_s) * rate)

    def take(self, demand: tuple[tuple[ItemKey, int, bool], ...], now_s: float) -> bool:
        """Spend every bucket's units, or none if one of them lacks its share."""
        levels = [(key, self._level(key, index, now_s), units) for key, units, index in demand]
        if any(level < units for _, level, units in levels):
            return False
        for key, level, units in levels:
            self._tokens[key] = (level - units, now_s)
        return True


def simulate(
    operations: Workload,
    clients: int,
    seed: int = seed_default,
    service: Service | None = None,
    horizon: Horizon | None = None,
) -> Run:
    """Run `clients` closed-loop clients for the warm-up and the measured time; count what
    DynamoDB decided in the measured time. The same seed gives the same run."""
    service = service or Service()
    horizon = horizon or Horizon()
    # The network part of a round trip, each way; DynamoDB's part is the conflict window.
    transit_s = (service.round_trip_s - service.conflict_window_s) / 2
    end_s = horizon.warm_up_s + horizon.measured_s
    rng = random.Random(seed)
    current = [operations(rng, number) for number in range(clients)]
    started = [rng.uniform(0, service.round_trip_s) for _ in range(clients)]
    # (decided, client, attempt): the client breaks ties, so runs are deterministic.
    events = [(started_s + transit_s, client, 0) for client, started_s in enumerate(started)]
    heapq.heapify(events)
    numbered = clients
    held_until: dict[ItemKey, float] = {}
    buckets = _Buckets(service)
    committed = gave_up = attempts = conflicts = throttles = 0
    while events[0][0] < end_s:
        decided_s, client, attempt = heapq.heappop(events)
        operation = current[client]
        measured = decided_s >= horizon.warm_up_s
        attempts += measured
        answered_s = decided_s - transit_s + service.round_trip_s
        if any(held_until.get(item, -1.0) > decided_s for item in operation.held):
            reason: str | None = conflict_reason
        elif not buckets.take(operation.demand, decided_s):
            reason = throttle_reason
        else:
            reason = None
        if reason is None:
            committed += measured
            for item in operation.held:
                held_until[item] = decided_s + service.conflict_window_s
        else:
            conflicts += measured and reason == conflict_reason
            throttles += measured and reason == throttle_reason
            retry_s = _next_attempt_s(rng, started[client], answered_s, attempt + 1)
            if retry_s is not None:
                heapq.heappush(events, (retry_s + transit_s, client, attempt + 1))
                continue
            gave_up += measured
        # A committed or abandoned operation is followed by the client's next one at once.
        current[client] = operations(rng, numbered)
        numbered += 1
        started[client] = answered_s
        heapq.heappush(events, (answered_s + transit_s, client, 0))
    return Run(clients, committed, gave_up, attempts, conflicts, throttles, horizon.measured_s)


def sustainable_rate(
    operations: Workload,
    seed: int = seed_default,
    service: Service | None = None,
    horizon: Horizon | None = None,
) -> int:
    """Goodput (operations/s, rounded) with enough clients: doubling them from one until
    goodput stops rising by more than `raise_min`, or until more than `gave_up_rate_max`
    give up, then bisecting the client count between the last two counts in that case."""

    def run(clients: int) -> Run:
        return simulate(operations, clients, seed, service, horizon)

    best = 0.0
    within, clients = 0, 1
    while clients <= clients_max:
        result = run(clients)
        if result.gave_up_rate > gave_up_rate_max:
            break
        if result.goodput_per_s <= best * (1 + raise_min):
            return round(max(best, result.goodput_per_s))
        best, within, clients = result.goodput_per_s, clients, clients * 2
    else:
        return round(best)
    beyond = clients
    for _ in range(client_bisections):
        middle = (within + beyond) // 2
        if middle in (within, beyond):
            break
        result = run(middle)
        if result.gave_up_rate > gave_up_rate_max:
            beyond = middle
        else:
            best, within = max(best, result.goodput_per_s), middle
    return round(best)


def hot_accounts_report(
    seed: int = seed_default, service: Service | None = None, recorded: Recorded | None = None
) -> dict[str, Any]:
    """Sustainable operations/s: transfers between distinct accounts, deposits through one
    `world` account by the ledger's `world_shards`, and marketplace sales paying one fee
    account, unsharded and sharded."""
    recorded = recorded or record_shapes()

    def rate(recording: Recording) -> int:
        return sustainable_rate(workload(recording), seed, service)

    return {
        "distinct_transfers": rate(recorded.transfers),
        "world_deposits": {
            str(shards): rate(recording) for shards, recording in recorded.world_deposits.items()
        },
        "fee_account": {name: rate(recording) for name, recording in recorded.fee_sales.items()},
    }


def hot_accounts_checks(report: Mapping[str, Any]) -> list[Check]:
    """One unsharded item takes 25x Modern Treasury's 20 entries/s per account; 8 shards
    take 7x one."""
    world = report["world_deposits"]
    one, eight = world["1"], world["8"]
    unsharded_min = unsharded_multiple_min * modern_treasury_entries_per_s
    return [
        Check(
            f"hot accounts: one unsharded item >= {unsharded_min} ops/s "
            f"({unsharded_multiple_min}x {modern_treasury_entries_per_s} entries/s)",
            passed=one >= unsharded_min,
            actual=f"{one} ops/s",
        ),
        Check(
            f"hot accounts: 8 world shards >= {eight_shard_multiple_min}x one shard",
            passed=eight >= eight_shard_multiple_min * one,
            actual=f"{eight} ops/s against {one} ({eight / one if one else 0:.1f}x)",
        ),
    ]


def sensitivity(
    seed: int = seed_default, recorded: Recorded | None = None
) -> list[tuple[int, ...]]:
    """For each conflict window (ms): one `world`, 8 `world` shards, one fee account."""
    recorded = recorded or record_shapes()
    rows = []
    for window_ms in sensitivity_windows_ms:
        service = Service(conflict_window_s=window_ms / 1000)
        rows.append(
            (
                window_ms,
                *(
                    sustainable_rate(workload(recording), seed, service)
                    for recording in (
                        recorded.world_deposits[1],
                        recorded.world_deposits[8],
                        recorded.fee_sales["unsharded"],
                    )
                ),
            )
        )
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Print the report as JSON and each check; with --sensitivity, the window table."""
    parser = argparse.ArgumentParser(prog="python -m bench.hot_accounts", description=__doc__)
    parser.add_argument(
        "--sensitivity", action="store_true", help="print the conflict-window table instead"
    )
    arguments = parser.parse_args(argv)
    if arguments.sensitivity:
        print("| conflict window | `world`, 1 shard | `world`, 8 shards | fee account, unsharded |")
        print("|---|---|---|---|")
        for window_ms, *rates in sensitivity():
            print(f"| {window_ms} ms | " + " | ".join(f"{rate:,}" for rate in rates) + " |")
        return 0
    report = hot_accounts_report()
    print(json.dumps({"hot_accounts": report}, indent=2))
    for check in hot_accounts_checks(report):
        print(check.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
