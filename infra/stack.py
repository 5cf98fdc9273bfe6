"""The ledger's one stack: one construct per concern (so far: the table)."""

from __future__ import annotations

import aws_cdk as cdk
from constructs import Construct

from infra.table import LedgerTable


class LedgerStack(cdk.Stack):
    """Everything the ledger needs in one account and region."""

    def __init__(
        self, scope: Construct, construct_id: str, *, env: cdk.Environment | None = None
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=env,
            description="Serverless Ledger: a double-entry ledger on one DynamoDB table",
        )
        # Construct ids are part of every logical id: renaming "Table" would replace the table.
        self.ledger_table = LedgerTable(self, "Table")
        cdk.CfnOutput(
            self,
            "TableName",
            value=self.ledger_table.table.table_name,
            description="The ledger table, for DynamoDBStore(table_name)",
        )
