"""The stack's table is the table of `table_definition`: same keys, indexes, stream, billing."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template
from stack_synthesis import Synthesis, source_code

from infra import app as infra_app
from infra import table as infra_table
from infra.app import AssetsMissing, built_asset, main, stack_name
from infra.stack import LedgerStack
from ledger.store.dynamodb.table import table_definition

Resource = dict[str, Any]

# One pytest worker synthesizes the stack once, rather than each worker on its own.
pytestmark = pytest.mark.xdist_group("cdk")


@pytest.fixture(scope="module")
def template(ledger_stack: Synthesis) -> Template:
    """The ledger stack, synthesized once with cdk.json's feature flags (jsii is slow)."""
    return Template.from_json(ledger_stack.template)


@pytest.fixture(scope="module")
def table(template: Template) -> Resource:
    """The one DynamoDB table of the stack, as CloudFormation resource."""
    tables = template.find_resources("AWS::DynamoDB::Table")
    assert len(tables) == 1
    (resource,) = tables.values()
    return dict(resource)


@pytest.fixture(scope="module")
def definition() -> dict[str, Any]:
    """What the local runtime passes to CreateTable."""
    return table_definition("ledger")


def by_name(items: list[dict[str, Any]], field: str) -> list[dict[str, Any]]:
    """Items in the order of one of their fields, since CloudFormation order carries no meaning."""
    return sorted(items, key=lambda item: str(item[field]))


def test_key_schema_is_the_definitions(table: Resource, definition: dict[str, Any]) -> None:
    # GIVEN the synthesized table WHEN its primary key is read
    key_schema = table["Properties"]["KeySchema"]
    # THEN it is the local table's key schema, partition key first
    assert key_schema == definition["KeySchema"]


def test_attribute_definitions_are_the_definitions(
    table: Resource, definition: dict[str, Any]
) -> None:
    # GIVEN the synthesized table WHEN its attribute definitions are read
    attributes = table["Properties"]["AttributeDefinitions"]
    # THEN they declare the same names with the same types as the local table
    expected = definition["AttributeDefinitions"]
    assert by_name(attributes, "AttributeName") == by_name(expected, "AttributeName")


def test_global_secondary_indexes_are_the_definitions(
    table: Resource, definition: dict[str, Any]
) -> None:
    # GIVEN the synthesized table WHEN its indexes are read
    indexes = table["Properties"]["GlobalSecondaryIndexes"]
    # THEN each index has the local table's name, keys and projection, and no more
    expected = definition["GlobalSecondaryIndexes"]
    assert by_name(indexes, "IndexName") == by_name(expected, "IndexName")


def test_stream_and_billing_are_the_definitions(
    table: Resource, definition: dict[str, Any]
) -> None:
    # GIVEN the synthesized table
    properties = table["Properties"]
    # WHEN its stream and billing are read THEN they are the local table's
    expected_stream = definition["StreamSpecification"]
    assert expected_stream["StreamEnabled"] is True
    assert properties["StreamSpecification"] == {
        "StreamViewType": expected_stream["StreamViewType"]
    }
    assert properties["BillingMode"] == definition["BillingMode"] == "PAY_PER_REQUEST"
    assert "ProvisionedThroughput" not in properties


def test_table_is_protected_recoverable_and_encrypted(table: Resource) -> None:
    # GIVEN the synthesized table
    properties = table["Properties"]
    # WHEN its protections are read
    # THEN it restores to any second, refuses DeleteTable and is encrypted at rest
    assert properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert properties["DeletionProtectionEnabled"] is True
    assert properties["SSESpecification"]["SSEEnabled"] is True


def test_table_outlives_its_stack(table: Resource) -> None:
    # GIVEN the synthesized table
    # WHEN the stack is deleted or the table replaced THEN CloudFormation keeps the table
    assert table["DeletionPolicy"] == "Retain"
    assert table["UpdateReplacePolicy"] == "Retain"


def test_table_is_named_by_cloudformation_and_exported(template: Template, table: Resource) -> None:
    # GIVEN the synthesized stack
    outputs = template.find_outputs("TableName")
    # WHEN the table's name is looked for
    # THEN CloudFormation generates it and the stack outputs it for DynamoDBStore(table_name)
    assert "TableName" not in table["Properties"]
    (logical_id,) = template.find_resources("AWS::DynamoDB::Table")
    assert outputs["TableName"]["Value"] == {"Ref": logical_id}


def test_definition_field_without_translation_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a table definition that grew a field the construct does not translate
    def grown_definition(table_name: str) -> dict[str, Any]:
        return {**table_definition(table_name), "TableClass": "STANDARD_INFREQUENT_ACCESS"}

    monkeypatch.setattr(infra_table, "table_definition", grown_definition)
    # WHEN the stack is built THEN it refuses, rather than deploy a table unlike the local one
    with pytest.raises(ValueError, match="TableClass"):
        LedgerStack(cdk.App(), "LedgerGrown", code=source_code)


def test_app_writes_the_same_table_to_the_assembly_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, table: Resource
) -> None:
    # GIVEN the CLI's assembly directory is a fresh folder, and the functions' code
    monkeypatch.setenv("CDK_OUTDIR", str(tmp_path))
    monkeypatch.setattr(infra_app, "built_asset", source_code)
    # WHEN the app entry point runs, as `cdk synth` runs it
    main()
    # THEN the folder holds the stack's template, with the table the stack defines
    written = json.loads((tmp_path / f"{stack_name}.template.json").read_text())
    tables = [
        resource
        for resource in written["Resources"].values()
        if resource["Type"] == "AWS::DynamoDB::Table"
    ]
    assert tables == [table]


def test_app_refuses_to_synthesize_before_the_assets_are_built(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # GIVEN an assets folder that `make assets` has not filled
    monkeypatch.setattr(infra_app, "lambda_output_dir", tmp_path)
    # WHEN a function's code is asked for THEN the answer says how to build it
    with pytest.raises(AssetsMissing, match="make assets"):
        built_asset("api")
