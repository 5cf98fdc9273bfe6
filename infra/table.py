"""The ledger's DynamoDB table, built from the definition the local runtime creates."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from ledger.store.dynamodb.table import table_definition

attribute_types = {
    "S": dynamodb.AttributeType.STRING,
    "N": dynamodb.AttributeType.NUMBER,
    "B": dynamodb.AttributeType.BINARY,
}

# The CreateTable fields this construct turns into CDK properties. A field outside this set
# would be dropped without a word, and the deployed table would differ from the local one.
translated_fields = frozenset(
    {
        "TableName",
        "BillingMode",
        "AttributeDefinitions",
        "KeySchema",
        "GlobalSecondaryIndexes",
        "StreamSpecification",
    }
)

# CloudFormation names the table unless the caller does: a fixed name would stop the stack
# from ever replacing the table, and a retained table would block recreating the stack.
unnamed = ""


def key_attributes(
    key_schema: list[dict[str, str]], types: dict[str, dynamodb.AttributeType]
) -> tuple[dynamodb.Attribute, dynamodb.Attribute | None]:
    """The partition key and the optional sort key of a CreateTable KeySchema."""
    roles = {key["KeyType"]: key["AttributeName"] for key in key_schema}
    if len(roles) != len(key_schema) or not set(roles) <= {"HASH", "RANGE"} or "HASH" not in roles:
        raise ValueError(f"key schema needs one HASH and at most one RANGE key: {key_schema}")
    partition_key = dynamodb.Attribute(name=roles["HASH"], type=types[roles["HASH"]])
    if "RANGE" not in roles:
        return partition_key, None
    return partition_key, dynamodb.Attribute(name=roles["RANGE"], type=types[roles["RANGE"]])


def stream_view_type(specification: dict[str, Any] | None) -> dynamodb.StreamViewType | None:
    """The stream a CreateTable StreamSpecification asks for, or None for no stream."""
    if specification is None or not specification["StreamEnabled"]:
        return None
    return dynamodb.StreamViewType(specification["StreamViewType"])


class LedgerTable(Construct):
    """The one table: on-demand, streamed, recoverable to the second, never deleted by a stack."""

    def __init__(
        self, scope: Construct, construct_id: str, *, table_name: str | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        definition = table_definition(table_name or unnamed)
        untranslated = set(definition) - translated_fields
        if untranslated:
            raise ValueError(f"table definition fields with no CDK translation: {untranslated}")
        types = {
            attribute["AttributeName"]: attribute_types[attribute["AttributeType"]]
            for attribute in definition["AttributeDefinitions"]
        }
        partition_key, sort_key = key_attributes(definition["KeySchema"], types)
        self.table = dynamodb.Table(
            self,
            "Table",
            table_name=table_name,
            partition_key=partition_key,
            sort_key=sort_key,
            billing_mode=dynamodb.BillingMode(definition["BillingMode"]),
            stream=stream_view_type(definition.get("StreamSpecification")),
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            deletion_protection=True,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            # Financial records outlive any stack: deleting the stack leaves the table behind.
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        for index in definition.get("GlobalSecondaryIndexes", []):
            index_partition_key, index_sort_key = key_attributes(index["KeySchema"], types)
            projection = index["Projection"]
            self.table.add_global_secondary_index(
                index_name=index["IndexName"],
                partition_key=index_partition_key,
                sort_key=index_sort_key,
                projection_type=dynamodb.ProjectionType(projection["ProjectionType"]),
                non_key_attributes=projection.get("NonKeyAttributes"),
            )
