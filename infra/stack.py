"""The ledger's one stack: one construct per concern, wired together here."""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.functions import ColdStart, LedgerFunctions
from infra.settings import Settings
from infra.table import LedgerTable
from ledger.environment import expiring_notice_variable
from ledger.jobs.external_balances_function import checks_variable


class LedgerStack(cdk.Stack):
    """Everything the ledger needs in one account and region."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        code: Callable[[str], lambda_.Code],
        settings: Settings | None = None,
        env: cdk.Environment | None = None,
    ) -> None:
        super().__init__(
            scope,
            construct_id,
            env=env,
            description="Serverless Ledger: a double-entry ledger on one DynamoDB table",
        )
        chosen = settings or Settings.from_context(self.node.try_get_context)
        # Construct ids are part of every logical id: renaming "Table" would replace the table.
        self.ledger_table = LedgerTable(self, "Table")
        table = self.ledger_table.table
        environment: dict[str, dict[str, str]] = {}
        if chosen.expiring_notice_s is not None:
            environment["expiry"] = {expiring_notice_variable: str(chosen.expiring_notice_s)}
        if chosen.external_checks is not None:
            environment["external_balances"] = {checks_variable: chosen.external_checks}
        self.functions = LedgerFunctions(
            self,
            "Functions",
            table=table,
            code=code,
            cold_start=ColdStart(provisioned=chosen.provisioned_concurrency),
            log_level=chosen.log_level,
            log_retention=chosen.log_retention,
            environment=environment,
        )
        cdk.CfnOutput(
            self,
            "TableName",
            value=table.table_name,
            description="The ledger table, for DynamoDBStore(table_name)",
        )
