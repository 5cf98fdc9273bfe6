"""A DynamoDB client's first calls, made at init and answered before they leave.

botocore builds much of a call on the first one of each operation: the operation's model
and shapes, its event names, the endpoint its rules resolve to for these parameters. A
primed client has done that work already, so a container restored from a snapshot (Lambda
SnapStart) starts its first request with it done. The calls stop at `before-call`, after
validation, endpoint resolution and serialization and before signing: no credentials are
needed, nothing is sent, no connection is opened.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.model import ListShape, MapShape, Shape, StructureShape

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

_answer_id = "ledger-priming"
_nesting_max = 2
_primed_key: dict[str, AttributeValueTypeDef] = {"pk": {"S": "PRIMING"}, "sk": {"S": "PRIMING"}}
# Every operation the API makes; the authorizer makes only the first.
api_operations = (
    "GetItem",
    "Query",
    "BatchGetItem",
    "TransactWriteItems",
    "UpdateItem",
    "PutItem",
)


def _calls(client: DynamoDBClient, table_name: str) -> dict[str, Callable[[], object]]:
    """One call of each operation, shaped as the store makes it, on `table_name`."""
    key = _primed_key
    return {
        "GetItem": partial(client.get_item, TableName=table_name, Key=key, ConsistentRead=True),
        "Query": partial(
            client.query,
            TableName=table_name,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": key["pk"]},
            Limit=1,
        ),
        "BatchGetItem": partial(
            client.batch_get_item,
            RequestItems={table_name: {"Keys": [key], "ConsistentRead": True}},
        ),
        "TransactWriteItems": partial(
            client.transact_write_items,
            TransactItems=[
                {
                    "ConditionCheck": {
                        "TableName": table_name,
                        "Key": key,
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                }
            ],
            ClientRequestToken="priming",
        ),
        "UpdateItem": partial(
            client.update_item,
            TableName=table_name,
            Key=key,
            UpdateExpression="SET #status = :status",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={":status": {"S": "PRIMING"}},
            ReturnValues="ALL_NEW",
        ),
        "PutItem": partial(
            client.put_item,
            TableName=table_name,
            Item={**key, "secret": {"B": b"PRIMING"}},
            ConditionExpression="attribute_not_exists(pk)",
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        ),
    }


def _answered(**_: Any) -> tuple[AWSResponse, dict[str, Any]]:
    """The reply to a priming call, given in place of sending it: an empty success."""
    return AWSResponse("https://priming.invalid", 200, HTTPHeaders(), None), {}


def _resolve(shape: Shape | None, path: tuple[str, ...] = ()) -> None:
    """Resolve `shape` and the shapes inside it, as a first request or reply would. botocore
    makes a new shape at each level of a recursive one (an attribute value holding a map of
    attribute values), so each is resolved to `_nesting_max` levels: an item's map of plain
    values, as the ledger's metadata is."""
    if shape is None or path.count(shape.name) >= _nesting_max:
        return
    inner: list[Shape] = []
    if isinstance(shape, StructureShape):
        inner = list(shape.members.values())
    elif isinstance(shape, ListShape):
        inner = [shape.member]
    elif isinstance(shape, MapShape):
        inner = [shape.key, shape.value]
    for each in inner:
        _resolve(each, (*path, shape.name))


def prime(client: DynamoDBClient, table_name: str, operations: Iterable[str]) -> None:
    """Make one call of each of `operations` on `client`, answered before it is signed, and
    resolve the shapes of every request and reply it can make: the call validates and
    serializes only its own parameters, and its answer is not parsed."""
    calls = _calls(client, table_name)
    model = client.meta.service_model
    events = client.meta.events
    # A `before-call` handler that returns a reply ends the call there; the stubs type
    # every handler as returning None.
    events.register_first(
        "before-call.dynamodb",
        _answered,  # type: ignore[arg-type]
        unique_id=_answer_id,
    )
    try:
        for operation in operations:
            calls[operation]()
            operation_model = model.operation_model(operation)
            _resolve(operation_model.input_shape)
            _resolve(operation_model.output_shape)
    finally:
        events.unregister("before-call.dynamodb", unique_id=_answer_id)
