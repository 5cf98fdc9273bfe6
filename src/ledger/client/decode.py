"""The API's JSON answers back into the library's own types.

Amounts return to integer minor units exactly. The scale comes from what the answer itself
carries: an account's id names its currency and scale (ADR 0001), so a balance, an account
or an entry line is decoded with the scale of its account; a report's totals, which belong
to no account, with the scale the API rendered them in (it writes every amount with exactly
its currency's digits after the point). Fields the API does not show (an account's last
entry, the request hash of a record) are left empty.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

from ledger.domain.ids import parse_account_id
from ledger.domain.model import (
    Account,
    AccountStatus,
    AccountType,
    Actor,
    Balance,
    Entry,
    EntryKind,
    EntryStatus,
    LedgerRecord,
    Line,
    Overdraft,
    OverdraftMode,
    Page,
    RuleOrigin,
    Side,
    Totals,
    actor_fields,
)
from ledger.domain.money import Currency
from ledger.domain.results import (
    BalanceSheet,
    BalanceSheetNode,
    BatchResult,
    CurrencyTotals,
    Mismatch,
    Reconciliation,
    TrialBalance,
    TrialBalanceLine,
    counted_fields,
)

T = TypeVar("T")
Json = Mapping[str, Any]


def minor(text: object, currency: Currency) -> int:
    """An amount in minor units; an amount finer than the currency's scale is refused."""
    units = Decimal(str(text)).scaleb(currency.scale)
    if units != units.to_integral_value():
        raise ValueError(f"{text} has more digits than {currency.code} has")
    return int(units)


def moment(text: str) -> datetime:
    """An RFC 3339 time of the API."""
    return datetime.fromisoformat(text)


def _optional_moment(text: str | None) -> datetime | None:
    return None if text is None else moment(text)


def _optional_minor(text: object, currency: Currency) -> int | None:
    return None if text is None else minor(text, currency)


def _rendered(code: str, sample: object) -> Currency:
    """A currency whose scale is the number of digits the API wrote after the point."""
    exponent = Decimal(str(sample)).as_tuple().exponent
    return Currency(code, -exponent if isinstance(exponent, int) else 0)


def ledger_record(body: Json, replayed: bool = False) -> LedgerRecord:
    """A ledger."""
    return LedgerRecord(
        id=body["id"],
        name=body["name"],
        owner_id=body.get("owner_id"),
        metadata=dict(body.get("metadata") or {}),
        currencies=dict(body.get("currencies") or {}),
        created_at=moment(body["created_at"]),
        request_hash="",
        world_shards=int(body.get("world_shards", 1)),
        replayed=replayed,
    )


# Every field of a balance but its identity, version and moment is an amount.
_balance_amounts = tuple(
    each.name
    for each in fields(Balance)
    if each.name not in {"account_id", "currency", "version", "as_of", "at", "effective_at"}
)


def balance(body: Json) -> Balance:
    """An account's balance, in the account's currency."""
    currency = parse_account_id(body["account_id"]).currency
    amounts = {name: minor(body[name], currency) for name in _balance_amounts}
    return Balance(
        account_id=body["account_id"],
        currency=currency,
        version=int(body["version"]),
        as_of=moment(body["as_of"]),
        at=moment(body["at"]) if body.get("at") else None,
        effective_at=moment(body["effective_at"]) if body.get("effective_at") else None,
        **amounts,
    )


def account(body: Json, replayed: bool = False) -> Account:
    """An account; its four totals are its balance turned back from its normal side."""
    shown = balance(body["balance"])
    account_type = AccountType(body["type"])
    inflows, outflows = (shown.total_in, shown.pending_in), (shown.total_out, shown.pending_out)
    debits, credits = (
        (inflows, outflows) if account_type.normal_balance is Side.DEBIT else (outflows, inflows)
    )
    overdraft = body["overdraft"]
    return Account(
        id=body["id"],
        ledger_id=body["ledger_id"],
        name=body["name"],
        type=account_type,
        currency=shown.currency,
        status=AccountStatus(body["status"]),
        overdraft=Overdraft(OverdraftMode(overdraft["mode"]), shown.credit_limit),
        created_at=moment(body["created_at"]),
        updated_at=moment(body["updated_at"]),
        request_hash="",
        code=body.get("code"),
        parent_id=body.get("parent_id"),
        owner_id=body.get("owner_id"),
        metadata=dict(body.get("metadata") or {}),
        system=bool(body.get("system", False)),
        shards=int(body.get("shards", 1)),
        totals=Totals(
            posted_debits=debits[0],
            posted_credits=credits[0],
            pending_debits=debits[1],
            pending_credits=credits[1],
            held=shown.held,
            escrowed=shown.escrowed,
        ),
        # The write guard is what the account may still give: its spendable balance.
        headroom=shown.spendable,
        version=shown.version,
        replayed=replayed,
    )


