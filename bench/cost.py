"""What one million of an operation costs on AWS: DynamoDB, Lambda and API Gateway, in USD.

Pure arithmetic over what the bench measured (write units, reads, item sizes, CPU time per
request) and list prices. The arithmetic is exact (Decimal) so it can be redone by hand; the
results are estimates, not ledger money, and are given as floats rounded half up to cents.

Each API request goes through API Gateway, the authorizer (unless its result is cached) and
the API function. Per request:

- DynamoDB: the operation's write request units, its read request units (a strongly
  consistent read is 1 unit per started 4 KB of the item, an eventually consistent one
  half), and the authorizer's one strongly consistent GetItem of the key item.
- Lambda, per function: the billed duration (the measured CPU time, rounded up to the
  next 1 ms) times the memory in GB times the price per GB-second, plus the per-request price.
- API Gateway: the HTTP API's per-request price.

The CPU times are measured on the machine that runs the bench (x86 as a rule): a proxy for
the duration on arm64. Lambda bills wall time, which also holds the wait for DynamoDB's
answers; that wait is not measured, so the Lambda part is a floor.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from bench.counting import OperationResult

# AWS public list prices, us-east-1, as of 2026-12; free tiers left out.
prices_as_of = "2026-12"
prices_region = "us-east-1"
prices_sources = {
    "dynamodb": "https://aws.amazon.com/dynamodb/pricing/on-demand/",
    "lambda": "https://aws.amazon.com/lambda/pricing/",
    "api_gateway": "https://aws.amazon.com/api-gateway/pricing/",
}
per_million = 1_000_000
cent = Decimal("0.01")
read_unit_bytes = 4 * 1024
eventually_consistent_factor = Decimal("0.5")
megabytes_per_gigabyte = 1024
milliseconds_per_second = 1000
# Measured CPU times carry 3 decimals; rounding their sums there keeps float noise
# (2.0000000000000004) out of the results and from billing one more millisecond.
ms_decimals = 3
billed_duration_ms_min = 1
# The authorizer reads a key's record item; with the most ledger ids a key may name (100) and
# the longest owner id it is 2,533 bytes, so one strongly consistent read is 1 unit.
key_item_bytes_max = 2_533


@dataclass(frozen=True)
class Prices:
    """List prices in USD, each per one unit of what it bills."""

    # DynamoDB on-demand, Standard table class (halved on 2024-11-01).
    write_request_unit_usd: Decimal
    read_request_unit_usd: Decimal
    # Lambda on arm64 (Graviton), first 7.5 billion GB-seconds a month.
    lambda_gb_second_usd: Decimal
    lambda_request_usd: Decimal
    # API Gateway HTTP API, first 300 million requests a month, per request up to 512 KB.
    http_api_request_usd: Decimal


prices_us_east_1 = Prices(
    write_request_unit_usd=Decimal("0.625") / per_million,
    read_request_unit_usd=Decimal("0.125") / per_million,
    lambda_gb_second_usd=Decimal("0.0000133334"),
    lambda_request_usd=Decimal("0.20") / per_million,
    http_api_request_usd=Decimal("1.00") / per_million,
)


@dataclass(frozen=True)
class Deployment:
    """What the prices apply to: each function's memory and how often the authorizer runs."""

    # What infra/functions.py deploys; tests/infra/test_functions.py checks they agree.
    api_memory_mb: int = 1024
    authorizer_memory_mb: int = 256
    # 1: the authorizer's result is not cached, so it runs on every request; 0: always cached.
    authorizer_invocations_per_request: Decimal = Decimal(1)


deployment_default = Deployment()


@dataclass(frozen=True)
class Usage:
    """What one operation uses, as billed: units, and each API request's CPU ms."""

    write_units: int
    read_units: Decimal
    # One value per API request the operation takes: the API function's and the authorizer's.
    api_cpu_ms: tuple[float, ...]
    authorizer_cpu_ms: tuple[float, ...]

    @property
    def requests(self) -> int:
        """API requests the operation takes."""
        return len(self.api_cpu_ms)


def read_units(consistent_reads: int, eventual_reads: int, item_bytes: int) -> Decimal:
    """Read request units of single-item reads of an item of `item_bytes`."""
    per_read = max(1, math.ceil(item_bytes / read_unit_bytes))
    return per_read * (consistent_reads + eventually_consistent_factor * eventual_reads)


def billed_ms(cpu_ms: float) -> int:
    """Lambda's billed duration: rounded up to the next 1 ms."""
    return max(billed_duration_ms_min, math.ceil(round(cpu_ms, ms_decimals)))


def lambda_usd(cpu_ms: float, memory_mb: int, prices: Prices) -> Decimal:
    """One invocation: its billed GB-seconds and its request."""
    gigabyte_seconds = (
        Decimal(billed_ms(cpu_ms))
        / milliseconds_per_second
        * (Decimal(memory_mb) / megabytes_per_gigabyte)
    )
    return gigabyte_seconds * prices.lambda_gb_second_usd + prices.lambda_request_usd


