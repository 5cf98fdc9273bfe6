"""Statement matching against the store: the rows of an outside statement checked, the
account's entries that moved its posted balance within the rows' dates read from its
effective-time history, paired by the pure matcher, and the matches recorded so that no
row and no entry is matched twice across runs (docs/reconciliation.md, ADR 0030)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from ledger.domain import limits, validate
from ledger.domain.errors import (
    LedgerMismatch,
    MatchesNotKept,
    NotFound,
    ReportTooLarge,
    ValidationError,
)
from ledger.domain.ids import ledger_token, new_match_run_id, parse_account_id
from ledger.domain.matches import MatchRecord, StatementMatchRun
from ledger.domain.model import Account, Actor, Entry, EntryKind, Side
from ledger.domain.money import Currency, parse_amount
from ledger.planning.deltas import entry_deltas, posting_deltas
from ledger.planning.history import pending_of_postings, release_kinds
from ledger.planning.steps import Target
from ledger.reporting.matching import Candidate, MatchResult, MatchRules, StatementRow, match
from ledger.service.base import LedgerBase
from ledger.service.history import merged, require_history
from ledger.store.history import HistoryQuery, at_or_before, from_moment
from ledger.store.matches import KeepsStatementMatches

row_fields = frozenset({"id", "amount", "date", "reference", "description"})
rule_fields = frozenset({"match_on", "date_tolerance_s", "amount_tolerance", "strategy"})
# RFC 3339: a full date, a time with seconds, and a zone (Z or an offset).
_rfc3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})$")
_zero = re.compile(r"^0+(\.0+)?$")


class StatementMatches(LedgerBase):
    """Matching the rows of outside statements with the entries of accounts."""

    def match_statement(
        self,
        ledger_id: str,
        account_id: str,
        source: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        rules: Mapping[str, Any] | None = None,
        dry_run: bool = False,
        actor: Actor | None = None,
    ) -> StatementMatchRun:
        """Match the rows of `source`'s statement with the account's entries by `rules`.
        A row's `amount` is a decimal string signed as the account sees it (+ raises its
        balance), its `date` an RFC 3339 time compared with the entries' `effective_at`.
        Unless `dry_run`, the matches are recorded; a dry run records nothing and answers
        what the run would."""
        store = self._match_store()
        name = validate.source_name("source", source)
        ledger_token(ledger_id)
        account_ref = parse_account_id(account_id)
        statement = _rows(rows, account_ref.currency)
        chosen = _rules(rules, account_ref.currency)
        who = validate.actor(actor)
        if account_ref.ledger_id != ledger_id:
            raise LedgerMismatch(
                "the account belongs to another ledger",
                {"account_id": account_id, "ledger_id": ledger_id},
            )
        account = self._store.get(Target("account", account_id), Account)
        if account is None:
            raise NotFound("account", account_id)
        require_history(self._store)
        candidates = self._candidates(account, statement, chosen)
        taken_rows = store.matched_rows(ledger_id, account_id, name, [row.id for row in statement])
        taken_entries = store.matched_entries(
            ledger_id, account_id, [candidate.entry_id for candidate in candidates]
        )
        result = match(statement, candidates, chosen, taken_rows, taken_entries)
        run_id = new_match_run_id()
        if dry_run or not result.matched:
            return _run(run_id, account_id, name, result, dry_run)
        now = self._clock()
        records = [
            MatchRecord(ledger_id, account_id, name, row_id, entry_ids, run_id, now, who)
            for row_id, entry_ids in result.matched
        ]
        refused = store.record_matches(records)
        if not refused:
            return _run(run_id, account_id, name, result, dry_run)
        # A match another run recorded first: its row is matched already, or it stays
        # unmatched here; its entries that run did not take are free again.
        order = {candidate.entry_id: candidate for candidate in candidates}
        freed = [
            entry_id
            for row_id, entry_ids in result.matched
            if row_id in refused
            for entry_id in entry_ids
            if entry_id not in refused[row_id].entries_taken
        ]
        unmatched_entries = sorted(
            [*result.unmatched_entries, *freed],
            key=lambda entry_id: (order[entry_id].effective_at, entry_id),
        )
        rows_taken = {row_id for row_id, refusal in refused.items() if refusal.row_taken}
        unmatched_rows = {row_id for row_id in refused if row_id not in rows_taken}
        by_position = {row.id: (row.date, row.id) for row in statement}
        return StatementMatchRun(
            run_id=run_id,
            account_id=account_id,
            source=name,
            matched=tuple(each for each in result.matched if each[0] not in refused),
            unmatched_external=tuple(
                sorted([*result.unmatched_rows, *unmatched_rows], key=by_position.__getitem__)
            ),
            unmatched_entries=tuple(unmatched_entries),
            already_matched=tuple(
                sorted([*result.already_matched, *rows_taken], key=by_position.__getitem__)
            ),
            dry_run=False,
        )

    def _candidates(
        self, account: Account, rows: list[StatementRow], rules: MatchRules
    ) -> list[Candidate]:
        """The entries that moved the account's posted balance, effective within the rows'
        dates widened by the date tolerance, each with its signed amount on the account."""
        tolerance = timedelta(seconds=rules.date_tolerance_s)
        low = min(row.date for row in rows) - tolerance
        high = max(row.date for row in rows) + tolerance
        query = HistoryQuery(
            "effective",
            limit=limits.statement_candidates_max + 1,
            low=from_moment(low),
            high=at_or_before(high),
        )
        records = merged(self._store, account.id, query)
        if len(records) > limits.statement_candidates_max:
            raise ReportTooLarge(
                f"the rows' dates span more than {limits.statement_candidates_max} changes "
                "of the account; match the statement in parts of fewer days",
                {"records_max": limits.statement_candidates_max},
            )
        entry_ids = list(
            dict.fromkeys(
                entry_id
                for _, record in records
                if record.kind not in release_kinds
                for entry_id in record.entry_ids
            )
        )
        entries = self._store.entries(entry_ids)
        pending = self._store.entries(pending_of_postings(entries))
        found: list[Candidate] = []
        for entry_id in entry_ids:
            entry = entries[entry_id]
            amount = _posted_on(account, entry, pending)
            if amount and low <= entry.effective_at <= high:
                found.append(Candidate(entry.id, amount, entry.effective_at, entry.reference))
        return found

    def _match_store(self) -> KeepsStatementMatches:
        store = self._store
        if not isinstance(store, KeepsStatementMatches):
            raise MatchesNotKept("this store keeps no statement matches")
        return store


def _posted_on(account: Account, entry: Entry, pending: Mapping[str, Entry]) -> int:
    """What the entry moved the account's posted balance by, + raising it."""
    if entry.kind is EntryKind.POST and entry.pending_id is not None:
        deltas = posting_deltas(pending[entry.pending_id], entry, entry.created_at)
    else:
        deltas = entry_deltas(entry, entry.created_at)
    debits = sum(
        delta.totals.posted_debits - delta.totals.posted_credits
        for delta in deltas
        if delta.account_id == account.id
    )
    return debits if account.normal_balance is Side.DEBIT else -debits


