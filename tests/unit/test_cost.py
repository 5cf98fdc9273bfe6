"""What a million operations cost: the arithmetic of bench.cost on known inputs."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from bench.cost import (
    Deployment,
    Usage,
    billed_ms,
    cost_per_million,
    deployment_default,
    dynamodb_usd,
    functions_usd,
    lambda_usd,
    per_million,
    prices_us_east_1,
    read_units,
    usage_cost,
    usages,
)
from bench.counting import OperationResult

prices = prices_us_east_1
never_authorized = Deployment(authorizer_invocations_per_request=Decimal(0))
transfer_usage = Usage(
    write_units=7, read_units=Decimal(0), api_cpu_ms=(2.26,), authorizer_cpu_ms=(1.142,)
)


def _operation(
    cpu_ms: float, write_units: int = 0, reads: int = 0, item_bytes: tuple[int, ...] = ()
) -> OperationResult:
    calls = {"TransactWriteItems": 1} if write_units else {}
    if reads:
        calls["GetItem"] = reads
    return OperationResult(
        calls=calls,
        http_requests=sum(calls.values()),
        items_written=len(item_bytes),
        items_attempted=len(item_bytes),
        cpu_ms_median=cpu_ms,
        repetitions=1,
        consistent_reads=reads,
        item_bytes=item_bytes,
        write_units=write_units,
        write_units_floor=write_units,
    )


measured = {
    "transfer": _operation(1.86, write_units=7, item_bytes=(649, 701, 697)),
    "deposit": _operation(1.907, write_units=7, item_bytes=(637, 699, 596)),
    "hold": _operation(1.697, write_units=7, item_bytes=(635, 700, 605)),
    "confirm": _operation(2.923, write_units=9, reads=1, item_bytes=(691, 729, 705, 607)),
    "balance": _operation(1.128, reads=1),
}
api_cpu_ms = {"transfer": 0.4, "balance": 0.173, "authorizer": 0.014}


def test_seven_write_units_cost_four_dollars_375_per_million() -> None:
    # GIVEN an operation of 7 write units and no reads, with the authorizer's result cached
    # WHEN its DynamoDB cost is priced
    usd = dynamodb_usd(transfer_usage, prices, never_authorized)

    # THEN a million of them cost 7 x $0.625
    assert usd * per_million == Decimal("4.375")


def test_the_authorizer_adds_one_consistent_key_read_per_request() -> None:
    # GIVEN the same operation, the authorizer running on every request
    # WHEN it is priced
    usd = dynamodb_usd(transfer_usage, prices, deployment_default)

    # THEN its key read adds 1 read unit at $0.125 per million
    assert usd * per_million == Decimal("4.500")


@pytest.mark.parametrize(
    ("consistent", "eventual", "item_bytes", "units"),
    [
        (1, 0, 700, Decimal(1)),
        (0, 1, 700, Decimal("0.5")),
        (1, 0, 4096, Decimal(1)),
        (1, 0, 4097, Decimal(2)),
        (0, 1, 8192, Decimal(1)),
        (2, 1, 0, Decimal("2.5")),
    ],
)
def test_a_read_is_one_unit_per_started_4_kb_and_half_if_eventually_consistent(
    consistent: int, eventual: int, item_bytes: int, units: Decimal
) -> None:
    assert read_units(consistent, eventual, item_bytes) == units


@pytest.mark.parametrize(
    ("cpu_ms", "billed"),
    [(2.26, 3), (2.0, 2), (1.8 + 0.2, 2), (0.014, 1), (0.0, 1), (3.323, 4)],
)
def test_duration_is_billed_in_whole_milliseconds_rounded_up(cpu_ms: float, billed: int) -> None:
    assert billed_ms(cpu_ms) == billed


def test_an_invocation_is_its_gigabyte_seconds_and_its_request() -> None:
    # GIVEN 2.26 ms at 1024 MB and 1.142 ms at 256 MB
    # WHEN each is priced
    api = lambda_usd(2.26, 1024, prices) * per_million
    authorizer = lambda_usd(1.142, 256, prices) * per_million

    # THEN 3 ms x 1 GB and 2 ms x 0.25 GB at $0.0000133334 per GB-s, each plus $0.20 per million
    assert api == Decimal("0.003") * Decimal("0.0000133334") * per_million + Decimal("0.20")
    assert api == Decimal("0.2400002")
    assert authorizer == Decimal("0.0005") * Decimal("0.0000133334") * per_million + Decimal("0.20")
    # AND an operation's Lambda cost is both, the authorizer's only when it runs
    both = functions_usd(transfer_usage, prices, deployment_default) * per_million
    assert both == api + authorizer
    assert functions_usd(transfer_usage, prices, never_authorized) * per_million == api


def test_a_transfer_costs_its_parts_rounded_to_cents_and_their_sum() -> None:
    # GIVEN a transfer's usage
    # WHEN a million are priced, the authorizer running on every request
    cost = usage_cost(transfer_usage)

    # THEN DynamoDB is 7 WRU + 1 RRU, Lambda both functions, API Gateway $1.00 per million
    assert cost == {"dynamodb": 4.5, "lambda": 0.45, "api_gateway": 1.0, "total": 5.95}


def test_with_the_authorizer_cached_only_the_operation_is_billed() -> None:
    # GIVEN the authorizer's result always cached
    # WHEN a million transfers are priced
    cost = usage_cost(transfer_usage, deployment=never_authorized)

    # THEN $4.375 rounds half up to $4.38 and Lambda is the API function alone
    assert cost == {"dynamodb": 4.38, "lambda": 0.24, "api_gateway": 1.0, "total": 5.62}


def test_other_prices_and_memory_change_the_cost() -> None:
    # GIVEN the HTTP API's price after 300 million requests, and the API function at 2048 MB
    later = replace(prices, http_api_request_usd=Decimal("0.90") / per_million)
    larger = replace(deployment_default, api_memory_mb=2048)

    # WHEN a million transfers are priced
    cost = usage_cost(transfer_usage, later, larger)

    # THEN API Gateway is $0.90, and Lambda's 3 ms bill 2 GB each
    assert cost["api_gateway"] == 0.9
    assert cost["lambda"] == 0.49


def test_each_api_request_needs_its_authorizer_time() -> None:
    usage = replace(transfer_usage, authorizer_cpu_ms=())
    with pytest.raises(ValueError, match="one authorizer time"):
        usage_cost(usage)


def test_a_hold_and_its_confirm_are_priced_as_two_requests() -> None:
    # GIVEN measured operations and API CPU times
    # WHEN the priced operations are composed
    composed = usages(measured, api_cpu_ms)

    # THEN a hold and its confirm are two requests of their write and read units, each request
    # its operation's CPU plus the write route's, the authorizer's plus a GetItem's
    pair = composed["hold_confirm"]
    assert pair.requests == 2
    assert (pair.write_units, pair.read_units) == (16, Decimal(1))
    assert pair.api_cpu_ms == pytest.approx((2.097, 3.323))
    assert pair.authorizer_cpu_ms == pytest.approx((1.142, 1.142))
    # AND a deposit takes the write route's time, a balance the read route's
    assert composed["deposit"].api_cpu_ms == pytest.approx((2.307,))
    assert composed["balance"].api_cpu_ms == pytest.approx((1.301,))
    assert composed["balance"].read_units == Decimal(1)


def test_cost_per_million_prices_the_four_operations() -> None:
    # GIVEN measured operations and API CPU times
    # WHEN a million of each are priced
    cost = cost_per_million(measured, api_cpu_ms)

    # THEN each is its parts in USD: a hold and its confirm pay 16 WRU and 3 RRU ($10.375)
    assert list(cost) == ["transfer", "deposit", "hold_confirm", "balance"]
    assert cost["transfer"] == {"dynamodb": 4.5, "lambda": 0.45, "api_gateway": 1.0, "total": 5.95}
    assert cost["hold_confirm"] == {
        "dynamodb": 10.38,
        "lambda": 0.91,
        "api_gateway": 2.0,
        "total": 13.29,
    }
    assert cost["balance"] == {"dynamodb": 0.25, "lambda": 0.43, "api_gateway": 1.0, "total": 1.68}
