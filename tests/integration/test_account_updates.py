"""Account updates on DynamoDB Local, racing deposits: labels change, no deposit is lost."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from functools import partial
from typing import TYPE_CHECKING

import boto3
import pytest
from botocore.config import Config

from ledger.domain.errors import Conflict
from ledger.domain.model import Account, Entry
from ledger.local.dynamodb_local import credentials_dummy, region
from ledger.service import Ledger
from ledger.store.dynamodb import DynamoDBStore

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from ledger.local.dynamodb_local import DynamoDBLocal

threads = 8
pairs = 12
race_deadline_s = 60.0


@pytest.fixture
def ledger(dynamodb_local: DynamoDBLocal, local_table: str) -> Ledger:
    """A ledger whose client's connection pool fits every racing thread."""
    client: DynamoDBClient = boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_local.endpoint_url,
        region_name=region,
        aws_access_key_id=credentials_dummy,
        aws_secret_access_key=credentials_dummy,
        config=Config(max_pool_connections=threads + 2, retries={"max_attempts": 2}),
    )
    return Ledger(DynamoDBStore(local_table, client=client))


def test_renames_racing_deposits_lose_no_deposit(ledger: Ledger) -> None:
    # GIVEN a wallet
    book = ledger.create_ledger("Race").id
    wallet = ledger.create_account(book, "Wallet", "liability", "USD", metadata={"n": "0"})
    # WHEN 12 deposits of 1.00 and 12 renames (each with its metadata) race on it
    calls: list[Callable[[], Entry | Account]] = []
    for index in range(pairs):
        calls.append(partial(ledger.deposit, wallet.id, "1.00"))
        calls.append(
            partial(
                ledger.update_account,
                wallet.id,
                name=f"Wallet {index}",
                metadata={"n": str(index)},
            )
        )
    with ThreadPoolExecutor(max_workers=threads) as pool:
        futures = [pool.submit(call) for call in calls]
        _, not_done = wait(futures, timeout=race_deadline_s)
    assert not not_done, "the race did not finish before its deadline"
    done = [future for future in futures if not isinstance(future.exception(), Conflict)]
    failures = [future.exception() for future in done if future.exception() is not None]
    assert failures == []
    results = [future.result() for future in done]
    # THEN every deposit that succeeded is counted, and only deposits stepped the version
    credited = [result for result in results if isinstance(result, Entry)]
    final = ledger.get_account(wallet.id)
    assert (final.balance().posted, final.version) == (100 * len(credited), len(credited))
    # AND the account carries the name and metadata of one rename, together
    relabelled = {
        (result.name, result.metadata["n"]) for result in results if isinstance(result, Account)
    }
    assert (final.name, final.metadata["n"]) in relabelled
    assert final.name == f"Wallet {final.metadata['n']}"