def entry(body: Json, replayed: bool = False) -> Entry:
    """An entry; each line in its account's currency."""
    lines = tuple(
        Line(
            account_id=line["account_id"],
            side=Side(line["side"]),
            amount=minor(line["amount"], parse_account_id(line["account_id"]).currency),
            currency=line["currency"],
        )
        for line in body["lines"]
    )
    currency = parse_account_id(lines[0].account_id).currency
    return Entry(
        id=body["id"],
        ledger_id=body["ledger_id"],
        kind=EntryKind(body["kind"]),
        status=EntryStatus(body["status"]),
        lines=lines,
        effective_at=moment(body["effective_at"]),
        created_at=moment(body["created_at"]),
        request_hash="",
        description=body.get("description"),
        reference=body.get("reference"),
        metadata=dict(body.get("metadata") or {}),
        expires_at=_optional_moment(body.get("expires_at")),
        pending_id=body.get("pending_id"),
        posting_entry_id=body.get("posting_entry_id"),
        reverses=body.get("reverses"),
        reversed_by=body.get("reversed_by"),
        posted_amount=_optional_minor(body.get("posted_amount"), currency),
        released_amount=_optional_minor(body.get("released_amount"), currency),
        actor=_optional_actor(body.get("actor")),
        posting_rule=_optional_rule_origin(body.get("posting_rule")),
        replayed=replayed,
    )


def _optional_rule_origin(body: Json | None) -> RuleOrigin | None:
    """The rule and event an entry was posted from; null (or absent) for other entries."""
    if body is None:
        return None
    return RuleOrigin(body["event_type"], body["version"], body["event_id"])


def _optional_actor(body: Json | None) -> Actor | None:
    """An entry's actor; null (or absent, from an older API) is none."""
    if body is None:
        return None
    return Actor(**{name: body.get(name) for name in actor_fields})


def page(body: Json, item: Callable[[Json], T]) -> Page[T]:
    """A page of a listing."""
    return Page([item(each) for each in body["items"]], body.get("next_cursor"))


def batch_result(body: Json, replayed: bool = False) -> BatchResult:
    """A batch's entries in operation order, and what netting saved."""
    entries = [entry(each, replayed) for each in body["entries"]]
    return BatchResult(entries, int(body.get("items_saved", 0)), replayed)


def currencies(body: Json) -> list[tuple[Currency, bool]]:
    """A ledger's currencies, each with whether it is built in."""
    return [(Currency(each["code"], each["scale"]), each["builtin"]) for each in body["items"]]


def _row(body: Json) -> dict[str, Any]:
    """What a trial balance line and a balance sheet node say of their account."""
    return {
        "account_id": body["account_id"],
        "name": body["name"],
        "code": body.get("code"),
        "type": AccountType(body["type"]),
        "system": body["system"],
    }


def trial_balance(body: Json) -> TrialBalance:
    """A trial balance."""
    currency = _rendered(body["currency"], body["total_debits"])
    return TrialBalance(
        ledger_id=body["ledger_id"],
        currency=currency,
        lines=tuple(
            TrialBalanceLine(
                **_row(line),
                debit=minor(line["debit"], currency),
                credit=minor(line["credit"], currency),
            )
            for line in body["lines"]
        ),
        total_debits=minor(body["total_debits"], currency),
        total_credits=minor(body["total_credits"], currency),
        balanced=body["balanced"],
        as_of=moment(body["as_of"]),
    )


def _node(body: Json, currency: Currency) -> BalanceSheetNode:
    return BalanceSheetNode(
        **_row(body),
        balance=minor(body["balance"], currency),
        total=minor(body["total"], currency),
        children=tuple(_node(child, currency) for child in body["children"]),
    )


def balance_sheet(body: Json) -> BalanceSheet:
    """A balance sheet."""
    currency = _rendered(body["currency"], body["assets"])
    sums = ("assets", "liabilities", "equity", "revenue", "expenses", "net_income")
    return BalanceSheet(
        ledger_id=body["ledger_id"],
        currency=currency,
        accounts={
            AccountType(name): tuple(_node(node, currency) for node in nodes)
            for name, nodes in body["accounts"].items()
        },
        balanced=body["balanced"],
        as_of=moment(body["as_of"]),
        **{name: minor(body[name], currency) for name in sums},
    )


def reconciliation(body: Json) -> Reconciliation:
    """A reconciliation; a mismatch in its account's currency."""
    mismatches = []
    for each in body["mismatches"]:
        currency = parse_account_id(each["account_id"]).currency
        counted = each["field"] in counted_fields
        mismatches.append(
            Mismatch(
                account_id=each["account_id"],
                field=each["field"],
                expected=int(each["expected"]) if counted else minor(each["expected"], currency),
                actual=int(each["actual"]) if counted else minor(each["actual"], currency),
                kind=each.get("kind", "journal"),
                shard=each.get("shard", 0),
                missing_versions=tuple(each.get("missing_versions", ())),
            )
        )
    totals = {}
    for code, sums in body["totals"].items():
        currency = _rendered(code, sums["posted_debits"])
        totals[code] = CurrencyTotals(
            currency=currency,
            posted_debits=minor(sums["posted_debits"], currency),
            posted_credits=minor(sums["posted_credits"], currency),
            pending_debits=minor(sums["pending_debits"], currency),
            pending_credits=minor(sums["pending_credits"], currency),
            escrowed=minor(sums["escrowed"], currency),
            available=minor(sums["available"], currency),
        )
    return Reconciliation(
        ledger_id=body["ledger_id"],
        ok=body["ok"],
        accounts_checked=body["accounts_checked"],
        entries_checked=body["entries_checked"],
        mismatches=tuple(mismatches),
        totals=totals,
        as_of=moment(body["as_of"]),
        checks=tuple(body.get("checks", ("journal",))),
    )
