"""The DynamoDB client every part of the ledger uses, made from botocore alone."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import botocore.session
from botocore.config import Config

from ledger.domain import limits

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


def default_client(*, attempts_max: int = 1, region: str | None = None) -> DynamoDBClient:
    """A DynamoDB client with bounded timeouts, created once per process.

    By default botocore retries nothing itself: the store does, within its deadline, so one
    call lasts at most its connect and read timeouts. A caller without such a loop (the
    authorizer's key lookup) asks for botocore's own bounded retries instead. Made from a
    botocore session rather than boto3: boto3 also imports its S3 transfer machinery, which
    would add about half a second to every Lambda cold start. Without `region`, the
    region is the environment's (as in Lambda).
    """
    config = Config(
        connect_timeout=limits.dynamodb_connect_timeout_ms / 1000,
        read_timeout=limits.dynamodb_read_timeout_ms / 1000,
        retries={"total_max_attempts": attempts_max, "mode": "standard"},
    )
    client = botocore.session.get_session().create_client(
        "dynamodb", region_name=region, config=config
    )
    return cast("DynamoDBClient", client)
