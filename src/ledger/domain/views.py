"""The public JSON objects of the ledger's records, as API.md fixes them: what the API
answers and what the events carry, built from the domain alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from ledger.domain.external import ExternalCheck
from ledger.domain.ids import parse_account_id
from ledger.domain.model import (
    Account,
    Actor,
    Balance,
    Entry,
    LedgerRecord,
    Page,
    actor_fields,
)
from ledger.domain.money import Currency, format_amount
from ledger.domain.monitors import Monitor
from ledger.domain.results import Reconciliation

T = TypeVar("T")


def moment(value: datetime) -> str:
    """RFC 3339 in UTC with a `Z`."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def ledger_view(record: LedgerRecord) -> dict[str, Any]:
    """A ledger as the API shows it."""
    return {
        "id": record.id,
        "name": record.name,
        "owner_id": record.owner_id,
        "metadata": dict(record.metadata),
        "currencies": dict(record.currencies),
        "world_shards": record.world_shards,
        "created_at": moment(record.created_at),
    }


def balance_view(balance: Balance) -> dict[str, Any]:
    """A balance object, every amount with exactly the currency's scale."""
    currency = balance.currency
    return {
        "account_id": balance.account_id,
        "currency": currency.code,
        "posted": format_amount(balance.posted, currency),
        "pending_in": format_amount(balance.pending_in, currency),
        "pending_out": format_amount(balance.pending_out, currency),
        "held": format_amount(balance.held, currency),
        "escrowed": format_amount(balance.escrowed, currency),
        "available": format_amount(balance.available, currency),
        "credit_limit": format_amount(balance.credit_limit, currency),
        "credit_used": format_amount(balance.credit_used, currency),
        "spendable": format_amount(balance.spendable, currency),
        "total_in": format_amount(balance.total_in, currency),
        "total_out": format_amount(balance.total_out, currency),
        "version": balance.version,
        "as_of": moment(balance.as_of),
        **{
            name: moment(value)
            for name, value in (("at", balance.at), ("effective_at", balance.effective_at))
            if value is not None
        },
    }


def account_view(account: Account) -> dict[str, Any]:
    """An account with its balance."""
    return {
        "id": account.id,
        "ledger_id": account.ledger_id,
        "name": account.name,
        "type": account.type.value,
        "normal_balance": account.normal_balance.value,
        "currency": account.currency.code,
        "code": account.code,
        "parent_id": account.parent_id,
        "owner_id": account.owner_id,
        "status": account.status.value,
        "overdraft": {
            "mode": account.overdraft.mode.value,
            "limit": format_amount(account.overdraft.credit_limit, account.currency),
        },
        "metadata": dict(account.metadata),
        "system": account.system,
        "shards": account.shards,
        "created_at": moment(account.created_at),
        "updated_at": moment(account.updated_at),
        "balance": balance_view(account.balance()),
    }


def entry_view(entry: Entry) -> dict[str, Any]:
    """An entry; links that do not exist (yet) are null."""
    view: dict[str, Any] = {
        "id": entry.id,
        "ledger_id": entry.ledger_id,
        "kind": entry.kind.value,
        "status": entry.status.value,
        "lines": [
            {
                "account_id": line.account_id,
                "side": line.side.value,
                "amount": format_amount(line.amount, parse_account_id(line.account_id).currency),
                "currency": line.currency,
            }
            for line in entry.lines
        ],
        "description": entry.description,
        "reference": entry.reference,
        "metadata": dict(entry.metadata),
        "effective_at": moment(entry.effective_at),
        "created_at": moment(entry.created_at),
    }
    view["expires_at"] = None if entry.expires_at is None else moment(entry.expires_at)
    view["pending_id"] = entry.pending_id
    view["posting_entry_id"] = entry.posting_entry_id
    view["reverses"] = entry.reverses
    view["reversed_by"] = entry.reversed_by
    currency = parse_account_id(entry.lines[0].account_id).currency
    view["posted_amount"] = _amount_or_none(entry.posted_amount, currency)
    view["released_amount"] = _amount_or_none(entry.released_amount, currency)
    view["actor"] = None if entry.actor is None else actor_view(entry.actor)
    origin = entry.posting_rule
    view["posting_rule"] = (
        None
        if origin is None
        else {
            "event_type": origin.event_type,
            "version": origin.version,
            "event_id": origin.event_id,
        }
    )
    return view


def actor_view(actor: Actor) -> dict[str, str | None]:
    """Who caused an entry, every field present (null where unknown)."""
    return {name: getattr(actor, name) for name in actor_fields}


def _amount_or_none(amount: int | None, currency: Currency) -> str | None:
    return None if amount is None else format_amount(amount, currency)


def page_view(page: Page[T], render: Callable[[T], dict[str, Any]]) -> dict[str, Any]:
    """A page of items rendered one by one."""
    return {"items": [render(item) for item in page.items], "next_cursor": page.next_cursor}


def reconciliation_view(report: Reconciliation) -> dict[str, Any]:
    """A reconciliation as the API shows it."""
    return {
        "ledger_id": report.ledger_id,
        "ok": report.ok,
        "accounts_checked": report.accounts_checked,
        "entries_checked": report.entries_checked,
        "mismatches": [
            {
                "account_id": mismatch.account_id,
                "field": mismatch.field,
                "expected": mismatch.rendered(mismatch.expected),
                "actual": mismatch.rendered(mismatch.actual),
                "kind": mismatch.kind,
                "shard": mismatch.shard,
                "missing_versions": list(mismatch.missing_versions),
            }
            for mismatch in report.mismatches
        ],
        "totals": {
            code: {
                "posted_debits": format_amount(totals.posted_debits, totals.currency),
                "posted_credits": format_amount(totals.posted_credits, totals.currency),
                "pending_debits": format_amount(totals.pending_debits, totals.currency),
                "pending_credits": format_amount(totals.pending_credits, totals.currency),
                "balanced": totals.balanced,
                "escrowed": format_amount(totals.escrowed, totals.currency),
                "available": format_amount(totals.available, totals.currency),
            }
            for code, totals in report.totals.items()
        },
        "as_of": moment(report.as_of),
        "checks": list(report.checks),
    }


def monitor_view(monitor: Monitor) -> dict[str, Any]:
    """A monitor, with the account version its state is of."""
    return {
        "id": monitor.id,
        "account_id": monitor.account_id,
        "ledger_id": monitor.ledger_id,
        "field": monitor.field.value,
        "operator": monitor.operator.value,
        "value": monitor.value,
        "description": monitor.description,
        "state": monitor.state.value,
        "version": monitor.evaluated_version,
        "created_at": moment(monitor.created_at),
    }


def external_check_view(check: ExternalCheck) -> dict[str, Any]:
    """An external balance check: the contract's fields, then the tolerance, when and by
    whom it was checked, and the accounts it counted (by id or by type)."""
    currency = check.currency
    return {
        "id": check.id,
        "source": check.source,
        "currency": currency.code,
        "external": format_amount(check.external, currency),
        "ledger_total": format_amount(check.ledger_total, currency),
        "difference": format_amount(check.difference, currency),
        "within_tolerance": check.within_tolerance,
        "accounts_counted": check.accounts_counted,
        "as_of": moment(check.as_of),
        "tolerance": format_amount(check.tolerance, currency),
        "checked_at": moment(check.checked_at),
        "account_ids": None if check.account_ids is None else list(check.account_ids),
        "account_type": None if check.account_type is None else check.account_type.value,
        "checked_by": check.actor,
    }
