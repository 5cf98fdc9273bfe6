"""A discrete-event model of how many operations a second hot items take (docs/scaling.md).

Operations arrive at random (Poisson) at an offered rate. Each attempt of an operation's one
TransactWriteItems, at its start, is cancelled with TransactionConflict if another attempt
in flight holds one of its items, else with ThrottlingError if one of its partitions lacks
the write units it needs; otherwise it spends them and holds its items for the service
time. A cancelled attempt is answered after the service time and tried again as the store
does (`ledger.store.dynamodb.retries`): full-jitter backoff, at most
`transaction_attempts_max` attempts, within the store's deadline. A search finds the
highest offered rate at which at least `success_rate_min` of operations commit.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import random
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from bench.targets import Check
from bench.write_shapes import ItemKey, Recorded, Shape, Touch, record_shapes
from ledger.domain import limits
from ledger.store.dynamodb.retries import contention_reasons

# DynamoDB's published limit per partition; one item lives in one partition.
partition_units_per_s = 1000.0
conflict_reason = "TransactionConflict"
throttle_reason = "ThrottlingError"
if not {conflict_reason, throttle_reason} <= contention_reasons:
    raise RuntimeError("the store no longer retries the reasons this model cancels with")

success_rate_min = 0.99
seed_default = 7
# The offered load stops here: past it the search reports the ceiling itself.
offered_per_s_max = 10_000
search_start_per_s = 16
search_bisections = 6
# A run judges the operations that arrive in its window, once arrivals have gone on for
# the warm-up and while they go on for as long as the last judged one may retry: so every
# judged operation meets a steady load. The window holds at least `judged_operations_min`.
warm_up_s = 0.5
window_s_min = 1.0
judged_operations_min = 1_000
operations_per_run_max = 40_000
# Accounts the per-operation accounts are drawn from: so many that no one of them is hot.
account_pool_size = 100_000
world_shard_counts = (1, 2, 4, 8, 16, 32)
fee_account_shards = 8
modern_treasury_entries_per_s = 20
unsharded_multiple_min = 25
eight_shard_multiple_min = 7


@dataclass(frozen=True)
class Service:
    """What DynamoDB does with one attempt: how long it is in flight, the partitions' rate."""

    latency_s: float = 0.010
    partition_units_per_s: float = partition_units_per_s
    # Write units a partition can bank while idle: a small burst, not DynamoDB's
    # unpublished burst and adaptive capacity.
    bucket_units: float = 20.0


@dataclass(frozen=True)
class Operation:
    """One operation: the entry it creates, the items it holds and the units it spends."""

    entry_id: str
    held: tuple[ItemKey, ...]
    demand: tuple[tuple[str, int], ...]


Workload = Callable[[random.Random, int], Operation]
Sharding = Callable[[tuple[Touch, ...], str, ItemKey, int], tuple[Touch, ...]]


def shard_of(entry_id: str, shards: int) -> int:
    """The shard an entry writes, from its id: a retry of the entry writes the same one."""
    return int(hashlib.sha256(entry_id.encode()).hexdigest(), 16) % shards


def shard_touches(
    touches: tuple[Touch, ...], entry_id: str, hot: ItemKey, shards: int
) -> tuple[Touch, ...]:
    """The touches with the hot item replaced by the one shard the entry writes,
    `<pk>#shard<k>`: a partition of its own."""
    if shards == 1:
        return touches
    shard = (f"{hot[0]}#shard{shard_of(entry_id, shards)}", hot[1])
    return tuple(
        Touch(shard, touch.units, touch.conflicts, touch.created) if touch.item == hot else touch
        for touch in touches
    )


def operation_of(entry_id: str, touches: tuple[Touch, ...]) -> Operation:
    """The items an operation holds and the units it spends in each partition."""
    demand: Counter[str] = Counter()
    for touch in touches:
        demand[touch.partition] += touch.units
    held = tuple(touch.item for touch in touches if touch.conflicts)
    return Operation(entry_id, held, tuple(sorted(demand.items())))