def _run(
    run_id: str, account_id: str, source: str, result: MatchResult, dry_run: bool
) -> StatementMatchRun:
    return StatementMatchRun(
        run_id=run_id,
        account_id=account_id,
        source=source,
        matched=result.matched,
        unmatched_external=result.unmatched_rows,
        unmatched_entries=result.unmatched_entries,
        already_matched=result.already_matched,
        dry_run=dry_run,
    )


def _rows(rows: object, currency: Currency) -> list[StatementRow]:
    """The statement's rows, checked: 1 to `limits.statement_rows_max`, ids unique."""
    if not isinstance(rows, Sequence) or isinstance(rows, str) or not rows:
        raise ValidationError("rows", "rows must be a list of at least one row")
    if len(rows) > limits.statement_rows_max:
        error = ValidationError("rows", f"at most {limits.statement_rows_max} rows per request")
        error.details["limit"] = limits.statement_rows_max
        raise error
    parsed: list[StatementRow] = []
    seen: set[str] = set()
    for index, row in enumerate(rows):
        checked = _row(f"rows[{index}]", row, currency)
        if checked.id in seen:
            raise ValidationError(f"rows[{index}].id", f"row id {checked.id!r} is given twice")
        seen.add(checked.id)
        parsed.append(checked)
    return parsed