def dynamodb_usd(usage: Usage, prices: Prices, deployment: Deployment) -> Decimal:
    """One operation's request units, the authorizer's key reads included."""
    key_reads = deployment.authorizer_invocations_per_request * read_units(
        usage.requests, 0, key_item_bytes_max
    )
    return (
        usage.write_units * prices.write_request_unit_usd
        + (usage.read_units + key_reads) * prices.read_request_unit_usd
    )


def functions_usd(usage: Usage, prices: Prices, deployment: Deployment) -> Decimal:
    """One operation's Lambda invocations: the API function's and the authorizer's."""
    api = sum(
        (lambda_usd(cpu_ms, deployment.api_memory_mb, prices) for cpu_ms in usage.api_cpu_ms),
        Decimal(0),
    )
    authorizer = sum(
        (
            lambda_usd(cpu_ms, deployment.authorizer_memory_mb, prices)
            for cpu_ms in usage.authorizer_cpu_ms
        ),
        Decimal(0),
    )
    return api + deployment.authorizer_invocations_per_request * authorizer


def usage_cost(
    usage: Usage, prices: Prices = prices_us_east_1, deployment: Deployment = deployment_default
) -> dict[str, float]:
    """USD per million of one operation: each part rounded half up to cents, total their sum."""
    if len(usage.authorizer_cpu_ms) != usage.requests:
        raise ValueError("one authorizer time is needed per API request")
    parts = {
        "dynamodb": _cents(dynamodb_usd(usage, prices, deployment) * per_million),
        "lambda": _cents(functions_usd(usage, prices, deployment) * per_million),
        "api_gateway": _cents(usage.requests * prices.http_api_request_usd * per_million),
    }
    parts["total"] = sum(parts.values(), Decimal(0))
    return {name: float(usd) for name, usd in parts.items()}


def _cents(usd: Decimal) -> Decimal:
    return usd.quantize(cent, rounding=ROUND_HALF_UP)


# The priced operations: each is the measured operations it is made of, one API request each.
priced_operations: Mapping[str, Sequence[str]] = {
    "transfer": ("transfer",),
    "deposit": ("deposit",),
    "hold_confirm": ("hold", "confirm"),
    "balance": ("balance",),
}
# The API routes timed in process (bench.api): a write route's handler work stands for every
# write route's (they parse, plan and answer alike), the balance route's for reads.
route_of: Mapping[str, str] = {
    "transfer": "transfer",
    "deposit": "transfer",
    "hold": "transfer",
    "confirm": "transfer",
    "balance": "balance",
}
authorizer_route = "authorizer"
key_read_stand_in = "balance"


def usage_of(
    operations: Mapping[str, OperationResult],
    names: Sequence[str],
    api_cpu_ms: Mapping[str, float],
) -> Usage:
    """The usage of the measured operations `names` taken together, one API request each.

    An API request's CPU is the operation's (the library and its DynamoDB client, measured
    against DynamoDB Local) plus its route's handler (measured with DynamoDB stubbed). The
    authorizer's is its handler's plus its key's GetItem through the client, for which the
    measured balance read (one strongly consistent GetItem) stands. Every item the ledger
    reads is one it writes, so a read is sized as the largest item measured.
    """
    parts = [operations[name] for name in names]
    read_item_bytes = max(
        (size for result in operations.values() for size in result.item_bytes), default=0
    )
    key_read_ms = operations[key_read_stand_in].cpu_ms_median
    return Usage(
        write_units=sum(part.write_units for part in parts),
        read_units=sum(
            (
                read_units(
                    part.consistent_reads, part.reads - part.consistent_reads, read_item_bytes
                )
                for part in parts
            ),
            Decimal(0),
        ),
        api_cpu_ms=tuple(
            round(operations[name].cpu_ms_median + api_cpu_ms[route_of[name]], ms_decimals)
            for name in names
        ),
        authorizer_cpu_ms=tuple(
            round(api_cpu_ms[authorizer_route] + key_read_ms, ms_decimals) for _ in names
        ),
    )


def usages(
    operations: Mapping[str, OperationResult], api_cpu_ms: Mapping[str, float]
) -> dict[str, Usage]:
    """The usage of each priced operation."""
    return {
        name: usage_of(operations, parts, api_cpu_ms) for name, parts in priced_operations.items()
    }


def cost_per_million(
    operations: Mapping[str, OperationResult],
    api_cpu_ms: Mapping[str, float],
    prices: Prices = prices_us_east_1,
    deployment: Deployment = deployment_default,
) -> dict[str, dict[str, float]]:
    """USD per million of each priced operation: dynamodb, lambda, api_gateway and total."""
    return {
        name: usage_cost(usage, prices, deployment)
        for name, usage in usages(operations, api_cpu_ms).items()
    }