def workload(
    shape: Shape,
    hot: ItemKey | None = None,
    shards: int = 1,
    pool_size: int = account_pool_size,
    sharding: Sharding = shard_touches,
) -> Workload:
    """Operations of one recorded shape: the items it creates are new for each operation,
    the hot item (and every index partition) is shared by all, and every other item is
    drawn from `pool_size` others, distinct within an operation."""
    pooled = [
        index
        for index, touch in enumerate(shape.touches)
        if touch.conflicts and not touch.created and touch.item != hot
    ]
    if len(pooled) > pool_size:
        raise ValueError(f"{len(pooled)} pooled items need a pool of at least as many")

    def operation(rng: random.Random, number: int) -> Operation:
        # Drawn, not derived from the recorded entry's (random) id: the same seed then
        # spreads the entries over the same shards.
        entry_id = f"ent_{rng.getrandbits(128):032x}"
        draws = dict(zip(pooled, rng.sample(range(pool_size), len(pooled)), strict=True))
        touches = []
        for index, touch in enumerate(shape.touches):
            pk, sk = touch.item
            if touch.created:
                touches.append(Touch((f"{pk}.{number}", sk), touch.units, touch.conflicts, True))
            elif index in draws:
                item = (f"{pk}.{draws[index]}", sk)
                touches.append(Touch(item, touch.units, touch.conflicts, False))
            else:
                touches.append(touch)
        shaped = tuple(touches) if hot is None else sharding(tuple(touches), entry_id, hot, shards)
        return operation_of(entry_id, shaped)

    return operation


@dataclass(frozen=True)
class Run:
    """What one simulated run gave."""

    offered_per_s: float
    operations: int
    committed: int
    gave_up: int
    attempts: int
    conflicts: int
    throttles: int

    @property
    def success_rate(self) -> float:
        """Committed operations over offered ones."""
        return self.committed / self.operations if self.operations else 1.0

    @property
    def sustainable(self) -> bool:
        """Whether at least `success_rate_min` of the operations committed; the others ran
        out of attempts or time."""
        return self.success_rate >= success_rate_min


def _backoff_ceiling_ms(attempt: int) -> int:
    """The longest backoff after `attempt`, as `retries.backoff_ms` bounds it."""
    return min(limits.retry_delay_ms_max, limits.retry_delay_ms_base * (1 << attempt))


def _backoff_s(rng: random.Random, attempt: int) -> float:
    """The store's full-jitter backoff (`retries.backoff_ms`), drawn from the run's RNG."""
    return rng.randint(0, _backoff_ceiling_ms(attempt)) / 1000


def _next_attempt_s(
    rng: random.Random, arrived_s: float, answered_s: float, attempt: int
) -> float | None:
    """When `attempt` starts, as `retries.Budget.ready` decides; None once the attempts or
    the store's deadline run out."""
    if attempt >= limits.transaction_attempts_max:
        return None
    deadline_s = arrived_s + limits.store_deadline_ms_local / 1000
    call_s = limits.dynamodb_call_ms_max / 1000
    room_s = deadline_s - answered_s - call_s
    if room_s < 0:
        return None
    start_s = answered_s + min(_backoff_s(rng, attempt - 1), room_s)
    return start_s if deadline_s - start_s >= call_s else None


class _Partitions:
    """Token buckets of write units, one per partition, refilled lazily."""

    def __init__(self, service: Service) -> None:
        self._service = service
        self._tokens: dict[str, tuple[float, float]] = {}

    def _level(self, partition: str, now_s: float) -> float:
        tokens, since_s = self._tokens.get(partition, (self._service.bucket_units, now_s))
        refill = (now_s - since_s) * self._service.partition_units_per_s
        return min(self._service.bucket_units, tokens + refill)

    def take(self, demand: tuple[tuple[str, int], ...], now_s: float) -> bool:
        """Spend every partition's units, or none if one of them lacks its share."""
        levels = [(partition, self._level(partition, now_s), units) for partition, units in demand]
        if any(level < units for _, level, units in levels):
            return False
        for partition, level, units in levels:
            self._tokens[partition] = (level - units, now_s)
        return True


def retry_span_s(service: Service) -> float:
    """The longest an operation can take: every attempt and the longest backoff before each."""
    waits_ms = sum(
        _backoff_ceiling_ms(attempt) for attempt in range(limits.transaction_attempts_max - 1)
    )
    return waits_ms / 1000 + limits.transaction_attempts_max * service.latency_s


