"""Client route for statement matching (docs/reconciliation.md)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from ledger.client.base import ClientBase, amount_text, moment_text, present
from ledger.client.decode import Json
from ledger.client.transport import Call, path
from ledger.domain.matches import StatementMatchRun


class MatchesClient(ClientBase):
    """Matching an outside statement's rows with an account's entries."""

    def match_statement(
        self,
        ledger_id: str,
        account_id: str,
        source: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        rules: Mapping[str, Any] | None = None,
        dry_run: bool = False,
    ) -> StatementMatchRun:
        """Match the rows (`id`, `amount` a Decimal or decimal string signed as the account
        sees it, `date` an aware datetime or RFC 3339 text, `reference?`, `description?`).
        A recording run is never sent twice: a retry would answer its own matches as
        already matched."""
        body = present(
            account_id=account_id,
            source=source,
            rows=[_row(row) for row in rows],
            rules=None if rules is None else _rules(rules),
            dry_run=dry_run,
        )
        call = Call(
            "POST",
            path("ledgers", ledger_id, "statement-matches"),
            body=body,
            repeatable=dry_run,
        )
        return statement_match_run(self._send(call), account_id, source)


def _row(row: Mapping[str, Any]) -> dict[str, Any]:
    shown = dict(row)
    if "amount" in shown:
        shown["amount"] = amount_text(shown["amount"])
    if isinstance(shown.get("date"), datetime):
        shown["date"] = moment_text(shown["date"], "date")
    return shown


def _rules(rules: Mapping[str, Any]) -> dict[str, Any]:
    shown = dict(rules)
    if isinstance(shown.get("match_on"), frozenset | set):
        shown["match_on"] = sorted(shown["match_on"])
    if isinstance(shown.get("amount_tolerance"), Decimal):
        shown["amount_tolerance"] = amount_text(shown["amount_tolerance"], "amount_tolerance")
    return shown


def statement_match_run(body: Json, account_id: str, source: str) -> StatementMatchRun:
    """A run of the contract."""
    return StatementMatchRun(
        run_id=body["run_id"],
        account_id=account_id,
        source=source,
        matched=tuple((item["external_id"], tuple(item["entry_ids"])) for item in body["matched"]),
        unmatched_external=tuple(body["unmatched_external"]),
        unmatched_entries=tuple(body["unmatched_entries"]),
        already_matched=tuple(body["already_matched"]),
        dry_run=body["dry_run"],
    )
