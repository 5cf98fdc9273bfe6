"""The DynamoDB client every part of the ledger uses, made from botocore alone."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import botocore.session
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient


def default_client() -> DynamoDBClient:
    """A DynamoDB client with bounded timeouts, created once per process.

    Made from a botocore session rather than boto3: boto3 also imports its S3 transfer
    machinery, which would add about half a second to every Lambda cold start.
    """
    config = Config(
        connect_timeout=2,
        read_timeout=5,
        retries={"max_attempts": 3, "mode": "standard"},
    )
    client = botocore.session.get_session().create_client("dynamodb", config=config)
    return cast("DynamoDBClient", client)