def simulate(
    operations: Workload,
    offered_per_s: float,
    seed: int = seed_default,
    service: Service | None = None,
    operations_max: int = operations_per_run_max,
) -> Run:
    """Offer operations at `offered_per_s` (at most `operations_max` of them), play every
    attempt out and judge those that arrived in the window; the same seed gives the same
    run."""
    service = service or Service()
    window_s = max(window_s_min, judged_operations_min / offered_per_s)
    window_end_s = warm_up_s + window_s
    duration_s = window_end_s + retry_span_s(service)
    rng = random.Random(seed)
    arrivals: list[float] = []
    moment_s = rng.expovariate(offered_per_s)
    while moment_s < duration_s:
        if len(arrivals) == operations_max:
            raise ValueError(f"{offered_per_s}/s needs more than {operations_max} operations")
        arrivals.append(moment_s)
        moment_s += rng.expovariate(offered_per_s)
    planned = [operations(rng, number) for number in range(len(arrivals))]
    if any(units > service.bucket_units for operation in planned for _, units in operation.demand):
        raise ValueError("an operation needs more units than a partition holds")
    # (start, operation number, attempt): the number breaks ties, so runs are deterministic.
    events = [(arrived_s, number, 0) for number, arrived_s in enumerate(arrivals)]
    heapq.heapify(events)
    held_until: dict[ItemKey, float] = {}
    partitions = _Partitions(service)
    committed = gave_up = attempts = conflicts = throttles = 0
    while events:
        start_s, number, attempt = heapq.heappop(events)
        operation = planned[number]
        judged = warm_up_s <= arrivals[number] < window_end_s
        if any(held_until.get(item, -1.0) > start_s for item in operation.held):
            conflicts += judged
        elif not partitions.take(operation.demand, start_s):
            throttles += judged
        else:
            committed += judged
            attempts += judged
            for item in operation.held:
                held_until[item] = start_s + service.latency_s
            continue
        attempts += judged
        retry_s = _next_attempt_s(rng, arrivals[number], start_s + service.latency_s, attempt + 1)
        if retry_s is None:
            gave_up += judged
        else:
            heapq.heappush(events, (retry_s, number, attempt + 1))
    judged_count = sum(1 for arrived_s in arrivals if warm_up_s <= arrived_s < window_end_s)
    return Run(offered_per_s, judged_count, committed, gave_up, attempts, conflicts, throttles)


def sustainable_rate(
    operations: Workload,
    seed: int = seed_default,
    service: Service | None = None,
    ceiling_per_s: int = offered_per_s_max,
) -> int:
    """The highest offered rate (operations/s, up to the ceiling) found sustainable:
    doubling from `search_start_per_s`, then bisecting between the last two rates."""

    def holds(rate: float) -> bool:
        return simulate(operations, rate, seed, service).sustainable

    low, high = 0.0, float(search_start_per_s)
    while high < ceiling_per_s and holds(high):
        low, high = high, high * 2
    if high >= ceiling_per_s:
        if holds(ceiling_per_s):
            return ceiling_per_s
        high = ceiling_per_s
    for _ in range(search_bisections):
        middle = (low + high) / 2
        low, high = (middle, high) if holds(middle) else (low, middle)
    return int(low)


def hot_accounts_report(
    seed: int = seed_default,
    service: Service | None = None,
    recorded: Recorded | None = None,
    ceiling_per_s: int = offered_per_s_max,
) -> dict[str, Any]:
    """Sustainable operations/s: transfers between distinct accounts, deposits through one
    `world` account by its shard count, and marketplace sales paying one fee account."""
    recorded = recorded or record_shapes()

    def rate(operations: Workload) -> int:
        return sustainable_rate(operations, seed, service, ceiling_per_s)

    world = {
        str(shards): rate(workload(recorded.deposit, recorded.world, shards))
        for shards in world_shard_counts
    }
    fee = recorded.fee_account
    return {
        "distinct_transfers": rate(workload(recorded.transfer)),
        "world_deposits": world,
        "fee_account": {
            "unsharded": rate(workload(recorded.sale, fee)),
            f"sharded_{fee_account_shards}": rate(workload(recorded.sale, fee, fee_account_shards)),
        },
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
            f"hot accounts: 8 shards >= {eight_shard_multiple_min}x one shard",
            passed=eight >= eight_shard_multiple_min * one,
            actual=f"{eight} ops/s against {one} ({eight / one if one else 0:.1f}x)",
        ),
    ]


def main() -> int:
    """Print the report as JSON, then each check."""
    report = hot_accounts_report()
    print(json.dumps({"hot_accounts": report}, indent=2))
    for check in hot_accounts_checks(report):
        print(check.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