def _row(name: str, row: object, currency: Currency) -> StatementRow:
    if not isinstance(row, Mapping):
        raise ValidationError(name, f"{name} must be an object")
    unknown = sorted(str(key) for key in row if key not in row_fields)
    if unknown:
        raise ValidationError(f"{name}.{unknown[0]}", f"{name} has no field {unknown[0]!r}")
    return StatementRow(
        id=validate.text(f"{name}.id", row.get("id"), limits.statement_row_id_length_max),
        amount=_signed_amount(f"{name}.amount", row.get("amount"), currency),
        date=_date(f"{name}.date", row.get("date")),
        reference=validate.optional_text(
            f"{name}.reference", row.get("reference"), limits.reference_length_max
        ),
        description=validate.optional_text(
            f"{name}.description", row.get("description"), limits.description_length_max
        ),
    )


def _signed_amount(name: str, value: object, currency: Currency) -> int:
    """A decimal string in the currency's scale, negative with a leading `-`, never zero."""
    if isinstance(value, str) and value.startswith("-"):
        return -parse_amount(value[1:], currency, name)
    return parse_amount(value, currency, name)


def _date(name: str, value: object) -> datetime:
    """An RFC 3339 time with its zone (or an aware datetime), in UTC."""
    if isinstance(value, str):
        if not _rfc3339.fullmatch(value):
            raise ValidationError(name, f"{name} must be an RFC 3339 time with a zone")
        try:
            value = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError(name, f"{name} is not a valid time") from None
    moment = validate.moment(name, value)
    if moment is None:
        raise ValidationError(name, f"{name} is required")
    return moment


def _rules(rules: Mapping[str, Any] | None, currency: Currency) -> MatchRules:
    """The matcher's rules from their loose form; the defaults where a field is absent."""
    if rules is None:
        return MatchRules()
    if not isinstance(rules, Mapping):
        raise ValidationError("rules", "rules must be an object")
    unknown = sorted(str(key) for key in rules if key not in rule_fields)
    if unknown:
        raise ValidationError(f"rules.{unknown[0]}", f"rules has no field {unknown[0]!r}")
    chosen = MatchRules()
    match_on = rules.get("match_on", sorted(chosen.match_on))
    if not isinstance(match_on, Sequence) or isinstance(match_on, str):
        raise ValidationError("rules.match_on", "rules.match_on must be a list of fields")
    if not all(isinstance(each, str) for each in match_on):
        raise ValidationError("rules.match_on", "rules.match_on must be a list of fields")
    seconds = rules.get("date_tolerance_s", chosen.date_tolerance_s)
    if isinstance(seconds, bool) or not isinstance(seconds, int):
        raise ValidationError("rules.date_tolerance_s", "must be a whole number of seconds")
    strategy = rules.get("strategy", chosen.strategy)
    if not isinstance(strategy, str):
        raise ValidationError("rules.strategy", "rules.strategy must be a string")
    return MatchRules(
        match_on=frozenset(match_on),
        date_tolerance_s=seconds,
        amount_tolerance=_tolerance(rules.get("amount_tolerance", "0"), currency),
        strategy=strategy,
    )


def _tolerance(value: object, currency: Currency) -> int:
    """A decimal string in the currency's scale, zero allowed."""
    if isinstance(value, str) and _zero.fullmatch(value):
        return 0
    return parse_amount(value, currency, "rules.amount_tolerance")
