"""Plan operations as TransactWriteItems actions; each guard is a named condition clause."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from ledger.model import AccountStatus, OverdraftMode
from ledger.operations import (
    ApplyDelta,
    ClaimUnique,
    EnsureWorld,
    Operation,
    PutNew,
    RegisterCurrency,
    RequireLedger,
    RequireParent,
    SetStatus,
)
from ledger.store.dynamodb.codec import encode, number, string, totals_fields
from ledger.store.keys import item_key, timestamp

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

item_exists = "attribute_exists(pk)"
item_is_new = "attribute_not_exists(pk)"
account_is_active = "#status = :active"
account_is_not_closed = "#status <> :closed"
currency_matches = "#currency = :currency"
ledger_matches = "#ledger_id = :ledger_id"
type_matches = "#type = :type"
headroom_covers_outflow = "(#overdraft_mode = :allow OR #headroom >= :outflow)"
posted_is_zero = "#posted_debits = #posted_credits"
nothing_pending = "#pending_debits = :zero AND #pending_credits = :zero"
currency_has_scale = "#currencies.#code = :scale"
currency_is_free_or_same = f"(attribute_not_exists(#currencies.#code) OR {currency_has_scale})"


# A failed condition hands back the item as it was, so the failure can be explained unread.
_all_old: dict[str, Any] = {"ReturnValuesOnConditionCheckFailure": "ALL_OLD"}


@dataclass
class _Expression:
    """Collects placeholders so every attribute name and value is passed by reference."""

    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, AttributeValueTypeDef] = field(default_factory=dict)

    def name(self, *attributes: str) -> None:
        for attribute in attributes:
            self.names[f"#{attribute}"] = attribute

    def value(self, placeholder: str, value: AttributeValueTypeDef) -> None:
        self.values[f":{placeholder}"] = value

    def arguments(self) -> dict[str, Any]:
        arguments: dict[str, Any] = {}
        if self.names:
            arguments["ExpressionAttributeNames"] = self.names
        if self.values:
            arguments["ExpressionAttributeValues"] = self.values
        return arguments


def _all(*clauses: str) -> str:
    return " AND ".join(clauses)


def render(operation: Operation, table_name: str) -> TransactWriteItemTypeDef:
    """One TransactWriteItems action; failed conditions return the item as it was."""
    return cast("TransactWriteItemTypeDef", _action(operation, table_name))


def _action(operation: Operation, table_name: str) -> dict[str, Any]:
    key = {name: string(value) for name, value in item_key(operation.target).items()}
    base: dict[str, Any] = {"TableName": table_name}
    match operation:
        case PutNew(record=record) | ClaimUnique(claim=record):
            put = {**base, "Item": encode(record), "ConditionExpression": item_is_new}
            return {"Put": {**put, **_all_old}}
        case EnsureWorld(account=world):
            return {"Update": {**base, "Key": key, **_create_unless_exists(encode(world))}}
        case RequireLedger() | RequireParent():
            condition, expression = _requirement(operation)
            check = {**base, "Key": key, "ConditionExpression": condition}
            return {"ConditionCheck": {**check, **expression.arguments(), **_all_old}}
        case ApplyDelta():
            return {"Update": {**base, "Key": key, **_delta(operation), **_all_old}}
        case SetStatus():
            return {"Update": {**base, "Key": key, **_status(operation), **_all_old}}
        case _:
            return {"Update": {**base, "Key": key, **_currency(operation), **_all_old}}


def _create_unless_exists(item: dict[str, AttributeValueTypeDef]) -> dict[str, Any]:
    """Set every attribute only where missing: creates the item once, then changes nothing."""
    expression = _Expression()
    assignments = []
    for index, (attribute, value) in enumerate(
        (name, value) for name, value in item.items() if name not in ("pk", "sk")
    ):
        expression.names[f"#a{index}"] = attribute
        expression.value(f"a{index}", value)
        assignments.append(f"#a{index} = if_not_exists(#a{index}, :a{index})")
    return {"UpdateExpression": "SET " + ", ".join(assignments), **expression.arguments()}


def _requirement(operation: RequireLedger | RequireParent) -> tuple[str, _Expression]:
    expression = _Expression()
    if isinstance(operation, RequireParent):
        expression.name("ledger_id", "type")
        expression.value("ledger_id", string(operation.ledger_id))
        expression.value("type", string(operation.type))
        return _all(item_exists, ledger_matches, type_matches), expression
    currency = operation.registered_currency
    if currency is None:
        return item_exists, expression
    expression.name("currencies")
    expression.names["#code"] = currency.code
    expression.value("scale", number(currency.scale))
    return _all(item_exists, currency_has_scale), expression


def _delta(delta: ApplyDelta) -> dict[str, Any]:
    expression = _Expression()
    expression.name("status", "currency", "ledger_id", "version", "last_entry_id", "updated_at")
    expression.value("active", string(AccountStatus.ACTIVE))
    expression.value("currency", string(delta.currency))
    expression.value("ledger_id", string(delta.ledger_id))
    clauses = [item_exists, account_is_active, currency_matches, ledger_matches]
    if delta.outflow > 0:
        expression.name("overdraft_mode", "headroom")
        expression.value("allow", string(OverdraftMode.ALLOW))
        expression.value("outflow", number(delta.outflow))
        clauses.append(headroom_covers_outflow)
    additions = ["#version :one"]
    expression.value("one", number(1))
    changes = {name: getattr(delta.totals, name) for name in totals_fields}
    changes["headroom"] = delta.headroom
    for name, amount in changes.items():
        if amount != 0:
            expression.name(name)
            expression.value(name, number(amount))
            additions.append(f"#{name} :{name}")
    expression.value("entry_id", string(delta.entry_id))
    expression.value("now", string(timestamp(delta.at)))
    return {
        "ConditionExpression": _all(*clauses),
        "UpdateExpression": "SET #last_entry_id = :entry_id, #updated_at = :now "
        "ADD " + ", ".join(additions),
        **expression.arguments(),
    }


def _status(change: SetStatus) -> dict[str, Any]:
    expression = _Expression()
    expression.name("status", "version", "updated_at")
    expression.value("closed", string(AccountStatus.CLOSED))
    expression.value("target", string(change.status))
    expression.value("now", string(timestamp(change.at)))
    expression.value("one", number(1))
    clauses = [item_exists, account_is_not_closed]
    if change.status is AccountStatus.CLOSED:
        expression.name("posted_debits", "posted_credits", "pending_debits", "pending_credits")
        expression.value("zero", number(0))
        clauses += [posted_is_zero, nothing_pending]
    return {
        "ConditionExpression": _all(*clauses),
        "UpdateExpression": "SET #status = :target, #updated_at = :now ADD #version :one",
        **expression.arguments(),
    }


def _currency(registration: RegisterCurrency) -> dict[str, Any]:
    expression = _Expression()
    expression.name("currencies")
    expression.names["#code"] = registration.currency.code
    expression.value("scale", number(registration.currency.scale))
    return {
        "ConditionExpression": _all(item_exists, currency_is_free_or_same),
        "UpdateExpression": "SET #currencies.#code = :scale",
        **expression.arguments(),
    }
